package wan

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/config/cfgerr"
)

func errPaths(err error) []string { return cfgerr.Paths(err) }

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(c *Config)
		want []string
	}{
		{"defaults", func(*Config) {}, nil},
		{"ip target", func(c *Config) { c.Target = "192.0.2.1:443" }, nil},
		{"ipv6 target", func(c *Config) { c.Target = "[2001:db8::1]:443" }, nil},
		{"name target", func(c *Config) { c.Target = "probity.example.org:443" }, nil},
		{"no port", func(c *Config) { c.Target = "192.0.2.1" }, []string{"target"}},
		{"bare ipv6", func(c *Config) { c.Target = "2001:db8::1" }, []string{"target"}},
		{"port 0", func(c *Config) { c.Target = "192.0.2.1:0" }, []string{"target"}},
		{"port too big", func(c *Config) { c.Target = "192.0.2.1:70000" }, []string{"target"}},
		{"bad host", func(c *Config) { c.Target = "bad host:443" }, []string{"target"}},
		{"url", func(c *Config) { c.Target = "https://probity.example.org" }, []string{"target"}},
		{"every too short", func(c *Config) { c.Every = 50 * time.Millisecond }, []string{"every"}},
		{"every too long", func(c *Config) { c.Every = 2 * time.Minute }, []string{"every"}},
		{"every zero", func(c *Config) { c.Every = 0 }, []string{"every"}},
		{"connect timeout", func(c *Config) { c.ConnectTimeout = time.Millisecond }, []string{"connect_timeout"}},
		{"all bad", func(c *Config) { c.Target, c.Every, c.ConnectTimeout = ":", -time.Second, time.Hour },
			[]string{"connect_timeout", "every", "target"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Defaults
			tc.edit(&c)
			if got := errPaths(c.Validate()); !slices.Equal(got, tc.want) {
				t.Errorf("error paths = %v, want %v (%v)", got, tc.want, c.Validate())
			}
		})
	}
}

func TestNewRejectsInvalid(t *testing.T) {
	c := Defaults
	c.Every = 0
	if _, err := New(c, probe.Deps{}); err == nil || !strings.Contains(err.Error(), "every") {
		t.Errorf("New with every=0: %v, want an error naming every", err)
	}
}

func TestTargetFromCollector(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"https://probity.example.org", "probity.example.org:443"},
		{"http://192.0.2.5", "192.0.2.5:80"},
		{"http://192.0.2.5:8470", "192.0.2.5:8470"},
		{"https://[2001:db8::5]", "[2001:db8::5]:443"},
	} {
		p, err := New(Defaults, probe.Deps{Collector: &probe.Collector{URL: tc.url}})
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if p.Target() != tc.want {
			t.Errorf("%s: target %q, want %q", tc.url, p.Target(), tc.want)
		}
	}
	// A configured target wins over the collector.
	c := Defaults
	c.Target = "192.0.2.9:53"
	p, err := New(c, probe.Deps{Collector: &probe.Collector{URL: "https://probity.example.org"}})
	if err != nil || p.Target() != c.Target {
		t.Errorf("configured target: %q, %v", p.Target(), err)
	}
	if _, err := New(Defaults, probe.Deps{Collector: &probe.Collector{URL: "ftp://x"}}); err == nil {
		t.Error("a collector URL without a port or known scheme was accepted")
	}
}

// Before enrolment there is no collector: the probe builds (so the other
// probes of `check` still run) and Run says why it cannot measure.
func TestRunWithoutTarget(t *testing.T) {
	p, err := New(Defaults, probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := p.Run(ctx); err == nil || !strings.Contains(err.Error(), "enrol") {
		t.Errorf("Run without a target: %v, want an error saying to enrol or set the target", err)
	}
}

func TestRunNeedsAWindow(t *testing.T) {
	c := Defaults
	c.Target = "127.0.0.1:1"
	p, err := New(c, probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("Run without a deadline: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := p.Run(ctx); err == nil || !strings.Contains(err.Error(), "longer interval") {
		t.Errorf("Run with a 2s deadline: %v, want an error asking for a longer interval", err)
	}
}
