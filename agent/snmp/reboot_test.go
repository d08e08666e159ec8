package snmp

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/probity-edu/probity/internal/testenv"
)

// TestIntegrationRatesAcrossRestart restarts a real snmpd on the same port
// between polls: its sysUpTime starts again from zero while its counters
// jump back, and the rate for that cycle must be withheld, never shown as
// a huge spike (a 32-bit counter going back would otherwise read as a wrap
// of nearly 4 GB).
func TestIntegrationRatesAcrossRestart(t *testing.T) {
	testenv.RequireIntegration(t, "net-snmp snmpd restarted on loopback")
	bin := testenv.RequireBinary(t, "snmpd")
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freeUDPPort(t))
	conf := filepath.Join(dir, "snmpd.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("agentAddress udp:%s\nrocommunity %s 127.0.0.1\n", addr, testCommunity)), 0o600); err != nil {
		t.Fatal(err)
	}
	start := func() (stop func()) {
		persist, err := os.MkdirTemp(dir, "persist-")
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-f", "-Lf", filepath.Join(dir, "snmpd.log"), "-C", "-c", conf)
		cmd.Env = append(os.Environ(), "MIBS=", "SNMP_PERSISTENT_DIR="+persist)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		stop = func() {
			_ = cmd.Process.Kill()
			<-exited
		}
		t.Cleanup(stop)
		if !waitSnmpd(addr, exited) {
			b, _ := os.ReadFile(filepath.Join(dir, "snmpd.log"))
			t.Fatalf("snmpd on %s did not answer:\n%s", addr, b)
		}
		return stop
	}
	const (
		sysUpTime = "1.3.6.1.2.1.1.3.0"
		loInOctet = "1.3.6.1.2.1.2.2.1.10.1" // ifInOctets of lo, which our own polls move
	)
	rates := NewRates()
	poll := func(c *Client) (rebooted, haveRate bool, rate float64) {
		t.Helper()
		got, err := c.Get(context.Background(), []string{sysUpTime, loInOctet})
		if err != nil {
			t.Fatal(err)
		}
		// Answers are keyed by the OID as the agent returned it, with its
		// leading dot.
		ticks, ok := got["."+sysUpTime].Int64()
		n, bits, ok2 := got["."+loInOctet].Counter()
		if !ok || !ok2 {
			t.Fatalf("sysUpTime %v, ifInOctets %v in %v", got["."+sysUpTime], got["."+loInOctet], got)
		}
		now := time.Now()
		rebooted = rates.Uptime("sw", uint32(ticks), now)
		rate, haveRate = rates.Rate("sw", loInOctet, n, bits, now)
		return rebooted, haveRate, rate
	}

	stop := start()
	c := newClient(t, v2Target("sw", addr))
	if _, have, _ := poll(c); have {
		t.Fatal("a rate from the first sample")
	}
	time.Sleep(1500 * time.Millisecond)
	if rebooted, have, rate := poll(c); rebooted || !have || rate < 0 {
		t.Fatalf("second poll: rebooted %v, rate %v (%v); want a rate", rebooted, rate, have)
	}
	stop()
	start()
	c2 := newClient(t, v2Target("sw", addr)) // a fresh session: the old one's request ids mean nothing now
	rebooted, have, rate := poll(c2)
	if !rebooted || have {
		t.Fatalf("after the restart: rebooted %v, rate %v (%v); want the reboot seen and no rate", rebooted, rate, have)
	}
	time.Sleep(1500 * time.Millisecond)
	if rebooted, have, rate := poll(c2); rebooted || !have || rate > 1e7 {
		t.Fatalf("the cycle after: rebooted %v, rate %v (%v); want an ordinary rate again", rebooted, rate, have)
	}
}
