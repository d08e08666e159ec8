package ping

import (
	"slices"
	"testing"
	"time"

	"github.com/probity-edu/probity/internal/config/cfgerr"
)

func errPaths(err error) []string { return cfgerr.Paths(err) }

func TestValidate(t *testing.T) {
	valid := Defaults
	valid.Targets = []Target{{Host: "192.0.2.1", Role: "gateway"}, {Host: "one.one.one.one", Role: "internet"}, {Host: "::1"}}
	for _, tc := range []struct {
		name string
		edit func(c *Config)
		want []string
	}{
		{"valid", func(*Config) {}, nil},
		{"no targets", func(c *Config) { c.Targets = nil }, []string{"targets"}},
		{"bad targets", func(c *Config) {
			c.Targets = []Target{{Host: ""}, {Host: "bad host", Role: "printer"}, {Host: "10.0.0.1:80"}}
		}, []string{"targets[0].host", "targets[1].host", "targets[1].role", "targets[2].host"}},
		{"numbers", func(c *Config) { c.Count, c.Interval, c.Timeout, c.Size = 0, 0, -time.Second, 8 },
			[]string{"count", "interval", "size", "timeout"}},
		{"mode", func(c *Config) { c.Mode = "raw" }, []string{"mode"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid
			c.Targets = slices.Clone(valid.Targets)
			tc.edit(&c)
			if got := errPaths(c.Validate()); !slices.Equal(got, tc.want) {
				t.Errorf("error paths = %v, want %v (%v)", got, tc.want, c.Validate())
			}
		})
	}
}

func TestTargetTimeout(t *testing.T) {
	c := Defaults
	if got, want := c.TargetTimeout(), 4*time.Second; got != want {
		t.Errorf("default timeout = %s, want %s (10 x 200ms + 2s)", got, want)
	}
	c.Count, c.Interval = 100, 10*time.Millisecond
	if got, want := c.TargetTimeout(), 3*time.Second; got != want {
		t.Errorf("timeout follows count and interval: %s, want %s", got, want)
	}
	c.Timeout = 7 * time.Second
	if got := c.TargetTimeout(); got != c.Timeout {
		t.Errorf("explicit timeout ignored: %s", got)
	}
}
