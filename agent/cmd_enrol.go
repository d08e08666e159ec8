package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/probity-edu/probity/agent/enrol"
	"github.com/probity-edu/probity/internal/privilege"
	"github.com/probity-edu/probity/internal/service"
	"github.com/probity-edu/probity/internal/version"
)

// cmdEnrol is the one line a technician runs after installing the
// package: validate the configuration, exchange the token for a
// credential, run every probe once as the service would, and start the
// service, saying what happened at each step and what to do when one
// fails.
func cmdEnrol(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newCommon("enrol")
	collector := c.flags.String("collector", "", "collector base URL, e.g. https://probity.trust.example")
	token := c.flags.String("token", "", "one-time enrolment token from `probity-collector agent token --site S`")
	noCheck := c.flags.Bool("no-check", false, "do not run every probe once after enrolling")
	unit := c.flags.String("service", "probity-agent.service", "systemd unit to enable and (re)start after enrolling; empty: leave the service alone")
	if done, err := c.load(args, stdout); done || err != nil {
		return err
	}
	if *collector == "" || *token == "" {
		return fmt.Errorf("both --collector URL and --token T are required")
	}
	step := func(format string, a ...any) { fmt.Fprintf(stdout, "✓ "+format+"\n", a...) }
	warn := func(format string, a ...any) { fmt.Fprintf(stdout, "! "+format+"\n", a...) }
	step("Configuration %s is valid (%d probes).", *c.path, len(c.config.Probes))

	client, err := httpClient(c.config.Collector)
	if err != nil {
		return err
	}
	cred, err := enrol.Enrol(ctx, client, *collector, *token, hostname(), version.Version)
	if err != nil {
		return fmt.Errorf("%w\nCheck the collector URL opens from this machine (curl %s/healthz) and ask for a new token if this one was used or has expired", err, *collector)
	}
	state := c.config.StateDir
	if err := privilege.EnsureDir(state, 0o750); err != nil {
		return fmt.Errorf("state_dir: %w", err)
	}
	path := c.config.CredentialPath()
	if err := enrol.Save(path, cred); err != nil {
		return err
	}
	// Run by root for a service that runs as its own user: the credential
	// is that user's (the owner of state_dir).
	owner, asOwner, err := privilege.ServiceOwner(state)
	if err != nil {
		return fmt.Errorf("state_dir: %w", err)
	}
	if asOwner {
		if err := privilege.Chown(path, owner); err != nil {
			return fmt.Errorf("giving the credential to the service user: %w", err)
		}
	}
	step("Enrolled as agent %s for site %s (%s); credential saved to %s (mode 0600).", cred.AgentID, cred.Site, cred.SiteName, path)

	if !*noCheck {
		fmt.Fprintf(stdout, "\nRunning every probe once, as the service will:\n")
		switch err := runCheck(ctx, *c.path, owner, asOwner, stdout, stderr); {
		case err == nil:
			step("Every probe measured.")
		default:
			warn("Some probes could not measure (%v): see the table above, fix %s, and try `probity-agent check --config %s`. The service runs the others meanwhile.", err, *c.path, *c.path)
		}
	}

	if *unit == "" {
		return nil
	}
	if ok, why := service.CanManage(); !ok {
		warn("Not starting %s: %s. Start it with `sudo systemctl enable --now %s`, or run `probity-agent run --config %s` under your own supervisor.", *unit, why, *unit, *c.path)
		return nil
	}
	if err := service.Restart(ctx, *unit); err != nil {
		return err
	}
	// Give it a moment to fail on start, if it will.
	time.Sleep(2 * time.Second)
	if err := service.Active(ctx, *unit); err != nil {
		return err
	}
	step("%s enabled and running; results reach the collector within a minute (`journalctl -u %s -f` to watch).", *unit, *unit)
	return nil
}

// runCheck runs `probity-agent check` in a child process, as the
// service's user when asOwner, so what it can and cannot measure is what
// the service will (ICMP permissions, file access).
func runCheck(ctx context.Context, config string, owner privilege.Owner, asOwner bool, stdout, stderr io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, self, "check", "--config", config, "--log.level", "warn")
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if asOwner {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(owner.UID), Gid: uint32(owner.GID)}}
	}
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return fmt.Errorf("check exited with %d", ee.ExitCode())
	}
	return err
}
