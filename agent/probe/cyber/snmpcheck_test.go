package cyber

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/testenv"
)

func TestSNMPConfigValidate(t *testing.T) {
	off := false
	cases := map[string]struct {
		c    SNMPConfig
		want string // "" for valid
	}{
		"ok":              {SNMPConfig{Devices: []SNMPDevice{{Name: "sw1", Address: "10.0.0.1"}}}, ""},
		"ok off":          {SNMPConfig{Devices: []SNMPDevice{{Name: "sw1", Address: "10.0.0.1:1161"}}, DefaultCommunities: &off}, ""},
		"ok private only": {SNMPConfig{Devices: []SNMPDevice{{Name: "sw1", Address: "sw1.school"}}, Communities: []string{"private"}}, ""},
		"no devices":      {SNMPConfig{}, "devices"},
		"no name":         {SNMPConfig{Devices: []SNMPDevice{{Address: "10.0.0.1"}}}, "devices[0].name"},
		"dup name":        {SNMPConfig{Devices: []SNMPDevice{{Name: "a", Address: "10.0.0.1"}, {Name: "a", Address: "10.0.0.2"}}}, "devices[1].name"},
		"bad address":     {SNMPConfig{Devices: []SNMPDevice{{Name: "a", Address: "10.0.0.1:99999"}}}, "devices[0].address"},
		"guessing":        {SNMPConfig{Devices: []SNMPDevice{{Name: "a", Address: "10.0.0.1"}}, Communities: []string{"public", "cisco"}}, "communities[1]"},
		"empty list":      {SNMPConfig{Devices: []SNMPDevice{{Name: "a", Address: "10.0.0.1"}}, Communities: []string{}}, "communities"},
	}
	for name, tc := range cases {
		err := tc.c.validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one naming %s", name, err, tc.want)
		}
	}
}

// freeUDPPort returns a loopback UDP port that was free a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	return port
}

// startSnmpd runs net-snmp's snmpd in the foreground on a free loopback
// port with body as the rest of its configuration, and returns its
// address once it answers probeUser (a v3 user) or probeCommunity.
func startSnmpd(t *testing.T, body string, ready func(addr string) bool) string {
	t.Helper()
	bin := testenv.RequireBinary(t, "snmpd")
	dir := t.TempDir()
	for attempt := 0; ; attempt++ {
		persist := filepath.Join(dir, fmt.Sprintf("persist%d", attempt))
		if err := os.Mkdir(persist, 0o700); err != nil {
			t.Fatal(err)
		}
		addr := "127.0.0.1:" + strconv.Itoa(freeUDPPort(t))
		cfg := filepath.Join(dir, "snmpd.conf")
		if err := os.WriteFile(cfg, []byte("agentAddress udp:"+addr+"\n"+body), 0o600); err != nil {
			t.Fatal(err)
		}
		log := filepath.Join(dir, "snmpd.log")
		// -C: only this file, not the system's snmpd.conf (which has
		// communities of its own).
		cmd := exec.Command(bin, "-f", "-Lf", log, "-C", "-c", cfg, "-p", filepath.Join(dir, "snmpd.pid"))
		cmd.Env = append(os.Environ(), "MIBS=", "SNMP_PERSISTENT_DIR="+persist)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			select {
			case <-exited:
				deadline = time.Time{}
			default:
			}
			if ready(addr) {
				return addr
			}
		}
		_ = cmd.Process.Kill()
		<-exited
		b, _ := os.ReadFile(log)
		if attempt == 2 {
			t.Fatalf("snmpd on %s did not answer:\n%s", addr, b)
		}
		t.Logf("snmpd on %s did not answer (retrying on another port):\n%s", addr, b)
	}
}

const (
	v3User, v3Auth, v3Priv = "probe", "authpass123", "privpass123"
)

// v3Ready reads sysDescr as the configured v3 user (authPriv SHA/AES).
func v3Ready(addr string) bool {
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	g := &gosnmp.GoSNMP{Target: host, Port: uint16(p), Version: gosnmp.Version3, Timeout: 200 * time.Millisecond,
		SecurityModel: gosnmp.UserSecurityModel, MsgFlags: gosnmp.AuthPriv, Context: context.Background(),
		SecurityParameters: &gosnmp.UsmSecurityParameters{UserName: v3User, AuthenticationProtocol: gosnmp.SHA,
			AuthenticationPassphrase: v3Auth, PrivacyProtocol: gosnmp.AES, PrivacyPassphrase: v3Priv}}
	if g.Connect() != nil {
		return false
	}
	defer g.Conn.Close()
	pkt, err := g.Get([]string{oidSysDescr})
	return err == nil && len(pkt.Variables) == 1 && pkt.Variables[0].Type == gosnmp.OctetString
}

func communityReady(addr string) bool {
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	ok, _ := communityGet(context.Background(), host, uint16(p), "public", gosnmp.Version2c, 200*time.Millisecond)
	return ok
}

// closedUDPPort is a loopback port nothing listens on: the kernel answers
// ICMP port unreachable.
func closedUDPPort(t *testing.T) string { return "127.0.0.1:" + strconv.Itoa(freeUDPPort(t)) }

// TestIntegrationSNMPChecks runs both checks against three real devices:
// snmpd with rocommunity public (v1/v2c), snmpd with only a v3 user and
// no community, and a port where nothing answers.
func TestIntegrationSNMPChecks(t *testing.T) {
	testenv.RequireIntegration(t, "net-snmp snmpd on loopback")
	// disableSNMPv3 (a library token, hence [snmp]): net-snmp answers
	// engine discovery even with no v3 user, a v1/v2c-only device does not.
	legacy := startSnmpd(t, "rocommunity public 127.0.0.1\n[snmp] disableSNMPv3 yes\nsysDescr legacy switch\n", communityReady)
	modern := startSnmpd(t, fmt.Sprintf("createUser %s SHA \"%s\" AES \"%s\"\nrouser %s priv\nsysDescr modern switch\n",
		v3User, v3Auth, v3Priv, v3User), v3Ready)
	dead := closedUDPPort(t)

	c := Defaults
	c.Timeout = time.Second
	c.SNMP = &SNMPConfig{Devices: []SNMPDevice{{Name: "legacy", Address: legacy}, {Name: "modern", Address: modern}, {Name: "dead", Address: dead}}}
	got := runChecks(t, c)

	type want struct {
		finding  bool
		severity string
		detail   string
	}
	wants := map[string]want{
		CheckSNMPCommunity + " legacy": {true, SeverityHigh, "public over v2c, public over v1"},
		CheckSNMPv3 + " legacy":        {true, SeverityMedium, "did not answer an SNMPv3 engine discovery"},
		CheckSNMPCommunity + " modern": {false, SeverityNone, "no answer to the communities public, private"},
		CheckSNMPv3 + " modern":        {false, SeverityNone, "offers SNMPv3"},
		CheckSNMPCommunity + " dead":   {false, SeverityNone, "nothing listens"},
		CheckSNMPv3 + " dead":          {true, SeverityMedium, "nothing listens"},
	}
	if len(got) != len(wants) {
		t.Errorf("got %d points, want %d: %v", len(got), len(wants), got)
	}
	for k, w := range wants {
		p, ok := got[k]
		if !ok {
			t.Errorf("%s: no point", k)
			continue
		}
		f := p.Fields
		if f["ok"] != true || f["finding"] != w.finding || f["severity"] != w.severity {
			t.Errorf("%s: ok=%v finding=%v severity=%v, want true %v %s (%v)", k, f["ok"], f["finding"], f["severity"], w.finding, w.severity, f["detail"])
		}
		if d, _ := f["detail"].(string); !strings.Contains(d, w.detail) {
			t.Errorf("%s: detail %q, want it to contain %q", k, d, w.detail)
		}
		if w.finding && f["fix"] == nil {
			t.Errorf("%s: a finding without fix", k)
		}
	}
	if id, _ := got[CheckSNMPv3+" modern"].Fields["engine_id"].(string); len(id) < 10 {
		t.Errorf("modern: engine_id %q, want the hex engine ID snmpd reported", id)
	}

	// Switched off, only the v3 check runs.
	off := false
	c.SNMP.DefaultCommunities = &off
	c.SNMP.Devices = c.SNMP.Devices[:1]
	got = runChecks(t, c)
	if _, ok := got[CheckSNMPCommunity+" legacy"]; ok || len(got) != 1 {
		t.Errorf("default_communities: false still ran the community check: %v", got)
	}
}

// runChecks runs the prober and returns its points by "check target".
func runChecks(t *testing.T, c Config) map[string]pointView {
	t.Helper()
	p, err := New(c, probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	pts, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]pointView{}
	for _, pt := range pts {
		if pt.Measurement != Measurement || pt.Tags["vlan"] != c.VLAN {
			t.Errorf("point %s %v: wrong measurement or vlan", pt.Measurement, pt.Tags)
		}
		k := pt.Tags["check"] + " " + pt.Tags["target"]
		got[k] = pointView{Fields: pt.Fields}
		t.Logf("%s %v", k, pt.Fields)
	}
	return got
}

type pointView struct{ Fields map[string]any }
