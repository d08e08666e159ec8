// Command probity-agent runs Probity's probes at a school on a schedule and
// ships the results to a probity-collector, keeping them on disk until the
// collector has them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/probity-edu/probity/agent/settings"
	"github.com/probity-edu/probity/internal/config"
	"github.com/probity-edu/probity/internal/version"
)

const usage = `probity-agent measures a school network and ships the results to a Probity collector.

Usage:
  probity-agent run     [--config FILE]          run the probes on their schedule (the service)
  probity-agent check   [--config FILE]          run every probe once and print a table
  probity-agent enrol   --collector URL --token T [--config FILE]
                                                 exchange a one-time token for this agent's credential
  probity-agent version                          print build information

Common flags:
  --config FILE        agent configuration (default /etc/probity/agent.yaml)
  --config.check       validate the configuration, print it with secrets redacted, and exit
  --log.level LEVEL    debug, info, warn or error
  --log.format FORMAT  auto, text or json
  --state_dir DIR      where the credential and the spool live

Every key of the configuration file can also be set as PROBITY_<KEY> with dots
as underscores, e.g. PROBITY_LOG_LEVEL=debug.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, rest := args[0], args[1:]
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd {
	case "version", "--version":
		fmt.Fprintln(stdout, version.String("probity-agent"))
		return 0
	case "run":
		err = cmdRun(ctx, rest, stdout, stderr)
	case "check":
		err = cmdCheck(ctx, rest, stdout, stderr)
	case "enrol", "enroll":
		err = cmdEnrol(ctx, rest, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "probity-agent: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	var ee exitError
	if errors.As(err, &ee) {
		return int(ee)
	}
	if err != nil {
		fmt.Fprintf(stderr, "probity-agent %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// exitError ends the command with a status and nothing more printed.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// common holds what every command reads: flags and the loaded configuration.
type common struct {
	flags  *pflag.FlagSet
	path   *string
	check  *bool
	config settings.Agent
}

func newCommon(name string) *common {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	c := &common{flags: fs}
	c.path = fs.String("config", "/etc/probity/agent.yaml", "agent configuration file")
	c.check = fs.Bool("config.check", false, "validate and print the effective configuration, then exit")
	fs.String("log.level", "", "debug, info, warn or error")
	fs.String("log.format", "", "auto, text or json")
	fs.String("state_dir", "", "state directory (credential and spool)")
	return c
}

// load parses the flags and loads the configuration. It returns done=true
// when --config.check handled the command.
func (c *common) load(args []string, stdout io.Writer) (done bool, err error) {
	if err := c.flags.Parse(args); err != nil {
		return false, err
	}
	c.config = settings.Defaults()
	if err := config.Load(*c.path, &c.config, config.Options{Flags: c.flags}); err != nil {
		return false, fmt.Errorf("invalid configuration:\n%w", err)
	}
	if *c.check {
		out, err := config.Print(c.config)
		if err != nil {
			return false, err
		}
		fmt.Fprintf(stdout, "# %s is valid; effective configuration (secrets redacted):\n%s", *c.path, out)
		return true, nil
	}
	return false, nil
}
