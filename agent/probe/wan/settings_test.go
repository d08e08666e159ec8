package wan_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/probe/wan"
	"github.com/probity-edu/probity/agent/settings"
	"github.com/probity-edu/probity/internal/config"
)

// The `wan` section as agent.yaml carries it: defaults applied under
// whatever is set, and errors named by their path in the file.
func loadAgent(t *testing.T, yaml string) (settings.Agent, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "agent.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	a := settings.Defaults()
	err := config.Load(p, &a, config.Options{})
	return a, err
}

func TestSettingsSection(t *testing.T) {
	a, err := loadAgent(t, "probes:\n  - name: wan\n    kind: wan\n")
	if err != nil {
		t.Fatal(err)
	}
	p := a.Probes[0]
	if p.WAN == nil || *p.WAN != wan.Defaults || p.Interval != time.Minute {
		t.Errorf("kind wan without a section: interval %s, section %+v; want 1m and the defaults", p.Interval, p.WAN)
	}

	a, err = loadAgent(t, "probes:\n  - name: wan\n    kind: wan\n    wan:\n      target: 192.0.2.1:443\n      whoami: false\n")
	if err != nil {
		t.Fatal(err)
	}
	if c := a.Probes[0].WAN; c.Target != "192.0.2.1:443" || c.Whoami || c.Every != time.Second || c.ConnectTimeout != time.Second {
		t.Errorf("section %+v: want the target and whoami set, the rest defaulted", c)
	}
}

func TestSettingsErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"probes:\n  - name: wan\n    kind: wan\n    wan:\n      target: 192.0.2.1\n", "probes[0].wan.target: \"192.0.2.1\" is not host:port"},
		{"probes:\n  - name: wan\n    kind: wan\n    wan:\n      every: 10ms\n", "probes[0].wan.every: must be between 100ms and 1m"},
		{"probes:\n  - name: wan\n    kind: wan\n    interval: 5s\n", "probes[0].interval: must be at least 10s for kind wan"},
		{"probes:\n  - name: wan\n    kind: wan\n    wan:\n      every: 30s\n", "probes[0].interval: must be at least 1m34s for kind wan"},
		{"probes:\n  - name: wan\n    kind: wan\n    timeout: 5s\n", "probes[0].timeout: must be 0 (the interval) or at least 10s"},
		{"probes:\n  - name: wan\n    kind: ping\n    wan: {}\n", "probes[0].wan: section \"wan\" does not match kind \"ping\""},
	} {
		_, err := loadAgent(t, tc.yaml)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant it to contain %q", tc.yaml, err, tc.want)
		}
	}
	_, err := loadAgent(t, "probes:\n  - name: x\n    kind: wna\n")
	if err == nil || !regexp.MustCompile(`known: [a-z, ]*\bwan\b`).MatchString(err.Error()) {
		t.Errorf("unknown kind: %v, want wan among the known kinds", err)
	}
}
