// Package service starts the binaries' own systemd units from the
// one-line setup commands (probity-agent enrol, probity-collector setup):
// whether it can, and enabling and (re)starting a unit with an error that
// says where to look when it fails.
package service

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// systemdRunning is where systemd says it is the init system.
const systemdRunning = "/run/systemd/system"

// CanManage says whether this process can start units: systemd is the
// init system and the process is root. why says what is missing.
func CanManage() (ok bool, why string) {
	if _, err := os.Stat(systemdRunning); err != nil {
		return false, "systemd is not running here"
	}
	if os.Geteuid() != 0 {
		return false, "only root can start services"
	}
	return true, ""
}

// Restart enables unit and restarts it, so a unit that was waiting (an
// agent's, for its credential) or running an older configuration starts
// afresh.
func Restart(ctx context.Context, unit string) error {
	for _, a := range [][]string{{"enable", unit}, {"restart", unit}} {
		if out, err := exec.CommandContext(ctx, "systemctl", a...).CombinedOutput(); err != nil {
			return fmt.Errorf("systemctl %s %s: %v: %s\nSee `journalctl -u %s`", a[0], unit, err, strings.TrimSpace(string(out)), unit)
		}
	}
	return nil
}

// Active returns nil when unit is running, else what systemctl says.
func Active(ctx context.Context, unit string) error {
	out, err := exec.CommandContext(ctx, "systemctl", "is-active", unit).Output()
	if err != nil {
		return fmt.Errorf("%s did not stay running (%s): see `journalctl -u %s -n 50`", unit, strings.TrimSpace(string(out)), unit)
	}
	return nil
}
