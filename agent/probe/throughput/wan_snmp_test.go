package throughput

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/snmp"
	"github.com/probity-edu/probity/internal/testenv"
)

// TestIntegrationWANCountersOverSNMP reads a real snmpd's counters of the
// loopback interface, by name, as the router's WAN interface: they move
// between two reads (the SNMP requests themselves cross lo), and a name
// the router does not have is a clear error.
func TestIntegrationWANCountersOverSNMP(t *testing.T) {
	testenv.RequireIntegration(t, "net-snmp snmpd on loopback")
	bin := testenv.RequireBinary(t, "snmpd")
	dir := t.TempDir()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := c.LocalAddr().String()
	c.Close()
	conf := filepath.Join(dir, "snmpd.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("agentAddress udp:%s\nrocommunity wan-test 127.0.0.1\n", addr)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-f", "-Lf", filepath.Join(dir, "snmpd.log"), "-C", "-c", conf)
	cmd.Env = append(os.Environ(), "MIBS=", "SNMP_PERSISTENT_DIR="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	client, err := snmp.NewClient(snmp.Target{Name: "router", Address: addr, Community: "wan-test", Timeout: time.Second}.WithDefaults())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	wan := &SNMPInterface{Client: client, Name: "lo"}
	ctx := context.Background()
	var rx1, tx1 uint64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if rx1, tx1, err = wan.Octets(ctx); err == nil {
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "snmpd.log"))
			t.Fatalf("no counters from snmpd: %v\n%s", err, b)
		}
	}
	// snmpd caches interface statistics for a few seconds.
	time.Sleep(6 * time.Second)
	rx2, tx2, err := wan.Octets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rx2 <= rx1 || tx2 <= tx1 {
		t.Errorf("lo counters did not move: rx %d → %d, tx %d → %d", rx1, rx2, tx1, tx2)
	}

	missing := &SNMPInterface{Client: client, Name: "wan-that-is-not-there"}
	if _, _, err := missing.Octets(ctx); err == nil || !strings.Contains(err.Error(), "no interface named") {
		t.Errorf("a missing interface: %v", err)
	}
}
