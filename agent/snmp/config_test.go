package snmp

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/internal/config"
	"github.com/probity-edu/probity/internal/config/cfgerr"
)

func errPaths(err error) []string { return cfgerr.Paths(err) }

func TestTargetDefaults(t *testing.T) {
	d := Target{Name: "sw1", Address: "192.0.2.1", Version: V3}.WithDefaults()
	if d.SecurityLevel != AuthPriv || d.Timeout != 2*time.Second || d.Retries != 1 ||
		d.Budget != 20*time.Second || d.MaxRepetitions != 25 {
		t.Errorf("defaults = %+v", d)
	}
	if got := (Target{Retries: -1}).WithDefaults().Retries; got != 0 {
		t.Errorf("retries -1 should mean none, got %d", got)
	}
	if got := (Target{}).WithDefaults().Version; got != V2c {
		t.Errorf("default version %q, want v2c", got)
	}
}

func TestHostPort(t *testing.T) {
	for _, tc := range []struct {
		addr string
		host string
		port uint16
	}{
		{"192.0.2.1", "192.0.2.1", 161},
		{"192.0.2.1:1161", "192.0.2.1", 1161},
		{"switch-1.school.lan", "switch-1.school.lan", 161},
		{"[2001:db8::1]:162", "2001:db8::1", 162},
		{"2001:db8::1", "2001:db8::1", 161},
		{"[2001:db8::1]", "2001:db8::1", 161},
	} {
		h, p, err := Target{Address: tc.addr}.HostPort()
		if err != nil || h != tc.host || p != tc.port {
			t.Errorf("HostPort(%q) = %q %d %v, want %q %d", tc.addr, h, p, err, tc.host, tc.port)
		}
	}
	for _, bad := range []string{"", "bad host", "10.0.0.1:0", "10.0.0.1:99999", "10.0.0.1:snmp"} {
		if _, _, err := (Target{Address: bad}).HostPort(); err == nil {
			t.Errorf("HostPort(%q) accepted", bad)
		}
	}
}

func TestTargetValidate(t *testing.T) {
	v2 := Target{Name: "sw1", Address: "192.0.2.1", Community: "public"}
	v3 := Target{Name: "sw2", Address: "192.0.2.2:161", Version: V3, User: "probity", AuthProtocol: "SHA-256",
		AuthPassphrase: "authpass1", PrivProtocol: "AES", PrivPassphrase: "privpass1"}
	for _, tc := range []struct {
		name string
		base Target
		edit func(t *Target)
		want []string
	}{
		{"v2c valid", v2, func(*Target) {}, nil},
		{"v3 valid", v3, func(*Target) {}, nil},
		{"v3 sha-512 aes-256", v3, func(t *Target) { t.AuthProtocol, t.PrivProtocol = "SHA-512", "AES-256" }, nil},
		{"v3 authNoPriv", v3, func(t *Target) { t.SecurityLevel, t.PrivProtocol, t.PrivPassphrase = AuthNoPriv, "", "" }, nil},
		{"no name no address", v2, func(t *Target) { t.Name, t.Address = "", "" }, []string{"address", "name"}},
		{"v2c without community", v2, func(t *Target) { t.Community = "" }, []string{"community"}},
		{"v2c with v3 fields", v2, func(t *Target) { t.User = "x" }, []string{"user"}},
		{"version", v2, func(t *Target) { t.Version = "v1" }, []string{"version"}},
		{"md5", v3, func(t *Target) { t.AuthProtocol = "MD5" }, []string{"auth_protocol"}},
		{"des", v3, func(t *Target) { t.PrivProtocol = "DES" }, []string{"priv_protocol"}},
		{"unknown protocols", v3, func(t *Target) { t.AuthProtocol, t.PrivProtocol = "SHA-1", "Blowfish" },
			[]string{"auth_protocol", "priv_protocol"}},
		{"v3 missing", v3, func(t *Target) { t.User, t.AuthPassphrase, t.PrivPassphrase = "", "", "" },
			[]string{"auth_passphrase", "priv_passphrase", "user"}},
		{"v3 with community", v3, func(t *Target) { t.Community = "public" }, []string{"community"}},
		{"noAuthNoPriv", v3, func(t *Target) { t.SecurityLevel = "noAuthNoPriv" }, []string{"security_level"}},
		{"priv without authPriv", v3, func(t *Target) { t.SecurityLevel = AuthNoPriv }, []string{"priv_protocol"}},
		{"numbers", v2, func(t *Target) { t.Timeout, t.Retries, t.Budget, t.MaxRepetitions = -1, 11, -1, 500 },
			[]string{"budget", "max_repetitions", "retries", "timeout"}},
		{"budget below timeout", v2, func(t *Target) { t.Timeout, t.Budget = 5*time.Second, time.Second }, []string{"budget"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := tc.base
			tc.edit(&tg)
			err := tg.WithDefaults().Validate()
			if got := errPaths(err); !slices.Equal(got, tc.want) {
				t.Errorf("error paths = %v, want %v (%v)", got, tc.want, err)
			}
		})
	}
	md5 := v3
	md5.AuthProtocol = "md5"
	if err := md5.WithDefaults().Validate(); err == nil || !strings.Contains(err.Error(), "MD5 is refused") {
		t.Errorf("MD5 error should say it is refused: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	c := Config{Devices: []Target{
		{Name: "core", Address: "10.0.0.1", Community: "c"},
		{Name: "core", Address: "10.0.0.2", Version: V3, User: "u", AuthProtocol: "MD5", AuthPassphrase: "12345678",
			PrivProtocol: "AES", PrivPassphrase: "12345678"},
	}}.WithDefaults()
	if c.Workers != 16 || c.LabelEvery != 10 || c.Devices[1].SecurityLevel != AuthPriv {
		t.Errorf("defaults not applied: %+v", c)
	}
	want := []string{"devices[1].auth_protocol", "devices[1].name"}
	if got := errPaths(c.Validate()); !slices.Equal(got, want) {
		t.Errorf("error paths = %v, want %v", got, want)
	}
	c.Workers, c.LabelEvery = -1, 0
	c.Devices = nil
	if got := errPaths(c.Validate()); !slices.Equal(got, []string{"label_every", "workers"}) {
		t.Errorf("error paths = %v", got)
	}
}

func TestCredentialsAreRedacted(t *testing.T) {
	tg := Target{Name: "sw", Address: "192.0.2.2", Community: "comm-secret", AuthPassphrase: "auth-secret", PrivPassphrase: "priv-secret"}
	out, err := config.Print(tg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"comm-secret", "auth-secret", "priv-secret"} {
		if strings.Contains(out, s) {
			t.Errorf("printed configuration shows %s:\n%s", s, out)
		}
	}
}
