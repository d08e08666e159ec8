package e2e

import (
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/probity-edu/probity/internal/testenv"
)

// qemuArches are the agent's ARM builds (`make cross`): the qemu-user
// emulators that run each, either the static ones of Debian's
// qemu-user-static or the dynamic ones of qemu-user.
var qemuArches = []struct {
	name, goarch, goarm string
	machine             elf.Machine
	qemu                []string
}{
	{name: "arm64", goarch: "arm64", machine: elf.EM_AARCH64, qemu: []string{"qemu-aarch64-static", "qemu-aarch64"}},
	{name: "armhf", goarch: "arm", goarm: "7", machine: elf.EM_ARM, qemu: []string{"qemu-arm-static", "qemu-arm"}},
}

// TestIntegrationQemuAgent cross-builds the agent for arm64 and armhf (as
// `make cross` does) and runs `version` and `check` under qemu-user, so a
// probe that breaks only on another architecture (64-bit atomics on 32-bit
// ARM, a syscall number, struct layout in raw sockets) shows here rather
// than on a school's Raspberry Pi. The targets are all on loopback: the
// school resolver, an HTTP server, this host's stats and, as root, ping of
// 127.0.0.1.
//
// ICMP under qemu-user works both ways: raw sockets as root (mode
// privileged) and ICMP datagram sockets (mode unprivileged) when
// net.ipv4.ping_group_range admits the user. The host's range is left
// alone ("1 0", nobody, on Debian), so the unprivileged run happens in a
// namespace whose range the test widens.
func TestIntegrationQemuAgent(t *testing.T) {
	testenv.RequireIntegration(t, "cross-builds the agent and runs it under qemu-user")
	for _, a := range qemuArches {
		t.Run(a.name, func(t *testing.T) {
			var qemu string
			for _, name := range a.qemu {
				if p, err := exec.LookPath(name); err == nil {
					qemu = p
					break
				}
			}
			if qemu == "" {
				// apt-get install -y --no-install-recommends qemu-user-static
				testenv.Unavailable(t, "none of %s is installed (Debian package qemu-user-static)", strings.Join(a.qemu, ", "))
			}
			bin := crossAgent(t, a.goarch, a.goarm)

			// The binary is what it claims to be, so the test cannot pass by
			// running a host build.
			f, err := elf.Open(bin)
			if err != nil {
				t.Fatal(err)
			}
			if f.Machine != a.machine {
				t.Fatalf("%s is built for %v, want %v", bin, f.Machine, a.machine)
			}
			f.Close()
			if a.goarm != "" {
				bi, err := buildinfo.ReadFile(bin)
				if err != nil {
					t.Fatal(err)
				}
				if got := buildSetting(bi, "GOARM"); got != a.goarm {
					t.Fatalf("%s: GOARM=%q in its build info, want %q", bin, got, a.goarm)
				}
			}

			ver := run(t, qemu, bin, "version")
			if want := "linux/" + a.goarch + ")"; !strings.Contains(ver, want) {
				t.Fatalf("version under %s = %q, want it to name %s", filepath.Base(qemu), ver, want)
			}

			resolver := schoolResolver(t)
			web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintln(w, "<html><body>a school's intranet</body></html>")
			}))
			t.Cleanup(web.Close)

			probes := fmt.Sprintf(`
  - name: safesearch
    kind: dns
    interval: 1m
    dns:
      resolvers: ["%s"]
      queries: [{name: www.google.com}, {name: www.youtube.com}]
      timeout: 5s
  - name: intranet
    kind: http
    interval: 1m
    http: {targets: [{url: "%s/", name: intranet, role: cloud}], timeout: 10s}
  - name: host
    kind: host
    interval: 1m
`, resolver, web.URL)
			want := []checkWant{
				{"safesearch", "dns", "www.google.com A @" + resolver, []string{"rcode=NOERROR", "answer=forcesafesearch.google.com,216.239.38.120"}},
				{"safesearch", "dns", "www.youtube.com A @" + resolver, []string{"rcode=NOERROR", "answer=restrict.youtube.com,216.239.38.120"}},
				{"intranet", "http", "intranet", []string{"status=200", "total_ms="}},
				{"host", "host", "", []string{"cpu_pct=", "mem_pct=", "disk_pct="}},
			}
			if os.Geteuid() == 0 {
				probes += `
  - name: loopback
    kind: ping
    interval: 1m
    ping: {targets: [{host: 127.0.0.1, role: gateway}], count: 5, interval: 50ms, mode: privileged}
`
				want = append(want, checkWant{"loopback", "ping", "127.0.0.1", []string{"loss_pct=0 ", "icmp_mode=privileged"}})
			} else {
				t.Log("not root: ping left out (raw ICMP needs root, and the host's ping_group_range is not ours to widen)")
			}
			out := qemuCheck(t, nil, qemu, bin, probes)
			assertCheck(t, out, want)

			if os.Geteuid() != 0 {
				return
			}
			ns := testenv.NewNetns(t)
			ns.Sysctl(t, "net.ipv4.ping_group_range", "0 2147483647")
			out = qemuCheck(t, ns, qemu, bin, `
  - name: loopback
    kind: ping
    interval: 1m
    ping: {targets: [{host: 127.0.0.1, role: gateway}], count: 5, interval: 50ms, mode: unprivileged}
`)
			assertCheck(t, out, []checkWant{{"loopback", "ping", "127.0.0.1", []string{"loss_pct=0 ", "icmp_mode=unprivileged"}}})
		})
	}
}

// crossAgent builds the agent for linux/goarch as `make cross` does
// (CGO_ENABLED=0, -trimpath, so the compile cache is shared with it and
// only the link is repeated).
func crossAgent(t *testing.T, goarch, goarm string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "probity-agent-linux-"+goarch)
	if err := goBuild(bin, "./agent", []string{"GOOS=linux", "GOARCH=" + goarch, "GOARM=" + goarm}, "-trimpath"); err != nil {
		t.Fatalf("for %s: %v", goarch, err)
	}
	return bin
}

func buildSetting(bi *buildinfo.BuildInfo, key string) string {
	for _, s := range bi.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

// qemuCheck writes an agent configuration with probes (YAML list items)
// and runs `check` on it under qemu, inside ns when it is not nil. A probe
// that could not measure makes check exit 1, which fails the test.
func qemuCheck(t *testing.T, ns *testenv.Netns, qemu, bin, probes string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "agent.yaml")
	writeFile(t, cfg, fmt.Sprintf("state_dir: %s\nlog: {level: info, format: json}\nprobes:%s", filepath.Join(dir, "state"), probes))
	var out string
	if ns != nil {
		out = run(t, "ip", "netns", "exec", ns.Name, qemu, bin, "check", "--config", cfg)
	} else {
		out = run(t, qemu, bin, "check", "--config", cfg)
	}
	t.Logf("%s check:\n%s", filepath.Base(qemu), out)
	return out
}

// checkWant is a row that `check` must print: the probe, its kind, the
// target column (empty: any), result ok, and these key figures.
type checkWant struct {
	probe, kind, target string
	figures             []string
}

var checkSummary = regexp.MustCompile(`(\d+) probes, (\d+) targets measured, (\d+) targets failing, (\d+) probes could not measure\.`)

// assertCheck finds each wanted row in check's table (columns are
// separated by two or more spaces) and the summary line's counts.
func assertCheck(t *testing.T, out string, want []checkWant) {
	t.Helper()
	cols := regexp.MustCompile(` {2,}`)
	var rows [][]string
	for _, line := range strings.Split(out, "\n") {
		if f := cols.Split(strings.TrimSpace(line), 5); len(f) >= 4 {
			rows = append(rows, f)
		}
	}
	for _, w := range want {
		found := false
		for _, r := range rows {
			if r[0] != w.probe || r[1] != w.kind || (w.target != "" && r[2] != w.target) {
				continue
			}
			found = true
			if r[3] != "ok" {
				t.Errorf("%s %s %s: result %q, want ok", w.probe, w.kind, r[2], r[3])
			}
			figs := ""
			if len(r) == 5 {
				figs = r[4] + " "
			}
			for _, f := range w.figures {
				if !strings.Contains(figs, f) {
					t.Errorf("%s %s %s: key figures %q lack %q", w.probe, w.kind, r[2], strings.TrimSpace(figs), f)
				}
			}
		}
		if !found {
			t.Errorf("check printed no row for probe %s (%s) target %q", w.probe, w.kind, w.target)
		}
	}
	m := checkSummary.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("check printed no summary line")
	}
	if m[2] != fmt.Sprint(len(want)) || m[3] != "0" || m[4] != "0" {
		t.Errorf("summary %q: want %d targets measured, none failing, every probe measured", m[0], len(want))
	}
}
