package cyber

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/config/cfgerr"
	"github.com/probity-edu/probity/internal/testenv"
)

// mgmtDevice is a "switch" in a namespace of its own: real OpenSSH on 22,
// a Telnet listener on 23, plain HTTP management on 80, a redirect to HTTPS
// on 8080, and nothing on 443. The test process, in the host namespace,
// is the agent on a user VLAN.
type mgmtDevice struct {
	ns   *testenv.Netns
	addr string // the device's address, inside the namespace
	host string // the agent's address, the host end of the veth
}

func startMgmtDevice(t *testing.T) *mgmtDevice {
	t.Helper()
	testenv.RequireIntegration(t, "a management device in a network namespace")
	sshd := testenv.RequireBinary(t, "sshd") // Debian's openssh-server
	keygen := testenv.RequireBinary(t, "ssh-keygen")
	ns := testenv.NewNetns(t)
	v := ns.AddVeth(t)
	d := &mgmtDevice{ns: ns, addr: v.NSAddr.Addr().String(), host: v.HostAddr.Addr().String()}

	// OpenSSH, with a throwaway host key and configuration. sshd insists on
	// its privilege separation directory, which a container may lack.
	dir := t.TempDir()
	key := filepath.Join(dir, "host_ed25519")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "sshd_config")
	conf := fmt.Sprintf("Port 22\nListenAddress %s\nHostKey %s\nPidFile none\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin no\nAuthorizedKeysFile none\n", d.addr, key)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := ns.Command(context.Background(), sshd, "-D", "-e", "-f", cfg, "-h", key)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting sshd: %v", err)
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	t.Cleanup(stop)
	if err := d.waitSSH(); err != nil {
		stop() // logs is complete once sshd has exited
		t.Fatalf("%v; the log of sshd: %s", err, logs.String())
	}

	// Telnet: a listener that opens with option negotiation (IAC DO
	// TERMINAL-TYPE, IAC WILL ECHO) and a login prompt, as devices do.
	d.serve(t, 23, func(c net.Conn) {
		_, _ = c.Write([]byte("\xff\xfd\x18\xff\xfb\x01\r\nswitch login: "))
		_, _ = io.Copy(io.Discard, c)
	})
	d.serveHTTP(t, 80, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "<title>Switch management</title><form>password</form>")
	}))
	d.serveHTTP(t, 8080, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://"+d.addr+"/", http.StatusMovedPermanently)
	}))
	return d
}

// waitSSH waits until sshd answers with its banner, which proves a real
// OpenSSH is listening.
func (d *mgmtDevice) waitSSH() error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(d.addr, "22"), time.Second)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			banner, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(banner, "SSH-2.0-OpenSSH") {
				return nil
			}
			return fmt.Errorf("port 22 answered %q, not OpenSSH", banner)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sshd did not listen: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *mgmtDevice) listen(t *testing.T, port int) net.Listener {
	t.Helper()
	l, err := d.ns.Listen("tcp", net.JoinHostPort(d.addr, fmt.Sprint(port)))
	if err != nil {
		t.Fatalf("listening on %d in the namespace: %v", port, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func (d *mgmtDevice) serve(t *testing.T, port int, h func(net.Conn)) {
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait) // after the listener is closed: cleanups run last first
	l := d.listen(t, port)
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				h(c)
			})
		}
	})
}

func (d *mgmtDevice) serveHTTP(t *testing.T, port int, h http.Handler) {
	s := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	l := d.listen(t, port)
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
}

// block drops the agent's packets to ports 22, 23 and 80 of the device and
// answers 8080 with a TCP reset, as a management ACL would.
func (d *mgmtDevice) block(t *testing.T) {
	t.Helper()
	testenv.RequireBinary(t, "nft")
	rules := fmt.Sprintf(`table inet probity_acl {
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr %[1]s tcp dport { 22, 23, 80 } drop
		ip saddr %[1]s tcp dport 8080 reject with tcp reset
	}
}
`, d.host)
	f := filepath.Join(t.TempDir(), "acl.nft")
	if err := os.WriteFile(f, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	d.ns.Run(t, "nft", "-f", f)
}

func (d *mgmtDevice) check(t *testing.T, vlan string, timeout time.Duration) map[string]Result {
	t.Helper()
	c := ExposureConfig{Targets: []ExposureTarget{
		{Name: "core-fw", Host: d.addr, Role: "firewall", Ports: []int{22, 23, 80, 8080, 443}},
		{Name: "edge-sw", Host: d.addr, Role: "switch", Ports: []int{22}},
	}}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	ch, err := c.build(probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	rs := ch.run(context.Background(), &env{cfg: Config{VLAN: vlan, Timeout: timeout}, deps: probe.Deps{}.WithDefaults()})
	got := map[string]Result{}
	for _, r := range rs {
		k := r.Check + " " + r.Target
		if _, dup := got[k]; dup {
			t.Errorf("two results for %s", k)
		}
		got[k] = r
		t.Logf("%s %s: ok=%v finding=%v %s | %s | fix: %s | %v", vlan, k, r.OK, r.Finding, r.Severity, r.Detail, r.Fix, r.Fields)
	}
	// 6 ports, 3 of them cleartext (23, 80, 8080).
	if len(rs) != 9 {
		t.Errorf("%d results, want 9", len(rs))
	}
	return got
}

func expOpen(port int64, role string) map[string]any {
	return map[string]any{"port": port, "role": role, "reachable": true, "result": "open"}
}

func expClosed(port int64, result string) map[string]any {
	return map[string]any{"port": port, "reachable": false, "result": result}
}

func TestIntegrationExposure(t *testing.T) {
	d := startMgmtDevice(t)
	H, M := SeverityHigh, SeverityMedium

	// From the pupil VLAN, with nothing in the way.
	got := d.check(t, "pupil", 2*time.Second)
	wantRes(t, got, "mgmt_exposure core-fw:22", true, true, H, expOpen(22, "firewall"), "reachable from the pupil VLAN")
	wantRes(t, got, "mgmt_exposure core-fw:23", true, true, H, expOpen(23, "firewall"), "reachable from the pupil VLAN")
	wantRes(t, got, "mgmt_exposure core-fw:80", true, true, H, expOpen(80, "firewall"), "reachable from the pupil VLAN")
	wantRes(t, got, "mgmt_exposure core-fw:8080", true, true, H, expOpen(8080, "firewall"), "reachable from the pupil VLAN")
	wantRes(t, got, "mgmt_exposure core-fw:443", true, false, "", expClosed(443, "refused"), "refused the connection")
	wantRes(t, got, "mgmt_exposure edge-sw:22", true, true, M, expOpen(22, "switch"), "reachable from the pupil VLAN")
	wantRes(t, got, "mgmt_cleartext core-fw:23", true, true, H, map[string]any{"protocol": "telnet", "reachable": true}, "Telnet port 23")
	wantRes(t, got, "mgmt_cleartext core-fw:80", true, true, H, map[string]any{"protocol": "http", "http": true, "http_status": int64(200)}, "serves plain HTTP on port 80")
	wantRes(t, got, "mgmt_cleartext core-fw:8080", true, false, "", map[string]any{"protocol": "http", "http_status": int64(301), "location": "https://" + d.addr + "/"}, "only with a redirect")
	for _, k := range []string{"mgmt_exposure core-fw:22", "mgmt_exposure edge-sw:22"} {
		if fix := got[k].Fix; !strings.HasPrefix(fix, "Allow management only from the management VLAN:") || !strings.Contains(fix, d.addr) {
			t.Errorf("%s: fix %q", k, fix)
		}
	}
	if fix := got["mgmt_cleartext core-fw:23"].Fix; !strings.Contains(fix, "SSH") {
		t.Errorf("telnet fix %q", fix)
	}

	// From the management VLAN the same ports are expected; cleartext
	// management is still a finding, of medium severity.
	got = d.check(t, "management", 2*time.Second)
	for _, p := range []string{"core-fw:22", "core-fw:23", "core-fw:80", "core-fw:8080", "edge-sw:22"} {
		wantRes(t, got, "mgmt_exposure "+p, true, false, "", map[string]any{"reachable": true}, "accepted a TCP connection from the management VLAN")
	}
	wantRes(t, got, "mgmt_cleartext core-fw:23", true, true, M, map[string]any{"protocol": "telnet"}, "Telnet port 23")
	wantRes(t, got, "mgmt_cleartext core-fw:80", true, true, M, map[string]any{"http_status": int64(200)}, "plain HTTP")
	wantRes(t, got, "mgmt_cleartext core-fw:8080", true, false, "", nil, "redirect")

	// With the management ACL in place, nothing is reachable: all clean,
	// and each says how it was stopped.
	d.block(t)
	got = d.check(t, "pupil", 500*time.Millisecond)
	wantRes(t, got, "mgmt_exposure core-fw:22", true, false, "", expClosed(22, "timeout"), "timed out")
	wantRes(t, got, "mgmt_exposure core-fw:23", true, false, "", expClosed(23, "timeout"), "timed out")
	wantRes(t, got, "mgmt_exposure core-fw:80", true, false, "", expClosed(80, "timeout"), "timed out")
	wantRes(t, got, "mgmt_exposure core-fw:8080", true, false, "", expClosed(8080, "refused"), "refused")
	wantRes(t, got, "mgmt_exposure core-fw:443", true, false, "", expClosed(443, "refused"), "refused")
	wantRes(t, got, "mgmt_exposure edge-sw:22", true, false, "", expClosed(22, "timeout"), "timed out")
	wantRes(t, got, "mgmt_cleartext core-fw:23", true, false, "", expClosed(23, "timeout"), "cleartext management")
	wantRes(t, got, "mgmt_cleartext core-fw:80", true, false, "", expClosed(80, "timeout"), "cleartext management")
	wantRes(t, got, "mgmt_cleartext core-fw:8080", true, false, "", expClosed(8080, "refused"), "cleartext management")
}

// TestExposureNotHTTP: a port in the HTTP set that speaks something else is
// reachable (an exposure finding) but not counted as plain HTTP.
func TestExposureNotHTTP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("SSH-2.0-NotHTTP\r\n"))
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	var p int
	fmt.Sscan(port, &p)
	saved := httpPorts
	httpPorts = []int{p} // this test's port plays the part of 8080
	defer func() { httpPorts = saved }()
	ch, _ := (&ExposureConfig{Targets: []ExposureTarget{{Host: "127.0.0.1", Role: "ap", Ports: []int{p}}}}).build(probe.Deps{})
	rs := ch.run(context.Background(), &env{cfg: Config{VLAN: "guest", Timeout: time.Second}, deps: probe.Deps{}.WithDefaults()})
	got := map[string]Result{}
	for _, r := range rs {
		got[r.Check+" "+r.Target] = r
	}
	tag := "127.0.0.1:" + port
	wantRes(t, got, "mgmt_exposure "+tag, true, true, SeverityMedium, expOpen(int64(p), "ap"), "guest VLAN")
	wantRes(t, got, "mgmt_cleartext "+tag, true, false, "", map[string]any{"http": false, "reachable": true}, "no HTTP answer")
}

func TestReachability(t *testing.T) {
	for _, tc := range []struct {
		err    error
		result string
		ok     bool
	}{
		{nil, "open", true},
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, "refused", true},
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.EHOSTUNREACH)}, "unreachable", true},
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ENETUNREACH)}, "unreachable", false},
		{context.DeadlineExceeded, "timeout", true},
		{&net.DNSError{Err: "no such host", Name: "fw.school", IsNotFound: true}, "dns_error", false},
		{errors.New("socket: too many open files"), "error", false},
	} {
		result, ok, why := reachability(tc.err)
		if result != tc.result || ok != tc.ok || why == "" {
			t.Errorf("%v: %s ok=%v %q, want %s ok=%v", tc.err, result, ok, why, tc.result, tc.ok)
		}
	}
}

func TestExposureDefaultPorts(t *testing.T) {
	for role, want := range map[string][]int{
		"switch":     {22, 23, 80, 443, 4443, 8080, 8443},
		"firewall":   {22, 23, 80, 443, 4443, 4444, 8080, 8443},
		"controller": {22, 23, 80, 443, 4443, 8043, 8080, 8088, 8443},
		"wlc":        {22, 23, 80, 443, 4343, 4443, 8080, 8443},
		"router":     {22, 23, 80, 443, 4443, 8080, 8291, 8443},
	} {
		if got := DefaultPorts(role); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", role, got, want)
		}
	}
	if got := (ExposureTarget{Role: "ups", Ports: []int{443}}).ports(); !slices.Equal(got, []int{443}) {
		t.Errorf("configured ports replaced: %v", got)
	}
}

func TestExposureValidate(t *testing.T) {
	for _, tc := range []struct {
		c    ExposureConfig
		want []string
	}{
		{ExposureConfig{}, []string{"targets"}},
		{ExposureConfig{Targets: []ExposureTarget{{Host: "10.0.0.1", Role: "firewall"}, {Name: "sw", Host: "sw1.school.internal", Role: "switch", Ports: []int{22}}}}, nil},
		{ExposureConfig{Targets: []ExposureTarget{{Role: "firewall"}}}, []string{"targets[0].host"}},
		{ExposureConfig{Targets: []ExposureTarget{{Host: "10.0.0.1:22", Role: "nas"}}}, []string{"targets[0].host", "targets[0].role"}},
		{ExposureConfig{Targets: []ExposureTarget{{Host: "10.0.0.1", Role: "ap", Ports: []int{0, 22, 22}}}}, []string{"targets[0].ports[0]", "targets[0].ports[2]"}},
		{ExposureConfig{Targets: []ExposureTarget{{Host: "10.0.0.1", Role: "ap"}, {Host: "10.0.0.1", Role: "ups"}}}, []string{"targets[1].name"}},
	} {
		if got := cfgerr.Paths(tc.c.validate()); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: error paths %v, want %v", tc.c, got, tc.want)
		}
	}
	c := Config{VLAN: "pupil", Timeout: time.Second, Exposure: &ExposureConfig{Targets: []ExposureTarget{{Host: "10.0.0.1", Role: "core"}}}}
	if got := cfgerr.Paths(c.Validate()); !slices.Equal(got, []string{"exposure.targets[0].role"}) {
		t.Errorf("Config.Validate paths %v", got)
	}
}

// TestExposureRunEnded: ports not tried before the run's context ended are
// ok=false, never clean.
func TestExposureRunEnded(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	var p int
	fmt.Sscan(port, &p)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ch, _ := (&ExposureConfig{Targets: []ExposureTarget{{Host: "127.0.0.1", Role: "switch", Ports: []int{p}}}}).build(probe.Deps{})
	rs := ch.run(ctx, &env{cfg: Config{VLAN: "pupil", Timeout: time.Second}, deps: probe.Deps{}.WithDefaults()})
	if len(rs) != 1 || rs[0].OK || rs[0].Finding || rs[0].Fields["result"] != "error" {
		t.Errorf("results after the run ended: %+v", rs)
	}
}
