package snmp

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/snmp"
	"github.com/probity-edu/probity/internal/testenv"
)

// startSnmpsim serves the recordings in agent/snmp/testdata/snmprec from a
// real snmpsimd on loopback, one device per recording, the file name being
// the v2c community. It returns the endpoint and the recording names.
func startSnmpsim(t *testing.T) (endpoint string, names []string) {
	t.Helper()
	testenv.RequireIntegration(t, "snmpsimd serving the recordings")
	testenv.RequireRoot(t) // snmpsimd drops privileges to nobody
	snmpsimd := testenv.RequireBinary(t, "snmpsimd")

	// snmpsimd runs as nobody: its data must be readable and its cache
	// writable by nobody, which t.TempDir (0700) is not.
	root, err := os.MkdirTemp("", "probity-snmpprobe-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	data, cache := filepath.Join(root, "data"), filepath.Join(root, "cache")
	for _, dir := range []string{data, cache} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(cache, 0o777); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "snmp", "testdata", "snmprec", "*.snmprec"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, filepath.Base(f[:len(f)-len(".snmprec")]))
	}
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	endpoint = fmt.Sprintf("127.0.0.1:%d", port)
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	sim := exec.CommandContext(ctx, snmpsimd, "--data-dir="+data, "--cache-dir="+cache,
		"--agent-udpv4-endpoint="+endpoint, "--process-user=nobody", "--process-group=nogroup", "--logging-method=null")
	sim.Stdout, sim.Stderr = &logs, &logs
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = sim.Wait()
		if t.Failed() {
			t.Logf("snmpsimd output:\n%s", logs.String())
		}
	})
	probe, err := snmp.NewClient(snmp.Target{Name: "ready", Address: endpoint, Community: "ups-on-battery", Timeout: time.Second, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		got, err := probe.Get(context.Background(), []string{oidSysName})
		if err == nil && got[oidSysName].String() == "ups-1" {
			return endpoint, names
		}
	}
	t.Fatalf("snmpsimd did not answer on %s", endpoint)
	return "", nil
}

// deadDevice is a UDP socket on loopback that reads requests and never
// answers: a device that is down or filtered.
func deadDevice(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, _, err := c.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	return c.LocalAddr().String()
}
