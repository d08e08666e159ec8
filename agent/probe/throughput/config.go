package throughput

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/probity-edu/probity/agent/snmp"
	"github.com/probity-edu/probity/internal/config"
	"github.com/probity-edu/probity/internal/config/cfgerr"
)

// Config is the `throughput` section of a probe.
type Config struct {
	// Server is a Probity speed-test server's base URL (the collector, or
	// `probity-collector speedtest` at the network edge). Empty means the
	// collector the agent ships to. For method iperf3 it is host:port.
	Server string `yaml:"server"`
	// Name labels the server in results (tag `server`); default the host.
	Name string `yaml:"name"`
	// Method is http (a Probity server) or iperf3 (an iperf3 server, through
	// the iperf3 program).
	Method     string   `yaml:"method"`
	Directions []string `yaml:"directions"`
	// Streams is the number of parallel TCP streams of the multi-stream
	// test; SingleStream adds a one-stream test in each direction.
	Streams      int           `yaml:"streams"`
	SingleStream bool          `yaml:"single_stream"`
	Duration     time.Duration `yaml:"duration"`
	// SampleEvery is how often the rate is sampled; Grace is the least
	// ramp-up discarded (docs/throughput.md).
	SampleEvery time.Duration `yaml:"sample_every"`
	Grace       time.Duration `yaml:"grace"`
	// LatencyTarget is a host:port whose TCP handshake time is the
	// round-trip time before (idle) and during (loaded) each test; default
	// the server's.
	LatencyTarget string        `yaml:"latency_target"`
	LatencyEvery  time.Duration `yaml:"latency_every"`
	// DailyBudget bounds the bytes this probe moves per day; a test that
	// would pass it is skipped and reported.
	DailyBudget config.Bytes `yaml:"daily_budget"`
	// Interface is the agent's network interface to the server, for the
	// NIC-speed check; default the one the route to the server uses.
	Interface string `yaml:"interface"`
	// WAN reads the school's internet link counters around each test to
	// tell other traffic on the line apart (cross traffic).
	WAN WAN `yaml:"wan"`
}

// WAN names where the internet link's octet counters are read.
type WAN struct {
	// Interface is the interface carrying the school's internet traffic:
	// a local one when the agent runs on the router (or sees a mirror), or
	// the router's own, by ifName, when SNMP is set.
	Interface string `yaml:"interface"`
	// SNMP reads the router's interface counters (IF-MIB ifHCInOctets and
	// ifHCOutOctets) instead of a local interface.
	SNMP *snmp.Target `yaml:"snmp,omitempty"`
}

// Limits the issue sets and the config enforces.
const (
	MaxStreams  = 16
	MaxDuration = 60 * time.Second
)

// Methods are the kinds of server the probe can test against.
var Methods = []string{"http", "iperf3"}

// Defaults are the values a `throughput` section starts from.
var Defaults = Config{
	Method:       "http",
	Directions:   []string{"download", "upload"},
	Streams:      4,
	SingleStream: true,
	Duration:     10 * time.Second,
	SampleEvery:  100 * time.Millisecond,
	Grace:        time.Second,
	LatencyEvery: 250 * time.Millisecond,
	DailyBudget:  20 << 30,
}

// Validate checks the section; paths are relative to it.
func (c Config) Validate() error {
	var errs []error
	if !slices.Contains(Methods, c.Method) {
		errs = append(errs, cfgerr.Errorf("method", "must be http or iperf3, not %q", c.Method))
	}
	switch {
	case c.Method == "iperf3":
		if _, _, err := hostPort(c.Server, 5201); err != nil || c.Server == "" {
			errs = append(errs, cfgerr.Errorf("server", "method iperf3 needs host or host:port of an iperf3 server, not %q", c.Server))
		}
	case c.Server != "":
		if u, err := url.Parse(c.Server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, cfgerr.Errorf("server", "must be the http:// or https:// URL of a Probity speed-test server (or empty for the collector), not %q", c.Server))
		}
	}
	if len(c.Directions) == 0 {
		errs = append(errs, cfgerr.Errorf("directions", "at least one of download, upload"))
	}
	for i, d := range c.Directions {
		if d != "download" && d != "upload" {
			errs = append(errs, cfgerr.Errorf(fmt.Sprintf("directions[%d]", i), "must be download or upload, not %q", d))
		} else if slices.Index(c.Directions, d) != i {
			errs = append(errs, cfgerr.Errorf(fmt.Sprintf("directions[%d]", i), "%s is listed twice", d))
		}
	}
	if c.Streams < 1 || c.Streams > MaxStreams {
		errs = append(errs, cfgerr.Errorf("streams", "must be between 1 and %d, not %d", MaxStreams, c.Streams))
	}
	if c.Duration < 2*time.Second || c.Duration > MaxDuration {
		errs = append(errs, cfgerr.Errorf("duration", "must be between 2s and %s per direction, not %s", MaxDuration, c.Duration))
	}
	if c.SampleEvery < 10*time.Millisecond || c.SampleEvery > 100*time.Millisecond {
		errs = append(errs, cfgerr.Errorf("sample_every", "must be between 10ms and 100ms, not %s", c.SampleEvery))
	}
	if c.Grace < 0 || c.Grace > c.Duration/2 {
		errs = append(errs, cfgerr.Errorf("grace", "must be between 0 and half the duration (%s), not %s", c.Duration/2, c.Grace))
	}
	if c.LatencyTarget != "" {
		if _, _, err := net.SplitHostPort(c.LatencyTarget); err != nil {
			errs = append(errs, cfgerr.Errorf("latency_target", "must be host:port, not %q", c.LatencyTarget))
		}
	}
	if c.LatencyEvery < 50*time.Millisecond || c.LatencyEvery > 5*time.Second {
		errs = append(errs, cfgerr.Errorf("latency_every", "must be between 50ms and 5s, not %s", c.LatencyEvery))
	}
	if c.WAN.SNMP != nil {
		if c.WAN.Interface == "" {
			errs = append(errs, cfgerr.Errorf("wan.interface", "required with wan.snmp: the router's WAN interface by ifName"))
		}
		t := c.WAN.SNMP.WithDefaults()
		if t.Name == "" {
			t.Name = "wan-router"
		}
		errs = append(errs, cfgerr.Prefix("wan.snmp", t.Validate()))
	}
	if c.DailyBudget < 0 {
		errs = append(errs, cfgerr.Errorf("daily_budget", "must not be negative (0 means no limit)"))
	}
	return errors.Join(errs...)
}

// hostPort splits s into host and port, taking def when s has no port.
func hostPort(s string, def int) (string, int, error) {
	if s == "" {
		return "", 0, errors.New("empty")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return s, def, nil //nolint:nilerr // no port given: the default
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return "", 0, fmt.Errorf("bad port %q", port)
	}
	return host, p, nil
}
