package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/probity-edu/probity/internal/testenv"
)

// TestBenchThroughput is `make bench-throughput`, not a test: Probity (4
// streams) and `iperf3 -P 4` alternately on the same shaped link, several
// rounds per rate, with CPU seconds per GB for each (client and server
// together). It rewrites its section of docs/benchmarks.md.
func TestBenchThroughput(t *testing.T) {
	if os.Getenv("PROBITY_BENCH_THROUGHPUT") == "" {
		t.Skip("a benchmark: run it with make bench-throughput")
	}
	testenv.RequireRoot(t)
	iperfBin := testenv.RequireBinary(t, "iperf3")
	rounds := 3
	if v, err := strconv.Atoi(os.Getenv("PROBITY_BENCH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	dur := 10 * time.Second
	type linkCase struct {
		mbit  float64
		delay time.Duration
	}
	cases := []linkCase{{50, 0}, {100, 0}, {500, 0}, {1000, 0}, {100, 10 * time.Millisecond}}
	// PROBITY_BENCH_ONLY=500,100+20ms picks cases while tuning; the table
	// in docs/benchmarks.md is only rewritten by a full run.
	only := os.Getenv("PROBITY_BENCH_ONLY")
	var rows []benchRow
	for _, lc := range cases {
		key := fmt.Sprintf("%.0f", lc.mbit)
		if lc.delay > 0 {
			key += fmt.Sprintf("+%dms", 2*lc.delay/time.Millisecond)
		}
		if only != "" && !slices.Contains(strings.Split(only, ","), key) {
			continue
		}
		for _, dir := range []string{"download", "upload"} {
			name := fmt.Sprintf("%.0fmbit-%s", lc.mbit, dir)
			if lc.delay > 0 {
				name = fmt.Sprintf("%.0fmbit-%dms-rtt-%s", lc.mbit, 2*lc.delay/time.Millisecond, dir)
			}
			t.Run(name, func(t *testing.T) {
				link := testenv.NewShapedLink(t, testenv.LinkOptions{Rate: lc.mbit * 1e6, Delay: lc.delay})
				base, srv := startSpeedtest(t, link.Server, link.ServerAddr, 18090)
				iperfPort := 15301
				iperfSrv := start(t, "iperf3 -s", "ip", "netns", "exec", link.Server.Name, iperfBin, "-s",
					"-B", link.ServerAddr.String(), "-p", strconv.Itoa(iperfPort))
				eventually(t, 10*time.Second, "iperf3 -s listening", func() bool {
					out, _ := link.Server.Command(t.Context(), "ss", "-H", "-l", "-t", "-n", "sport", "=", ":"+strconv.Itoa(iperfPort)).Output()
					return strings.TrimSpace(string(out)) != ""
				})
				row := benchRow{rate: lc.mbit, rtt: 2 * lc.delay, dir: dir}
				for r := 0; r < rounds; r++ {
					// iperf3 first in even rounds, Probity first in odd ones.
					for _, tool := range map[bool][]string{true: {"iperf3", "probity"}, false: {"probity", "iperf3"}}[r%2 == 0] {
						if tool == "iperf3" {
							before := procCPU(t, iperfSrv.cmd.Process.Pid)
							mbps, gb, cpu := runIperf3Bench(t, link.Client, iperfBin, link.ServerAddr.String(), iperfPort, dir, dur)
							srvCPU := procCPU(t, iperfSrv.cmd.Process.Pid) - before
							row.iperf = append(row.iperf, mbps)
							row.iperfCPU = append(row.iperfCPU, (cpu+srvCPU)/gb)
							t.Logf("round %d iperf3: %.1f Mbit/s, %.2f CPU s/GB (client %.2f s, server %.2f s)", r, mbps, (cpu+srvCPU)/gb, cpu, srvCPU)
						} else {
							before := procCPU(t, srv.cmd.Process.Pid)
							cfg := tpConfig(base)
							cfg.Duration, cfg.Directions = dur, []string{dir}
							res := runProbeBench(t, link.Client, cfg)
							srvCPU := procCPU(t, srv.cmd.Process.Pid) - before
							if len(res.Points) != 1 || res.Points[0].Fields["ok"] != true {
								t.Fatalf("probity run failed: %+v", res.Points)
							}
							p := res.Points[0]
							gb := p.f("bytes") / 1e9
							row.probity = append(row.probity, p.f("mbps"))
							row.probityCPU = append(row.probityCPU, (res.CPUSeconds+srvCPU)/gb)
							t.Logf("round %d probity: %.1f Mbit/s (mean %.1f, limit %v), %.2f CPU s/GB (client %.2f s, server %.2f s)", r, p.f("mbps"), p.f("mbps_mean"), p.Fields["limit_reason"], (res.CPUSeconds+srvCPU)/gb, res.CPUSeconds, srvCPU)
						}
					}
				}
				rows = append(rows, row)
			})
		}
	}
	if only != "" {
		t.Logf("PROBITY_BENCH_ONLY set: docs/benchmarks.md left alone")
		for _, r := range rows {
			t.Logf("%.0f Mbit/s %s %s: iperf3 %.1f probity %.1f; CPU s/GB iperf3 %.2f probity %.2f (ratio %.2f)",
				r.rate, r.rtt, r.dir, med(r.iperf), med(r.probity), med(r.iperfCPU), med(r.probityCPU), med(r.probityCPU)/med(r.iperfCPU))
		}
		return
	}
	writeBenchTable(t, rows, rounds, dur)
}

type benchRow struct {
	rate                 float64
	rtt                  time.Duration
	dir                  string
	iperf, probity       []float64
	iperfCPU, probityCPU []float64
}

func med(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// procCPU is a process's user+system CPU seconds so far.
func procCPU(t *testing.T, pid int) float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatalf("reading CPU of pid %d: %v", pid, err)
	}
	// Fields after the ")" that ends the command name: utime is the 12th, stime the 13th.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ is 100 on Linux
}

// runIperf3Bench runs one iperf3 client in ns and returns the receiver's
// Mbit/s, the GB received and the client's CPU seconds.
func runIperf3Bench(t *testing.T, ns *testenv.Netns, bin, addr string, port int, dir string, dur time.Duration) (mbps, gb, cpu float64) {
	t.Helper()
	args := []string{"netns", "exec", ns.Name, bin, "-c", addr, "-p", strconv.Itoa(port), "-P", "4",
		"-t", strconv.Itoa(int(dur.Seconds())), "--json"}
	if dir == "download" {
		args = append(args, "-R")
	}
	cmd := exec.Command("ip", args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("iperf3: %v: %s", err, out.String())
	}
	var rep struct {
		Error string `json:"error"`
		End   struct {
			SumReceived struct {
				Bytes         float64 `json:"bytes"`
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Error != "" || rep.End.SumReceived.Bytes == 0 {
		t.Fatalf("iperf3 gave no result: %v %s", err, rep.Error)
	}
	ps := cmd.ProcessState
	return rep.End.SumReceived.BitsPerSecond / 1e6, rep.End.SumReceived.Bytes / 1e9, (ps.UserTime() + ps.SystemTime()).Seconds()
}

type benchResult struct {
	Points     []tpResult `json:"points"`
	CPUSeconds float64    `json:"cpu_seconds"`
}

func runProbeBench(t *testing.T, ns *testenv.Netns, cfg any) benchResult {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out benchResult
	ns.RunHelper(t, "TestHelperThroughputBench", &out, "PROBITY_TP_CONFIG="+string(b), "PROBITY_TP_TOKEN="+tpToken)
	return out
}

// TestHelperThroughputBench runs the probe once and measures its own CPU.
func TestHelperThroughputBench(t *testing.T) {
	if !testenv.IsHelper(t) {
		t.Skip("helper process only")
	}
	var cfg = tpConfig("")
	if err := json.Unmarshal([]byte(os.Getenv("PROBITY_TP_CONFIG")), &cfg); err != nil {
		t.Fatal(err)
	}
	waitListening(t, cfg.Server)
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	pts := probeOnce(t, cfg, os.Getenv("PROBITY_TP_TOKEN"))
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := func(r syscall.Rusage) float64 {
		return time.Duration(r.Utime.Nano() + r.Stime.Nano()).Seconds()
	}
	testenv.WriteHelperResult(t, benchResult{Points: pts, CPUSeconds: cpu(after) - cpu(before)})
}

const (
	benchStart = "<!-- bench-throughput:start -->"
	benchEnd   = "<!-- bench-throughput:end -->"
)

func writeBenchTable(t *testing.T, rows []benchRow, rounds int, dur time.Duration) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", benchStart)
	fmt.Fprintf(&b, "Run on %s, %s/%s, %d CPUs; %d rounds of %s per tool, alternating; medians. CPU is client and server together, user + system.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), rounds, dur)
	b.WriteString("| shaped rate | RTT added | direction | iperf3 -P 4 (Mbit/s) | Probity, 4 streams (Mbit/s) | Probity / iperf3 | Probity / shaped | iperf3 CPU s/GB | Probity CPU s/GB | CPU ratio |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		ip, pr := med(r.iperf), med(r.probity)
		ic, pc := med(r.iperfCPU), med(r.probityCPU)
		rtt := "none"
		if r.rtt > 0 {
			rtt = r.rtt.String()
		}
		fmt.Fprintf(&b, "| %.0f Mbit/s | %s | %s | %.1f | %.1f | %.3f | %.3f | %.2f | %.2f | %.2f |\n",
			r.rate, rtt, r.dir, ip, pr, pr/ip, pr/r.rate, ic, pc, pc/ic)
	}
	fmt.Fprintf(&b, "%s\n", benchEnd)

	writeBenchBlock(t, benchStart, benchEnd, b.String())
}
