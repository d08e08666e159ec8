package service

import (
	"os"
	"testing"
)

// TestCanManage agrees with the machine: no systemd, or not root, says
// which; both, and it may manage units.
func TestCanManage(t *testing.T) {
	ok, why := CanManage()
	_, err := os.Stat(systemdRunning)
	switch {
	case err != nil:
		if ok || why != "systemd is not running here" {
			t.Fatalf("without systemd: ok=%v why=%q", ok, why)
		}
	case os.Geteuid() != 0:
		if ok || why != "only root can start services" {
			t.Fatalf("not root: ok=%v why=%q", ok, why)
		}
	default:
		if !ok || why != "" {
			t.Fatalf("root under systemd: ok=%v why=%q", ok, why)
		}
	}
}
