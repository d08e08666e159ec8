package snmp

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/probity-edu/probity/agent/probe"
)

func TestConfigDecodeAndValidate(t *testing.T) {
	src := `
devices:
  - {name: core, address: 127.0.0.1, community: public, role: core}
  - {name: wlc, address: "127.0.0.1:1161", version: v3, user: probity, auth_protocol: SHA-256,
     auth_passphrase: secret-one, priv_protocol: AES, priv_passphrase: secret-two, role: wlc, profile: cisco-wlc}
workers: 4
`
	c := Defaults
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	if d := c.Devices[1]; d.Address != "127.0.0.1:1161" || d.User != "probity" || d.Profile != "cisco-wlc" || c.Workers != 4 || c.LabelEvery != Defaults.LabelEvery {
		t.Errorf("decoded %+v", c)
	}

	bad := c
	bad.Devices = append([]Device(nil), c.Devices...)
	bad.Devices[0].Role = "printer"
	bad.Devices[1].Community = "public"
	err := bad.Validate()
	for _, want := range []string{"devices[0].role", "devices[1].community"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
	if err := (Config{Workers: 1, LabelEvery: 1, Redetect: 1}).Validate(); err == nil || !strings.Contains(err.Error(), "devices") {
		t.Errorf("no devices: %v", err)
	}

	unknown := c
	unknown.Devices = []Device{c.Devices[0]}
	unknown.Devices[0].Profile = "no-such-profile"
	if _, err := New(unknown, probe.Deps{}); err == nil || !strings.Contains(err.Error(), "no-such-profile") {
		t.Errorf("unknown profile: %v", err)
	}
}
