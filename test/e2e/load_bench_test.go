package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/loadgen"

	"github.com/probity-edu/probity/internal/testenv"
)

const (
	loadStartMark = "<!-- load:begin -->"
	loadEndMark   = "<!-- load:end -->"
)

// loadScenario is one arrangement of collectors and store the load
// benchmark searches. skip, when set, says why it cannot run yet.
type loadScenario struct {
	id         string // for PROBITY_BENCH_LOAD_SCENARIOS and its docs markers
	name       string
	store      string // sqlite or postgres
	collectors int
	// cpuBudget is the cores each collector process may use, enforced by
	// a CPU cgroup of its own, as if each ran on a machine of that size
	// (PostgreSQL and the load generator share the rest); 0 is unlimited.
	cpuBudget float64
	// switches is what each simulated school polls (loadgen --switches);
	// 0 is loadgen.Switches, a secondary's 20.
	switches int
	// levels, when set, are run as they are instead of searched, each
	// after warmup and measured for step (the run's own when zero): a
	// target held for minutes on a fresh store, not a search whose
	// levels past an overload inherit its backlog.
	levels       []int
	warmup, step time.Duration
	skip         string
}

// schoolSwitches is the switches each of the scenario's schools polls.
func (sc loadScenario) schoolSwitches() int {
	if sc.switches > 0 {
		return sc.switches
	}
	return loadgen.Switches
}

// firstLevel is the scenario's first level: a budgeted scenario starts
// at its share of the machine's CPUs, so as not to start far past what
// it can carry.
func (sc loadScenario) firstLevel(first int) int {
	if sc.cpuBudget <= 0 {
		return first
	}
	return max(25, int(math.Round(float64(first)*sc.cpuBudget*float64(sc.collectors)/float64(runtime.NumCPU()))))
}

// loadScenarios are the arrangements searched; skip, when set, says why
// one cannot run.
var loadScenarios = []loadScenario{
	{id: "sqlite", name: "one collector, SQLite", store: "sqlite", collectors: 1},
	// The issue's own school: 22,000 of them at 300 points a minute make
	// its 110,000 points a second.
	{id: "sqlite-small", name: "one collector, SQLite, small schools (5 switches, 300 points a minute)", store: "sqlite", collectors: 1, switches: 5},
	{id: "sqlite-22000", name: "one collector, SQLite, 22,000 small schools held for 3 minutes after 3 of warm-up (the issue's target)", store: "sqlite",
		collectors: 1, switches: 5, levels: []int{22000}, warmup: 3 * time.Minute, step: 3 * time.Minute},
	{id: "postgres", name: "one collector, PostgreSQL", store: "postgres", collectors: 1},
	{id: "postgres-2", name: "two collectors, one PostgreSQL", store: "postgres", collectors: 2},
	{id: "sqlite-1core", name: "one collector, SQLite, held to 1 core", store: "sqlite", collectors: 1, cpuBudget: 1.0},
	{id: "postgres-budget", name: "one collector held to 0.5 core, PostgreSQL", store: "postgres", collectors: 1, cpuBudget: 0.5},
	{id: "postgres-2-budget", name: "two collectors held to 0.5 core each, one PostgreSQL", store: "postgres", collectors: 2, cpuBudget: 0.5},
}

// loadPostgresDSN starts a real PostgreSQL on loopback for the scenario
// and returns a fresh database every collector of it shares, durable as
// the collector's SQLite is (WAL fsynced in the background).
func loadPostgresDSN(t *testing.T) string {
	t.Helper()
	return testenv.StartPostgresDurable(t).NewDatabase(t)
}

// loadCollectorConfig is one collector's configuration in the scenario.
func loadCollectorConfig(sc loadScenario, port int, dataDir, dsn string) string {
	cfg := fmt.Sprintf("listen: 127.0.0.1:%d\ndata_dir: %s\nlog: {level: warn, format: json}\n", port, dataDir)
	// The rollup job runs at start and then every 10 minutes, and scoring
	// (every 5) rolls up first, so with warm-ups they run during a
	// scenario's levels. Set longer intervals to measure ingest alone.
	var jobs []string
	for env, key := range map[string]string{"PROBITY_BENCH_LOAD_ROLLUP_EVERY": "rollup_every", "PROBITY_BENCH_LOAD_SCORE_EVERY": "score_every"} {
		if d := os.Getenv(env); d != "" {
			jobs = append(jobs, key+": "+d)
		}
	}
	if len(jobs) > 0 {
		slices.Sort(jobs)
		cfg += "jobs: {" + strings.Join(jobs, ", ") + "}\n"
	}
	if sc.store == "postgres" {
		cfg += fmt.Sprintf("store: {driver: postgres, dsn: %q}\n", dsn)
	}
	return cfg
}

// loadStep is one load level of the search.
type loadStep struct {
	schools    int
	r          loadgen.Result
	collCPU    float64     // cores used by the collectors over the run
	throttle   cpuThrottle // the collectors' CPU cgroups over the run, summed (budgeted scenarios)
	genCPU     float64     // cores used by the load generator
	busy       float64     // machine busy share, 0-1
	serverMean float64     // mean time the collectors took per write, ms (their /metrics)
	storeMB    float64     // SQLite files after the level (0 for PostgreSQL)
}

func (s loadStep) ok() bool { return s.r.KeptUp() }

// TestBenchLoad is `make bench-load`, not a test: for each scenario it
// starts real collectors, makes simulated schools with `probity-collector
// loadgen --setup`, and raises the number of schools sending a real
// school's mix at real intervals while ingest keeps up (points accepted
// at least 95% of offered, p99 ingest latency under 1 s): doubling, then
// halving the gap between the last level that kept up and the first that
// did not. It writes the levels and the most schools carried into
// docs/benchmarks.md, each scenario between its own markers
// (<!-- load:ID:begin --> and <!-- load:ID:end -->), rewriting only the
// scenarios the run completed. Each level first runs unmeasured for
// PROBITY_BENCH_LOAD_WARMUP (default 60s, one SNMP interval), so that its
// schools' series exist, as they do in a collector that has been running:
// without it every level would measure the first sight of every series.
// After it the collectors are let finish what they were sent.
// PROBITY_BENCH_LOAD_STEP sets a level's measured length (default 20s),
// PROBITY_BENCH_LOAD_START the first level (default 250 schools; a
// budgeted scenario starts at its share of the CPUs, at least 25),
// PROBITY_BENCH_LOAD_SCENARIOS the scenario ids to run (comma-separated:
// sqlite, sqlite-small (schools of the 300 points a minute),
// sqlite-22000 (22,000 of them held for minutes: the target),
// postgres, postgres-2, and the budgeted sqlite-1core,
// postgres-budget and postgres-2-budget, which `make bench-load-budget`
// runs), and PROBITY_BENCH_LOAD_ROLLUP_EVERY and
// PROBITY_BENCH_LOAD_SCORE_EVERY the collectors' jobs.rollup_every and
// jobs.score_every.
//
// The budgeted scenarios hold each collector process to a fixed number of
// cores with a CPU cgroup of its own (cgroup v1's cpu controller, or
// cgroup v2's cpu.max; root only), like identical machines, while
// PostgreSQL and the load generator use the rest: on a machine whose few
// cores everything shares, that is how scaling out can be measured. Where
// CPU cgroups cannot be used they skip, saying why, and their sections of
// the docs are left as they were.
func TestBenchLoad(t *testing.T) {
	if os.Getenv("PROBITY_BENCH_LOAD") == "" {
		t.Skip("a benchmark: run it with make bench-load")
	}
	step := 20 * time.Second
	if d, err := time.ParseDuration(os.Getenv("PROBITY_BENCH_LOAD_STEP")); err == nil && d > 0 {
		step = d
	}
	warmup := time.Minute
	if d, err := time.ParseDuration(os.Getenv("PROBITY_BENCH_LOAD_WARMUP")); err == nil && d >= 0 {
		warmup = d
	}
	first := 250
	if n, err := strconv.Atoi(os.Getenv("PROBITY_BENCH_LOAD_START")); err == nil && n > 0 {
		first = n
	}
	raiseFileLimit(t)
	want := map[string]bool{}
	for _, id := range strings.Split(os.Getenv("PROBITY_BENCH_LOAD_SCENARIOS"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			if !slices.ContainsFunc(loadScenarios, func(sc loadScenario) bool { return sc.id == id }) {
				t.Fatalf("PROBITY_BENCH_LOAD_SCENARIOS: no scenario %q", id)
			}
			want[id] = true
		}
	}
	sections := map[string]string{} // scenario id → its section, for those that ran
	var ids []string
	for _, sc := range loadScenarios {
		if len(want) > 0 && !want[sc.id] {
			continue
		}
		var section string
		ok := t.Run(sc.id, func(t *testing.T) {
			if sc.skip != "" {
				section = fmt.Sprintf("**%s**: not run (%s).\n", sc.name, sc.skip)
				t.Skip(sc.skip)
			}
			st, wu := step, warmup
			if sc.step > 0 {
				st = sc.step
			}
			if sc.warmup > 0 {
				wu = sc.warmup
			}
			section = loadHead(sc, st, wu, time.Now()) + loadScenarioRun(t, sc, sc.firstLevel(first), st, wu)
		})
		// A scenario that failed, or skipped for want of what it needs
		// here (CPU cgroups), keeps the section of its last run.
		if ok && section != "" {
			sections[sc.id] = section
			ids = append(ids, sc.id)
		}
	}
	if len(ids) == 0 {
		return
	}
	var all strings.Builder
	for _, id := range ids {
		all.WriteString(sections[id] + "\n")
	}
	if os.Getenv("PROBITY_BENCH_NOWRITE") != "" {
		t.Logf("not writing docs/benchmarks.md:\n%s", all.String())
		return
	}
	if t.Failed() {
		t.Logf("writing only the scenarios that completed: %s", strings.Join(ids, ", "))
	}
	writeLoadSections(t, ids, sections)
}

// raiseFileLimit lets the collectors and load generators this process
// starts hold as many connections as a collector under systemd may (its
// default hard limit is 524,288 open files): at a level of tens of
// thousands of schools past what the collector carries, the POSTs in
// flight at once can pass a shell's usual 20,000 or 1,024. Only root may
// raise the hard limit; others keep theirs, and say so.
func raiseFileLimit(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Logf("open files limit: %v", err)
		return
	}
	const want = 262144
	if lim.Max >= want {
		return
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: want, Max: want}); err != nil {
		t.Logf("open files limit stays %d (raising it to %d: %v): a level far past what the collectors carry may run out", lim.Max, want, err)
	}
}

// loadHead is the line that begins a scenario's section: when and where
// it ran, and how.
func loadHead(sc loadScenario, step, warmup time.Duration, now time.Time) string {
	cpus := fmt.Sprintf("%d CPUs shared by the collectors and the load generator", runtime.NumCPU())
	if sc.store == "postgres" {
		cpus = fmt.Sprintf("%d CPUs shared by the collectors, PostgreSQL and the load generator", runtime.NumCPU())
	}
	if sc.cpuBudget > 0 {
		rest := "the load generator"
		if sc.store == "postgres" {
			rest = "PostgreSQL and the load generator"
		}
		cpus = fmt.Sprintf("%d CPUs, each collector held to %.2f cores by a CPU cgroup of its own (as on a machine of its own), %s using the rest", runtime.NumCPU(), sc.cpuBudget, rest)
	}
	return fmt.Sprintf("Run on %s, %s/%s, %s; levels of %s at real intervals, each after %s unmeasured (%.0f points per school a minute).\n\n",
		now.UTC().Format("2006-01-02 15:04 MST"), runtime.GOOS, runtime.GOARCH, cpus, step, warmup, loadgen.TotalPerMinute(loadgen.MixOf(sc.schoolSwitches())))
}

// loadScenarioRun searches one scenario and returns its section.
func loadScenarioRun(t *testing.T, sc loadScenario, first int, step, warmup time.Duration) string {
	if sc.cpuBudget > 0 {
		// Say so before starting anything.
		if _, _, err := cpuCgroupParent(); err != nil {
			t.Skipf("cannot hold collectors to a CPU budget: %v", err)
		}
	}
	_, collectorBin := binaries(t)
	dir := t.TempDir()
	dsn := ""
	if sc.store == "postgres" {
		dsn = loadPostgresDSN(t)
	}
	var urls, cfgs []string
	var procs []*proc
	var groups []*cpuGroup
	for i := range sc.collectors {
		port := freePort(t)
		cfg := filepath.Join(dir, fmt.Sprintf("collector-%d.yaml", i))
		// With PostgreSQL the collectors share the database; each keeps
		// its own data directory for what is not in the store.
		writeFile(t, cfg, loadCollectorConfig(sc, port, filepath.Join(dir, fmt.Sprintf("data-%d", i)), dsn))
		url := fmt.Sprintf("http://127.0.0.1:%d", port)
		p := start(t, fmt.Sprintf("collector %d", i), collectorBin, "serve", "--config", cfg)
		if sc.cpuBudget > 0 {
			groups = append(groups, budgetProcess(t, p, i, sc.cpuBudget))
		}
		eventually(t, 20*time.Second, "collector /healthz", func() bool {
			resp, err := http.Get(url + "/healthz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
		urls, cfgs, procs = append(urls, url), append(cfgs, cfg), append(procs, p)
	}
	agents := filepath.Join(dir, "agents.json")
	loadgenArgs := func(n int, extra ...string) []string {
		a := []string{"loadgen", "--config", cfgs[0], "--agents", agents, "--collector", strings.Join(urls, ","), "--schools", strconv.Itoa(n),
			"--switches", strconv.Itoa(sc.schoolSwitches())}
		return append(a, extra...)
	}

	throttle := func() cpuThrottle {
		var sum cpuThrottle
		for _, g := range groups {
			c, err := g.stat()
			if err != nil {
				t.Fatalf("reading %s/cpu.stat: %v", g.dir, err)
			}
			sum = sum.add(c)
		}
		return sum
	}

	runStep := func(n int) loadStep {
		// SQLite lets the loadgen's own store writes wait only so long
		// for the serving collector's writer: try again if they gave up.
		for attempt := 1; ; attempt++ {
			var out bytes.Buffer
			cmd := exec.Command(collectorBin, loadgenArgs(n, "--setup", "--duration", "0")...)
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			if err == nil {
				break
			}
			if attempt == 3 {
				t.Fatalf("loadgen --setup %d schools: %v\n%s", n, err, out.String())
			}
			t.Logf("loadgen --setup %d schools, attempt %d: %v\n%s", n, attempt, err, out.String())
			time.Sleep(2 * time.Second)
		}
		if warmup > 0 {
			var out bytes.Buffer
			cmd := exec.Command(collectorBin, loadgenArgs(n, "--duration", warmup.String(), "--drain", "15s", "--progress", "30s")...)
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("loadgen %d schools, warming up: %v\n%s", n, err, out.String())
			}
			// A level past what the collectors carry leaves them a
			// backlog of requests the warm-up gave up on: let them
			// finish it (their CPU falls idle), or the level measures it.
			for range 60 {
				var c0, c1 float64
				for _, p := range procs {
					c0 += procCPU(t, p.cmd.Process.Pid)
				}
				time.Sleep(2 * time.Second)
				for _, p := range procs {
					c1 += procCPU(t, p.cmd.Process.Pid)
				}
				if (c1-c0)/2 < 0.1 {
					break
				}
			}
		}
		var cpu0 float64
		for _, p := range procs {
			cpu0 += procCPU(t, p.cmd.Process.Pid)
		}
		srv0, cnt0 := loadWriteSeconds(t, urls)
		busy0, total0 := machineCPU(t)
		thr0 := throttle()
		began := time.Now()
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(collectorBin, loadgenArgs(n, "--duration", step.String(), "--drain", "15s", "--progress", "10s", "--json")...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("loadgen %d schools: %v\n%s", n, err, stderr.String())
		}
		wall := time.Since(began).Seconds()
		thr1 := throttle()
		busy1, total1 := machineCPU(t)
		srv1, cnt1 := loadWriteSeconds(t, urls)
		var cpu1 float64
		for _, p := range procs {
			cpu1 += procCPU(t, p.cmd.Process.Pid)
		}
		s := loadStep{schools: n, collCPU: (cpu1 - cpu0) / wall, throttle: thr1.sub(thr0), busy: (busy1 - busy0) / (total1 - total0)}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			s.genCPU = rusageSecs(*ru) / wall
		}
		if cnt1 > cnt0 {
			s.serverMean = (srv1 - srv0) / (cnt1 - cnt0) * 1000
		}
		if err := json.Unmarshal(stdout.Bytes(), &s.r); err != nil {
			t.Fatalf("loadgen summary: %v\n%s", err, stdout.String())
		}
		s.storeMB = loadStoreMB(dir)
		throttled := ""
		if sc.cpuBudget > 0 {
			throttled = fmt.Sprintf(" of a budget of %.2f, throttled in %d of %d periods (%.0f%%) for %.1fs in all",
				sc.cpuBudget*float64(sc.collectors), s.throttle.throttled, s.throttle.periods, s.throttle.share(), s.throttle.throttledTime.Seconds())
		}
		t.Logf("%d schools: %s; collector %.2f cores%s, loadgen %.2f cores, machine %.0f%% busy, collector's own mean write %.1f ms, store %.0f MB\n%s",
			n, s.r, s.collCPU, throttled, s.genCPU, 100*s.busy, s.serverMean, s.storeMB, stderr.String())
		return s
	}

	var steps []loadStep
	lo, hi := 0, 0 // most that kept up, least that did not
	var best loadStep
	if sc.levels != nil {
		for _, n := range sc.levels {
			s := runStep(n)
			steps = append(steps, s)
			if s.ok() && n > lo {
				lo, best = n, s
			} else if !s.ok() && (hi == 0 || n < hi) {
				hi = n
			}
		}
		return loadSection(sc, steps, best, lo, hi)
	}
	// Double while ingest keeps up, then bisect; stop at about 3 minutes
	// of levels or when the gap is under 15%.
	budget := max(5, int((3*time.Minute)/(step+5*time.Second)))
	for n := first; len(steps) < budget; {
		s := runStep(n)
		steps = append(steps, s)
		if s.ok() {
			lo, best = n, s
		} else {
			hi = n
		}
		if hi == 0 {
			n *= 2
			continue
		}
		if lo == 0 {
			if n <= 10 {
				break
			}
			n /= 2
			continue
		}
		if float64(hi)/float64(lo) < 1.15 {
			break
		}
		n = (lo + hi) / 2
	}
	return loadSection(sc, steps, best, lo, hi)
}

// loadStoreMB is the size of the SQLite files under dir, in MB.
func loadStoreMB(dir string) float64 {
	var n int64
	_ = filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.Contains(fi.Name(), ".db") {
			n += fi.Size()
		}
		return nil
	})
	return float64(n) / 1e6
}

// loadWriteSeconds sums the collectors' time spent in POST /api/v1/write
// and the number of writes, from /metrics: writes answered 200 only, so
// that quick refusals of a busy collector (503) do not pull the mean down.
func loadWriteSeconds(t *testing.T, urls []string) (secs, count float64) {
	t.Helper()
	for _, u := range urls {
		resp, err := http.Get(u + "/metrics")
		if err != nil {
			t.Fatalf("metrics of %s: %v", u, err)
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if !strings.Contains(line, `route="POST /api/v1/write"`) || !strings.Contains(line, `code="200"`) {
				continue
			}
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			switch {
			case strings.HasPrefix(line, "probity_http_request_duration_seconds_sum"):
				secs += v
			case strings.HasPrefix(line, "probity_http_request_duration_seconds_count"):
				count += v
			}
		}
		resp.Body.Close()
	}
	return secs, count
}

// loadLimit names what most likely stopped a level that did not keep up.
func loadLimit(s loadStep, sc loadScenario) string {
	if n := s.r.Errors["503"]; n > 0 {
		// Admission control (ingest.max_inflight_writes) refused these;
		// what follows says what kept the writes in progress.
		return fmt.Sprintf("%d writes refused as busy (503); %s", n, loadLimitCause(s, sc))
	}
	return loadLimitCause(s, sc)
}

func loadLimitCause(s loadStep, sc loadScenario) string {
	collectors := sc.collectors
	budget := sc.cpuBudget * float64(collectors)
	switch {
	case sc.cpuBudget > 0 && s.collCPU >= 0.85*budget:
		return fmt.Sprintf("the collectors' CPU budget (%.2f of %.2f cores)", s.collCPU, budget)
	case s.busy >= 0.9:
		return fmt.Sprintf("the machine's CPU (%.0f%% busy: collector %.2f cores, load generator %.2f)", 100*s.busy, s.collCPU, s.genCPU)
	case s.collCPU >= 0.85*float64(collectors) && s.serverMean > 100:
		return fmt.Sprintf("the collector: %.2f cores, %.0f ms a write inside it (the store's single writer)", s.collCPU, s.serverMean)
	case s.serverMean > 100:
		return fmt.Sprintf("the store: %.0f ms a write inside the collector at %.2f cores (waiting on the writer)", s.serverMean, s.collCPU)
	default:
		return fmt.Sprintf("latency outside the collector (%.0f ms a write inside it, p99 %.0f ms seen by the agents)", s.serverMean, s.r.P99ms)
	}
}

func loadSection(sc loadScenario, steps []loadStep, best loadStep, lo, hi int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**\n\n", sc.name)
	b.WriteString("| schools | offered points/s | accepted points/s | accepted | p50 ms | p95 ms | p99 ms | mean write in the collector, ms | collector CPU, cores | collector throttled, % of periods | load generator CPU, cores | machine busy | store after, MB | errors | kept up |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range steps {
		var errs []string
		for k, v := range s.r.Errors {
			errs = append(errs, fmt.Sprintf("%s: %d", k, v))
		}
		sort.Strings(errs)
		e := strings.Join(errs, ", ")
		if e == "" {
			e = "none"
		}
		share := 0.0
		if s.r.OfferedPoints > 0 {
			share = 100 * float64(s.r.AcceptedPoints) / float64(s.r.OfferedPoints)
		}
		kept := "no"
		if s.ok() {
			kept = "yes"
		}
		throttled := "–"
		if sc.cpuBudget > 0 {
			throttled = fmt.Sprintf("%.0f%%", s.throttle.share())
		}
		fmt.Fprintf(&b, "| %d | %.0f | %.0f | %.1f%% | %.1f | %.1f | %.1f | %.1f | %.2f | %s | %.2f | %.0f%% | %.0f | %s | %s |\n",
			s.schools, s.r.OfferedPerSec, s.r.AcceptedPerSec, share, s.r.P50ms, s.r.P95ms, s.r.P99ms, s.serverMean, s.collCPU, throttled, s.genCPU, 100*s.busy, s.storeMB, e, kept)
	}
	b.WriteString("\n")
	switch {
	case lo == 0:
		fmt.Fprintf(&b, "Result: no level kept up.\n")
	case hi == 0 && sc.levels != nil:
		fmt.Fprintf(&b, "Result: **%d schools** sustained (%.0f points/s accepted, p99 %.0f ms); the scenario's levels are set, not searched.\n",
			lo, best.r.AcceptedPerSec, best.r.P99ms)
	case hi == 0:
		fmt.Fprintf(&b, "Result: **at least %d schools** (%.0f points/s, p99 %.0f ms); every level kept up, so the most is higher than the search reached.\n",
			lo, best.r.AcceptedPerSec, best.r.P99ms)
	default:
		var failed loadStep
		for _, s := range steps {
			if s.schools == hi {
				failed = s
			}
		}
		fmt.Fprintf(&b, "Result: **%d schools** sustained (%.0f points/s accepted, p99 %.0f ms); %d did not keep up. Limit at %d: %s.\n",
			lo, best.r.AcceptedPerSec, best.r.P99ms, hi, hi, loadLimit(failed, sc))
	}
	return b.String()
}

// loadMarks are the markers around scenario id's section.
func loadMarks(id string) (begin, end string) {
	return "<!-- load:" + id + ":begin -->", "<!-- load:" + id + ":end -->"
}

// replaceLoadSection puts section between scenario id's markers in doc,
// replacing what was there, or, if the doc has no markers for it, as a
// new section just before the load section's end.
func replaceLoadSection(doc, id, section string) (string, error) {
	i, j := strings.Index(doc, loadStartMark), strings.Index(doc, loadEndMark)
	if i < 0 || j < i {
		return "", fmt.Errorf("no %s ... %s section", loadStartMark, loadEndMark)
	}
	begin, end := loadMarks(id)
	if !strings.HasSuffix(section, "\n") {
		section += "\n"
	}
	block := begin + "\n" + section + end + "\n"
	b, e := strings.Index(doc, begin), strings.Index(doc, end)
	switch {
	case b < 0 && e < 0:
		return doc[:j] + block + doc[j:], nil
	case b < i || e < b || e > j:
		return "", fmt.Errorf("markers of %q missing one or out of place (inside %s ... %s, begin before end)", id, loadStartMark, loadEndMark)
	}
	after := e + len(end)
	if strings.HasPrefix(doc[after:], "\n") {
		after++
	}
	return doc[:b] + block + doc[after:], nil
}

// writeLoadSections rewrites the sections of the scenarios ids in
// docs/benchmarks.md, leaving the others as they are.
func writeLoadSections(t *testing.T, ids []string, sections map[string]string) {
	t.Helper()
	doc, err := os.ReadFile(benchmarksDoc())
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	for _, id := range ids {
		if s, err = replaceLoadSection(s, id, sections[id]); err != nil {
			t.Fatalf("docs/benchmarks.md: %v", err)
		}
	}
	i, j := strings.Index(s, loadStartMark), strings.Index(s, loadEndMark)
	writeBenchBlock(t, loadStartMark, loadEndMark, s[i:j+len(loadEndMark)]+"\n")
}

func TestReplaceLoadSection(t *testing.T) {
	doc := "# Bench\n\n" + loadStartMark + "\n" +
		"<!-- load:postgres:begin -->\nold postgres\n<!-- load:postgres:end -->\n" +
		"<!-- load:postgres-2:begin -->\nold postgres-2\n<!-- load:postgres-2:end -->\n" +
		loadEndMark + "\n\nafter\n"
	got, err := replaceLoadSection(doc, "postgres", "new postgres\n\ntable\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "# Bench\n\n" + loadStartMark + "\n" +
		"<!-- load:postgres:begin -->\nnew postgres\n\ntable\n<!-- load:postgres:end -->\n" +
		"<!-- load:postgres-2:begin -->\nold postgres-2\n<!-- load:postgres-2:end -->\n" +
		loadEndMark + "\n\nafter\n"
	if got != want {
		t.Errorf("replacing:\n%s\nwant:\n%s", got, want)
	}
	got, err = replaceLoadSection(got, "sqlite-1core", "new sqlite")
	if err != nil {
		t.Fatal(err)
	}
	want = strings.Replace(want, loadEndMark, "<!-- load:sqlite-1core:begin -->\nnew sqlite\n<!-- load:sqlite-1core:end -->\n"+loadEndMark, 1)
	if got != want {
		t.Errorf("inserting:\n%s\nwant:\n%s", got, want)
	}
	if _, err := replaceLoadSection("no markers", "sqlite", "x"); err == nil {
		t.Error("no error for a doc without the load section")
	}
	if _, err := replaceLoadSection(loadStartMark+"\n<!-- load:sqlite:begin -->\nx\n"+loadEndMark+"\n", "sqlite", "x"); err == nil {
		t.Error("no error for a section without its end marker")
	}

	// The real doc has every scenario's markers, and rewriting one
	// leaves the rest as they were.
	b, err := os.ReadFile(benchmarksDoc())
	if err != nil {
		t.Fatal(err)
	}
	cur := string(b)
	for _, sc := range loadScenarios {
		begin, end := loadMarks(sc.id)
		if strings.Count(cur, begin) != 1 || strings.Count(cur, end) != 1 {
			t.Errorf("docs/benchmarks.md: want one %s and one %s", begin, end)
		}
		got, err := replaceLoadSection(cur, sc.id, "replaced\n")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got, begin+"\nreplaced\n"+end+"\n") || strings.Count(got, "<!-- load:") != strings.Count(cur, "<!-- load:") {
			t.Errorf("replacing %s in docs/benchmarks.md went wrong", sc.id)
		}
	}
}
