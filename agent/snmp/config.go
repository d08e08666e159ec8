package snmp

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/probity-edu/probity/internal/config/cfgerr"
)

// SNMP versions a Target may use. SNMPv1 is not offered: it has no GETBULK
// and no 64-bit counters, and every device a school runs speaks v2c.
const (
	V2c = "v2c"
	V3  = "v3"
)

// Security levels of SNMPv3.
const (
	AuthPriv   = "authPriv"
	AuthNoPriv = "authNoPriv"
)

// Authentication and privacy protocols. MD5 and DES are refused: both are
// broken, and accepting them would let a weak setup pass SW-16 unnoticed.
// AES-256-C is the Cisco ("Reeder") key extension of AES-256 that Cisco and
// some other vendors use instead of the Blumenthal draft that net-snmp's
// AES-256 follows.
var (
	AuthProtocols = []string{"SHA", "SHA-256", "SHA-512"}
	PrivProtocols = []string{"AES", "AES-256", "AES-256-C"}
)

// DefaultPort is the SNMP agent port used when Address has none.
const DefaultPort = 161

// Target is one device to poll, with its credentials. Profiles never hold
// credentials; they come only from here.
type Target struct {
	Name      string `yaml:"name"`                    // unique device name, used in logs and tags
	Address   string `yaml:"address"`                 // host or host:port (default port 161)
	Version   string `yaml:"version"`                 // v2c or v3
	Community string `yaml:"community" secret:"true"` // v2c only

	User           string `yaml:"user"`                          // v3 user name
	AuthProtocol   string `yaml:"auth_protocol"`                 // SHA, SHA-256 or SHA-512
	AuthPassphrase string `yaml:"auth_passphrase" secret:"true"` // v3
	PrivProtocol   string `yaml:"priv_protocol"`                 // AES, AES-256 or AES-256-C (authPriv)
	PrivPassphrase string `yaml:"priv_passphrase" secret:"true"` // v3 authPriv
	SecurityLevel  string `yaml:"security_level"`                // authPriv (default) or authNoPriv
	ContextName    string `yaml:"context_name"`                  // v3 context, rarely needed

	Timeout        time.Duration `yaml:"timeout"`         // per request; default 2s
	Retries        int           `yaml:"retries"`         // per request; default 1
	Budget         time.Duration `yaml:"budget"`          // whole poll of the device per cycle; default 20s
	MaxRepetitions int           `yaml:"max_repetitions"` // GETBULK ceiling; default 25
}

// Target defaults, applied by WithDefaults to fields left at zero.
const (
	DefaultTimeout        = 2 * time.Second
	DefaultRetries        = 1
	DefaultBudget         = 20 * time.Second
	DefaultMaxRepetitions = 25
)

// WithDefaults returns t with zero fields set to their defaults. Retries
// cannot be told apart from an explicit 0, so a negative value means "no
// retries" and 0 means the default.
func (t Target) WithDefaults() Target {
	if t.Version == "" {
		t.Version = V2c
	}
	if t.Version == V3 && t.SecurityLevel == "" {
		t.SecurityLevel = AuthPriv
	}
	if t.Timeout == 0 {
		t.Timeout = DefaultTimeout
	}
	switch {
	case t.Retries == 0:
		t.Retries = DefaultRetries
	case t.Retries < 0:
		t.Retries = 0
	}
	if t.Budget == 0 {
		t.Budget = DefaultBudget
	}
	if t.MaxRepetitions == 0 {
		t.MaxRepetitions = DefaultMaxRepetitions
	}
	return t
}

var hostnameRe = regexp.MustCompile(`^(?i)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?$`)

// HostPort splits Address into host and port, defaulting the port to 161.
func (t Target) HostPort() (host string, port uint16, err error) {
	a := strings.TrimSpace(t.Address)
	if a == "" {
		return "", 0, errors.New("required")
	}
	host, portStr := a, ""
	if h, p, err := net.SplitHostPort(a); err == nil {
		host, portStr = h, p
	} else if strings.HasPrefix(a, "[") && strings.HasSuffix(a, "]") {
		host = a[1 : len(a)-1]
	}
	if net.ParseIP(host) == nil && (len(host) > 253 || !hostnameRe.MatchString(host)) {
		return "", 0, fmt.Errorf("%q is neither an IP address nor a host name", host)
	}
	if portStr == "" {
		return host, DefaultPort, nil
	}
	n, err := strconv.Atoi(portStr)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, fmt.Errorf("port %q must be a number from 1 to 65535", portStr)
	}
	return host, uint16(n), nil
}

// Validate checks the target; paths are relative to it (auth_protocol).
// Call it on WithDefaults' result so that empty optional fields pass.
func (t Target) Validate() error {
	var errs []error
	add := func(path, format string, args ...any) { errs = append(errs, cfgerr.Errorf(path, format, args...)) }
	if strings.TrimSpace(t.Name) == "" {
		add("name", "required")
	}
	if _, _, err := t.HostPort(); err != nil {
		add("address", "%v", err)
	}
	switch t.Version {
	case V2c:
		if t.Community == "" {
			add("community", "required for version v2c")
		}
		for path, v := range map[string]string{"user": t.User, "auth_passphrase": t.AuthPassphrase, "priv_passphrase": t.PrivPassphrase} {
			if v != "" {
				add(path, "only used with version v3; remove it or set version: v3")
			}
		}
	case V3:
		errs = append(errs, t.validateV3()...)
	default:
		add("version", "must be v2c or v3, not %q", t.Version)
	}
	if t.Timeout <= 0 || t.Timeout > time.Minute {
		add("timeout", "must be more than 0 and at most 1m, not %s", t.Timeout)
	}
	if t.Retries < 0 || t.Retries > 10 {
		add("retries", "must be between 0 and 10, not %d", t.Retries)
	}
	if t.Budget <= 0 || t.Budget > 10*time.Minute {
		add("budget", "must be more than 0 and at most 10m, not %s", t.Budget)
	} else if t.Timeout > 0 && t.Budget < t.Timeout {
		add("budget", "%s is shorter than one request timeout (%s)", t.Budget, t.Timeout)
	}
	if t.MaxRepetitions < 1 || t.MaxRepetitions > 200 {
		add("max_repetitions", "must be between 1 and 200, not %d", t.MaxRepetitions)
	}
	return errors.Join(errs...)
}

func (t Target) validateV3() []error {
	var errs []error
	add := func(path, format string, args ...any) { errs = append(errs, cfgerr.Errorf(path, format, args...)) }
	if t.Community != "" {
		add("community", "only used with version v2c; v3 authenticates with user and passphrases")
	}
	if t.User == "" {
		add("user", "required for version v3")
	}
	switch t.SecurityLevel {
	case AuthPriv, AuthNoPriv:
	case "noAuthNoPriv":
		add("security_level", "noAuthNoPriv sends everything in clear without authentication; use authPriv (or authNoPriv)")
	default:
		add("security_level", "must be authPriv or authNoPriv, not %q", t.SecurityLevel)
	}
	switch {
	case strings.EqualFold(t.AuthProtocol, "MD5"):
		add("auth_protocol", "MD5 is refused as insecure; configure the device for SHA, SHA-256 or SHA-512")
	case t.AuthProtocol == "":
		add("auth_protocol", "required for version v3 (SHA, SHA-256 or SHA-512)")
	case !containsFold(AuthProtocols, t.AuthProtocol):
		add("auth_protocol", "must be SHA, SHA-256 or SHA-512, not %q", t.AuthProtocol)
	}
	// net-snmp refuses passphrases under 8 characters; catching it here
	// gives a config error instead of an "auth" failure at every poll.
	if len(t.AuthPassphrase) < 8 {
		add("auth_passphrase", "required, at least 8 characters")
	}
	if t.SecurityLevel != AuthPriv {
		if t.SecurityLevel == AuthNoPriv && (t.PrivProtocol != "" || t.PrivPassphrase != "") {
			add("priv_protocol", "privacy settings need security_level authPriv")
		}
		return errs
	}
	switch {
	case strings.EqualFold(t.PrivProtocol, "DES") || strings.EqualFold(t.PrivProtocol, "3DES"):
		add("priv_protocol", "%s is refused as insecure; configure the device for AES or AES-256", t.PrivProtocol)
	case t.PrivProtocol == "":
		add("priv_protocol", "required for authPriv (AES, AES-256 or AES-256-C)")
	case !containsFold(PrivProtocols, t.PrivProtocol):
		add("priv_protocol", "must be AES, AES-256 or AES-256-C, not %q", t.PrivProtocol)
	}
	if len(t.PrivPassphrase) < 8 {
		add("priv_passphrase", "required for authPriv, at least 8 characters")
	}
	return errs
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// Config is the agent's SNMP section: the devices with their credentials
// and how the poller runs.
type Config struct {
	Devices    []Target `yaml:"devices"`
	Workers    int      `yaml:"workers"`     // devices polled at once; default 16
	LabelEvery int      `yaml:"label_every"` // cycles between reads of label columns; default 10
}

// WithDefaults returns c with defaults applied, to the devices too.
func (c Config) WithDefaults() Config {
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.LabelEvery == 0 {
		c.LabelEvery = DefaultLabelEvery
	}
	devs := make([]Target, len(c.Devices))
	for i, d := range c.Devices {
		devs[i] = d.WithDefaults()
	}
	c.Devices = devs
	return c
}

// Validate checks the section (call it on WithDefaults' result); paths are
// relative to it (devices[2].auth_protocol).
func (c Config) Validate() error {
	var errs []error
	if c.Workers < 1 || c.Workers > 1024 {
		errs = append(errs, cfgerr.Errorf("workers", "must be between 1 and 1024, not %d", c.Workers))
	}
	if c.LabelEvery < 1 || c.LabelEvery > 1000 {
		errs = append(errs, cfgerr.Errorf("label_every", "must be between 1 and 1000 cycles, not %d", c.LabelEvery))
	}
	seen := map[string]int{}
	for i, d := range c.Devices {
		base := fmt.Sprintf("devices[%d]", i)
		if err := d.Validate(); err != nil {
			errs = append(errs, cfgerr.Prefix(base, err))
		}
		if j, dup := seen[d.Name]; dup && d.Name != "" {
			errs = append(errs, cfgerr.Errorf(base+".name", "%q is already the name of devices[%d]", d.Name, j))
		} else {
			seen[d.Name] = i
		}
	}
	return errors.Join(errs...)
}
