package e2e

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/probity-edu/probity/internal/privilege"
	"github.com/probity-edu/probity/internal/testenv"
)

// serviceUID stands for the packages' probity user: nobody, which every
// Debian system has, so the test adds no user to the host.
const serviceUID, serviceGID = 65534, 65534

// TestIntegrationAdminCommandsAsRoot: what a technician types with sudo
// after installing the packages. The service directories belong to the
// service user; `setup`, the admin commands and `enrol` run as root must
// leave every file they create to that user, and enrol's check must run
// as that user (so it meets the same limits as the service: here, no raw
// ICMP while ping_group_range keeps unprivileged ICMP off).
func TestIntegrationAdminCommandsAsRoot(t *testing.T) {
	testenv.RequireIntegration(t, "both binaries, run as root")
	testenv.RequireRoot(t)
	agentBin, collectorBin := binaries(t)
	// The check runs the agent binary as the service user.
	if err := os.Chmod(filepath.Dir(agentBin), 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "probity-install-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	dataDir, stateDir := filepath.Join(dir, "collector"), filepath.Join(dir, "agent")
	for _, d := range []string{dataDir, stateDir} {
		if err := os.Mkdir(d, 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, serviceUID, serviceGID); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	ccfg := filepath.Join(dir, "collector.yaml")
	writeFile(t, ccfg, fmt.Sprintf("listen: 127.0.0.1:%d\ndata_dir: %s\nlog: {level: warn, format: json}\n", port, dataDir))
	cli := func(args ...string) string { return run(t, collectorBin, append(args, "--config", ccfg)...) }

	out := cli("setup", "--trust", "E2E Trust")
	for _, want := range []string{`✓ Trust administrator "admin" created`, "Sign in at " + base + "/login as admin with password ",
		"! Not starting probity-collector.service: systemd is not running here"} {
		if !strings.Contains(out, want) {
			t.Errorf("setup output lacks %q:\n%s", want, out)
		}
	}
	cli("site", "add", "--trust", "E2E Trust", "--name", "E2E Primary", "--phase", "primary", "--id", "e2e-primary")
	token := strings.TrimSpace(cli("agent", "token", "--site", "e2e-primary"))
	allOwnedByService(t, dataDir)

	// serve, run by root too, drops to the directory's owner.
	e := &env{collectorBin: collectorBin, base: base, collectorArgs: []string{"--config", ccfg}, dir: dir}
	e.startCollector(t)
	if uid := procUID(t, e.collector.cmd.Process.Pid); uid != serviceUID {
		t.Errorf("collector serve started by root runs as uid %d, want %d", uid, serviceUID)
	}

	acfg := filepath.Join(dir, "agent.yaml")
	writeFile(t, acfg, fmt.Sprintf(`state_dir: %s
log: {level: warn}
probes:
  - name: resolver
    kind: dns
    interval: 1m
    dns: {resolvers: ["%s"], queries: [{name: www.google.com}]}
  - name: collector
    kind: http
    interval: 1m
    http: {targets: [{url: "%s/healthz", name: collector}]}
  - name: gateway
    kind: ping
    interval: 1m
    ping: {targets: [{host: 127.0.0.1, role: gateway}], count: 2, interval: 50ms}
`, stateDir, schoolResolver(t), base))
	if err := os.Chmod(acfg, 0o644); err != nil {
		t.Fatal(err)
	}
	out = run(t, agentBin, "enrol", "--config", acfg, "--collector", base, "--token", token)
	t.Logf("enrol output:\n%s", out)
	for _, want := range []string{"✓ Configuration " + acfg + " is valid (3 probes).", "✓ Enrolled as agent ", "PROBE", "resolver", "collector",
		"! Not starting probity-agent.service: systemd is not running here"} {
		if !strings.Contains(out, want) {
			t.Errorf("enrol output lacks %q", want)
		}
	}
	// Unprivileged ICMP is off here unless ping_group_range admits the
	// service's group: the check, run as that user, must meet the same.
	icmpForService := pingGroupAdmits(t, serviceGID)
	switch {
	case icmpForService && !strings.Contains(out, "✓ Every probe measured."):
		t.Errorf("every probe should measure when unprivileged ICMP is on")
	case !icmpForService && !strings.Contains(out, "! Some probes could not measure"):
		t.Errorf("with unprivileged ICMP off, the service user's check cannot ping; enrol should say so")
	}
	allOwnedByService(t, stateDir)
	if st, err := os.Stat(filepath.Join(stateDir, "credential.json")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("credential: %v, mode %v", err, st.Mode())
	}
}

// allOwnedByService fails for any file under dir not owned by the
// service user.
func allOwnedByService(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		o, err := privilege.OwnerOf(p)
		if err != nil {
			t.Error(err)
		} else if o.UID != serviceUID {
			t.Errorf("%s is owned by uid %d, not the service user (%d)", p, o.UID, serviceUID)
		}
		return nil
	})
}

func procUID(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "Uid:" {
			var uid int
			fmt.Sscan(f[2], &uid) // effective
			return uid
		}
	}
	t.Fatal("no Uid line")
	return -1
}

func pingGroupAdmits(t *testing.T, gid int) bool {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ping_group_range")
	if err != nil {
		return false
	}
	var lo, hi int
	if _, err := fmt.Sscan(string(b), &lo, &hi); err != nil {
		t.Fatalf("ping_group_range %q: %v", b, err)
	}
	return gid >= lo && gid <= hi
}
