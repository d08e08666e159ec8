package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/probity-edu/probity/collector/auth"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/privilege"
	"github.com/probity-edu/probity/internal/service"
)

// cmdSetup is the first run after installing the package: make the store,
// the first trust administrator (when there are no users yet) and,
// optionally, the trust; start the service; and say where to sign in.
// Run again, it changes nothing that exists.
func cmdSetup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newCommon("setup")
	trust := c.flags.String("trust", "", "create this trust if it does not exist (a single school is a trust of one)")
	admin := c.flags.String("admin", "admin", "name of the first trust administrator, created only while there are no users")
	unit := c.flags.String("service", "probity-collector.service", "systemd unit to enable and (re)start; empty: leave the service alone")
	if done, err := c.load(args, stdout); done || err != nil {
		return err
	}
	step := func(format string, a ...any) { fmt.Fprintf(stdout, "✓ "+format+"\n", a...) }
	warn := func(format string, a ...any) { fmt.Fprintf(stdout, "! "+format+"\n", a...) }
	if _, err := os.Stat(*c.path); err == nil {
		step("Configuration %s is valid.", *c.path)
	} else {
		step("No %s: the defaults apply (configs/collector.yaml documents every key).", *c.path)
	}

	c.keepRoot = true
	st, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	password, err := setupStore(ctx, st, *trust, *admin, step)
	st.Close()
	if err != nil {
		return err
	}
	if c.config.Store.Driver == "sqlite" {
		if err := giveToOwner(c.config.DataDir); err != nil {
			return err
		}
		step("Store %s is ready.", c.config.DBPath())
	} else {
		step("Store (%s) is ready.", c.config.Store.Driver)
	}

	url := c.config.BaseURL()
	if *unit != "" {
		if ok, why := service.CanManage(); !ok {
			warn("Not starting %s: %s. Start it with `sudo systemctl enable --now %s`, or run `probity-collector serve --config %s`.",
				*unit, why, *unit, *c.path)
		} else {
			if err := service.Restart(ctx, *unit); err != nil {
				return err
			}
			if err := waitHealthy(ctx, "http://"+c.config.Listen+"/healthz", 20*time.Second); err != nil {
				return fmt.Errorf("%s started but %s/healthz does not answer: %v\nSee `journalctl -u %s -n 50`", *unit, c.config.Listen, err, *unit)
			}
			step("%s enabled and answering on %s.", *unit, c.config.Listen)
		}
	}

	fmt.Fprintf(stdout, "\nSign in at %s/login", url)
	if password != "" {
		fmt.Fprintf(stdout, " as %s with password %s\n(shown only this once; change it with `probity-collector user passwd --name %s`).\n", *admin, password, *admin)
	} else {
		fmt.Fprintf(stdout, " with an existing user.\n")
	}
	fmt.Fprintf(stdout, `
Next:
  probity-collector site add --trust %q --name "Oak Primary" --phase primary --urn 123456
  probity-collector agent token --site oak-primary      # then, on the school's agent:
  sudo probity-agent enrol --collector %s --token <token>
`, orDefault(*trust, "Your Trust"), url)
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(c.config.Listen, "127.") {
		warn("Agents will send credentials over plain HTTP: put a TLS reverse proxy in front and set public_url.")
	}
	return nil
}

// setupStore creates the trust and the first administrator as needed and
// returns the administrator's generated password ("" when none was made).
func setupStore(ctx context.Context, st store.Store, trust, admin string, step func(string, ...any)) (string, error) {
	if trust != "" {
		if _, err := st.TrustByName(ctx, trust); errors.Is(err, store.ErrNotFound) {
			if _, err := st.CreateTrust(ctx, trust); err != nil {
				return "", err
			}
			step("Trust %q created.", trust)
		} else if err != nil {
			return "", err
		} else {
			step("Trust %q exists.", trust)
		}
	}
	users, err := st.Users(ctx)
	if err != nil {
		return "", err
	}
	if len(users) > 0 {
		step("%d users exist; no administrator created (add people with `probity-collector user add`).", len(users))
		return "", nil
	}
	if admin == "" {
		return "", fmt.Errorf("--admin must name the first administrator")
	}
	pw := auth.GeneratePassword()
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return "", err
	}
	// No trust: the collector's operator, who sees every trust.
	if _, err := st.CreateUser(ctx, store.User{Name: admin, Role: store.RoleTrustAdmin, PasswordHash: hash}); err != nil {
		return "", err
	}
	step("Trust administrator %q created (every trust).", admin)
	return pw, nil
}

// giveToOwner hands the files root created in the data directory to the
// directory's owner, the service's user.
func giveToOwner(dir string) error {
	owner, ok, err := privilege.ServiceOwner(dir)
	if err != nil || !ok {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if o, err := privilege.OwnerOf(p); err == nil && o.UID == 0 {
			if err := privilege.Chown(p, owner); err != nil {
				return fmt.Errorf("giving %s to the service user: %w", p, err)
			}
		}
	}
	return nil
}

func waitHealthy(ctx context.Context, url string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		last = err
		select {
		case <-ctx.Done():
			return last
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
