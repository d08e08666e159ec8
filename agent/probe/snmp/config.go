package snmp

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/probity-edu/probity/agent/snmp"
	"github.com/probity-edu/probity/internal/config/cfgerr"
)

// Roles say what a device does, so scoring can tell the core from an edge
// switch, a controller or the UPS that keeps them up.
var Roles = []string{"core", "edge", "wlc", "ap", "firewall", "router", "ups"}

// Device is one SNMP agent: the client layer's target plus what the probe
// needs to name it.
type Device struct {
	snmp.Target `yaml:",inline"`
	Role        string `yaml:"role"`    // one of Roles
	Profile     string `yaml:"profile"` // force a profile by name instead of detecting it
	// PortRoles names what ports are for, by ifName, where LLDP and speed
	// cannot tell: the WAN ports above all.
	PortRoles map[string]string `yaml:"port_roles"`
}

// PortRoles are the roles of an interface: uplink (to another switch or a
// router), access (a user or device port), wan (to the internet), ap (to a
// wireless access point).
var PortRoles = []string{"uplink", "access", "wan", "ap"}

// Config is the `snmp` section of a probe.
type Config struct {
	Devices     []Device      `yaml:"devices"`
	Workers     int           `yaml:"workers"`      // devices polled at once
	LabelEvery  int           `yaml:"label_every"`  // cycles between reads of label columns
	ProfilesDir string        `yaml:"profiles_dir"` // folder of profiles added to or replacing the shipped ones (and eos.yaml)
	EOSFile     string        `yaml:"eos_file"`     // end-of-support entries that take precedence over the shipped ones
	EOSWarn     time.Duration `yaml:"eos_warn"`     // end of support closer than this is "near"
	// Redetect is the number of cycles after which the profile is matched
	// again even without a reboot (a firmware upgrade may change sysDescr).
	Redetect int `yaml:"redetect"`
}

// Defaults are the values an `snmp` section starts from.
var Defaults = Config{
	Workers:    snmp.DefaultWorkers,
	LabelEvery: snmp.DefaultLabelEvery,
	EOSWarn:    365 * 24 * time.Hour,
	Redetect:   60,
}

// client returns the client layer's view of the section, with defaults.
func (c Config) client() snmp.Config {
	sc := snmp.Config{Workers: c.Workers, LabelEvery: c.LabelEvery}
	for _, d := range c.Devices {
		sc.Devices = append(sc.Devices, d.Target)
	}
	return sc.WithDefaults()
}

// Validate checks the section; paths are relative to it (devices[0].role).
func (c Config) Validate() error {
	var errs []error
	if len(c.Devices) == 0 {
		errs = append(errs, cfgerr.Errorf("devices", "at least one device is required"))
	}
	errs = append(errs, c.client().Validate())
	for i, d := range c.Devices {
		base := fmt.Sprintf("devices[%d]", i)
		if d.Role != "" && !slices.Contains(Roles, d.Role) {
			errs = append(errs, cfgerr.Errorf(base+".role", "unknown role %q (known: core, edge, wlc, ap, firewall, router, ups, or empty)", d.Role))
		}
		for port, role := range d.PortRoles {
			if !slices.Contains(PortRoles, role) {
				errs = append(errs, cfgerr.Errorf(base+".port_roles."+port, "unknown port role %q (known: uplink, access, wan, ap)", role))
			}
		}
	}
	if c.EOSWarn < 0 {
		errs = append(errs, cfgerr.Errorf("eos_warn", "must not be negative"))
	}
	if c.Redetect < 1 || c.Redetect > 100000 {
		errs = append(errs, cfgerr.Errorf("redetect", "must be between 1 and 100000 cycles, not %d", c.Redetect))
	}
	return errors.Join(errs...)
}
