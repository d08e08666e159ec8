// Package host reports the health of the machine the agent runs on (CPU,
// memory, disk, load, uptime, processes, temperature, link speed) with
// gopsutil, so that a slow measurement can be told apart from a busy or
// poorly connected probe. One `host` point per run, plus one per extra
// disk path.
package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/config/cfgerr"
	"github.com/probity-edu/probity/internal/point"
)

// cpuSample is how long CPU use is sampled for.
const cpuSample = 200 * time.Millisecond

// Config is the `host` section of a probe.
type Config struct {
	DiskPaths []string `yaml:"disk_paths"` // file systems to report, by a path on each
	NIC       string   `yaml:"nic"`        // "" = the default route's interface, else the first up non-loopback one
}

// Defaults are the values a `host` section starts from.
var Defaults = Config{DiskPaths: []string{"/"}}

var nicRe = regexp.MustCompile(`^[^/\s:]{1,15}$`)

// Validate checks the section; paths are relative to it (disk_paths[0]).
func (c Config) Validate() error {
	var errs []error
	for i, p := range c.DiskPaths {
		if !strings.HasPrefix(p, "/") {
			errs = append(errs, cfgerr.Errorf(fmt.Sprintf("disk_paths[%d]", i), "must be an absolute path, not %q", p))
		}
	}
	if c.NIC != "" && (!nicRe.MatchString(c.NIC) || c.NIC == "." || c.NIC == "..") {
		errs = append(errs, cfgerr.Errorf("nic", "%q is not an interface name", c.NIC))
	}
	return errors.Join(errs...)
}

// Prober samples this machine.
type Prober struct {
	cfg      Config
	hostname string
	log      *slog.Logger
	now      func() time.Time
	// Where link facts are read; tests point them at fixtures.
	procRoute, sysNet string
}

var _ probe.Probe = (*Prober)(nil)

// New builds a Prober; the host tag is the hostname at this moment.
func New(c Config, d probe.Deps) (*Prober, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("host: %w", err)
	}
	d = d.WithDefaults()
	name, err := os.Hostname()
	if err != nil {
		return nil, fmt.Errorf("host: hostname: %w", err)
	}
	c.DiskPaths = append([]string(nil), c.DiskPaths...)
	return &Prober{cfg: c, hostname: name, log: d.Log, now: d.Now,
		procRoute: "/proc/net/route", sysNet: "/sys/class/net"}, nil
}

// Run samples the machine. A metric that cannot be read is left out and
// logged; Run fails only when nothing could be read at all.
func (p *Prober) Run(ctx context.Context) ([]point.Point, error) {
	start := p.now()
	fields, errs := p.sample(ctx)
	var pts []point.Point
	for i, path := range p.cfg.DiskPaths {
		pct, err := diskPct(ctx, path)
		if err != nil {
			errs = append(errs, fmt.Errorf("disk usage of %s: %w", path, err))
			continue
		}
		if i == 0 {
			fields["disk_pct"] = pct
			continue
		}
		pts = append(pts, point.New("host", map[string]string{"host": p.hostname, "path": path},
			map[string]any{"disk_pct": pct}, start))
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("host: sampling: %w", err)
	}
	if len(fields) == 0 {
		return pts, fmt.Errorf("host: nothing could be read: %w", errors.Join(errs...))
	}
	for _, err := range errs {
		p.log.Warn("host: metric left out", "err", err)
	}
	main := point.New("host", map[string]string{"host": p.hostname}, fields, start)
	return append([]point.Point{main}, pts...), nil
}
