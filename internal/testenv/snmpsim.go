package testenv

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// StartSnmpsim serves the given .snmprec recordings from a real snmpsimd
// on a free loopback UDP port, one simulated device per file, its v2c
// community being the file name without .snmprec. It returns host:port
// once snmpsimd answers (checked with net-snmp's snmpget when installed,
// else after the port is bound). It needs root (snmpsimd drops privileges
// to nobody) and skips (fails when required) without snmpsimd.
func StartSnmpsim(t testing.TB, recordings []string) string {
	t.Helper()
	RequireRoot(t)
	snmpsimd := RequireBinary(t, "snmpsimd")
	if len(recordings) == 0 {
		t.Fatal("StartSnmpsim: no recordings")
	}
	// Its data must be readable and its cache writable by nobody, which
	// t.TempDir (0700) is not.
	root, err := os.MkdirTemp("", "probity-snmpsim-")
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
	for _, f := range recordings {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := c.LocalAddr().String()
	c.Close()
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
	community := strings.TrimSuffix(filepath.Base(recordings[0]), ".snmprec")
	snmpget, err := exec.LookPath("snmpget")
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err != nil { // no net-snmp tools: give it a moment
			time.Sleep(3 * time.Second)
			return endpoint
		}
		cmd := exec.Command(snmpget, "-v2c", "-c", community, "-On", "-t", "1", "-r", "0", endpoint, "1.3.6.1.2.1.1.3.0")
		cmd.Env = append(os.Environ(), "MIBS=")
		if out, err := cmd.CombinedOutput(); err == nil && strings.Contains(string(out), "1.3.6.1.2.1.1.3.0") {
			return endpoint
		}
	}
	t.Fatalf("snmpsimd did not answer on %s:\n%s", endpoint, logs.String())
	return ""
}

// Recordings lists the .snmprec files in dir, for StartSnmpsim.
func Recordings(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.snmprec"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings in %s: %v", dir, err)
	}
	return files
}
