package e2e

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cgroupV1CPU and cgroupV2 are where the CPU controller is looked for:
// cgroup v1's cpu hierarchy, else the unified hierarchy (cgroup v2).
const (
	cgroupV1CPU = "/sys/fs/cgroup/cpu"
	cgroupV2    = "/sys/fs/cgroup"
)

// cpuPeriodUS is the CFS period of the groups: a group may run
// cores×cpuPeriodUS µs of CPU in every period.
const cpuPeriodUS = 100000

// cpuGroup is a CPU cgroup holding processes to a fixed number of cores,
// as if each ran on a machine of its own.
type cpuGroup struct {
	dir string
	v2  bool
}

// cpuCgroupParent finds a writable CPU cgroup hierarchy to make groups
// in, or says why there is none.
func cpuCgroupParent() (dir string, v2 bool, err error) {
	if os.Geteuid() != 0 {
		return "", false, errors.New("CPU cgroups need root")
	}
	if _, err := os.Stat(filepath.Join(cgroupV1CPU, "cpu.cfs_quota_us")); err == nil {
		return cgroupV1CPU, false, nil
	}
	b, err := os.ReadFile(filepath.Join(cgroupV2, "cgroup.controllers"))
	if err != nil {
		return "", false, fmt.Errorf("no cgroup v1 cpu hierarchy at %s and no cgroup v2 at %s", cgroupV1CPU, cgroupV2)
	}
	if !slices.Contains(strings.Fields(string(b)), "cpu") {
		return "", false, fmt.Errorf("the cgroup v2 hierarchy at %s has no cpu controller (cgroup.controllers: %q)", cgroupV2, strings.TrimSpace(string(b)))
	}
	// Children get the cpu controller only if their parent hands it
	// down; a non-root parent with processes of its own cannot (the
	// "no internal processes" rule), and then this write fails.
	sub := filepath.Join(cgroupV2, "cgroup.subtree_control")
	if b, err := os.ReadFile(sub); err != nil || !slices.Contains(strings.Fields(string(b)), "cpu") {
		if err := os.WriteFile(sub, []byte("+cpu"), 0o644); err != nil {
			return "", false, fmt.Errorf("enabling the cpu controller for children of %s: %v", cgroupV2, err)
		}
	}
	return cgroupV2, true, nil
}

// newCPUGroup makes the group name holding its processes to cores CPUs.
func newCPUGroup(name string, cores float64) (*cpuGroup, error) {
	parent, v2, err := cpuCgroupParent()
	if err != nil {
		return nil, err
	}
	g := &cpuGroup{dir: filepath.Join(parent, name), v2: v2}
	if err := os.Mkdir(g.dir, 0o755); err != nil {
		return nil, fmt.Errorf("making CPU cgroup: %v", err)
	}
	quota := int(cores * cpuPeriodUS)
	if v2 {
		err = os.WriteFile(filepath.Join(g.dir, "cpu.max"), fmt.Appendf(nil, "%d %d", quota, cpuPeriodUS), 0o644)
	} else {
		err = os.WriteFile(filepath.Join(g.dir, "cpu.cfs_period_us"), []byte(strconv.Itoa(cpuPeriodUS)), 0o644)
		if err == nil {
			err = os.WriteFile(filepath.Join(g.dir, "cpu.cfs_quota_us"), []byte(strconv.Itoa(quota)), 0o644)
		}
	}
	if err != nil {
		_ = g.remove()
		return nil, fmt.Errorf("setting the CPU quota of %s: %v", g.dir, err)
	}
	return g, nil
}

// add moves a process, all its threads, into the group.
func (g *cpuGroup) add(pid int) error {
	return os.WriteFile(filepath.Join(g.dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644)
}

// remove deletes the group, which must be empty by then; a process that
// has just exited may take a moment to leave it.
func (g *cpuGroup) remove() error {
	var err error
	for range 50 {
		if err = os.Remove(g.dir); err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// cpuThrottle is a group's cpu.stat: the CFS periods in which it had
// work, how many of them it was throttled in, and for how long.
type cpuThrottle struct {
	periods, throttled int64
	throttledTime      time.Duration
}

func (a cpuThrottle) sub(b cpuThrottle) cpuThrottle {
	return cpuThrottle{a.periods - b.periods, a.throttled - b.throttled, a.throttledTime - b.throttledTime}
}

func (a cpuThrottle) add(b cpuThrottle) cpuThrottle {
	return cpuThrottle{a.periods + b.periods, a.throttled + b.throttled, a.throttledTime + b.throttledTime}
}

// share is the percentage of periods throttled.
func (a cpuThrottle) share() float64 {
	if a.periods <= 0 {
		return 0
	}
	return 100 * float64(a.throttled) / float64(a.periods)
}

// stat reads the group's throttling so far.
func (g *cpuGroup) stat() (cpuThrottle, error) {
	b, err := os.ReadFile(filepath.Join(g.dir, "cpu.stat"))
	if err != nil {
		return cpuThrottle{}, err
	}
	return parseCPUStat(string(b)), nil
}

// parseCPUStat reads cgroup v1's cpu.stat (throttled_time in ns) or
// v2's (throttled_usec).
func parseCPUStat(s string) cpuThrottle {
	var c cpuThrottle
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "nr_periods":
			c.periods = n
		case "nr_throttled":
			c.throttled = n
		case "throttled_time":
			c.throttledTime = time.Duration(n)
		case "throttled_usec":
			c.throttledTime = time.Duration(n) * time.Microsecond
		}
	}
	return c
}

// budgetProcess puts p in a new CPU cgroup of cores CPUs, named for the
// test's pid and i so that parallel runs do not clash, and removes the
// group once p has exited. It skips the test if CPU cgroups cannot be
// used here.
func budgetProcess(t *testing.T, p *proc, i int, cores float64) *cpuGroup {
	t.Helper()
	g, err := newCPUGroup(fmt.Sprintf("probity-bench-%d-%d", os.Getpid(), i), cores)
	if err != nil {
		t.Skipf("cannot hold collectors to a CPU budget: %v", err)
	}
	// Cleanups run last-in first-out, so this runs before start's own:
	// stop the process here (stop is a no-op once it has exited) so that
	// the group is empty when it is removed.
	t.Cleanup(func() {
		p.stop(t)
		if err := g.remove(); err != nil {
			t.Errorf("removing CPU cgroup %s: %v", g.dir, err)
		}
	})
	if err := g.add(p.cmd.Process.Pid); err != nil {
		t.Fatalf("moving %s (pid %d) into %s: %v", p.name, p.cmd.Process.Pid, g.dir, err)
	}
	return g
}

func TestParseCPUStat(t *testing.T) {
	v1 := parseCPUStat("nr_periods 200\nnr_throttled 50\nthrottled_time 2500000000\nnr_bursts 0\nburst_time 0\n")
	if v1 != (cpuThrottle{200, 50, 2500 * time.Millisecond}) {
		t.Errorf("v1: %+v", v1)
	}
	v2 := parseCPUStat("usage_usec 100\nuser_usec 60\nsystem_usec 40\nnr_periods 10\nnr_throttled 4\nthrottled_usec 1500\n")
	if v2 != (cpuThrottle{10, 4, 1500 * time.Microsecond}) {
		t.Errorf("v2: %+v", v2)
	}
	if d := v1.sub(cpuThrottle{100, 10, time.Second}); d.share() != 40 {
		t.Errorf("share of %+v = %v, want 40", d, d.share())
	}
}

// TestCPUBudget checks, by hand (with the load benchmark's switch), that
// a budget holds a busy process to it: a shell spinning for 3 s in a
// group of half a core uses half a core and is throttled in most periods.
func TestCPUBudget(t *testing.T) {
	if os.Getenv("PROBITY_BENCH_LOAD") == "" {
		t.Skip("burns CPU: run it with PROBITY_BENCH_LOAD=1")
	}
	p := start(t, "spinner", "/bin/sh", "-c", "while :; do :; done")
	g := budgetProcess(t, p, 0, 0.5)
	stat := func() cpuThrottle {
		c, err := g.stat()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c0, s0 := procCPU(t, p.cmd.Process.Pid), stat()
	time.Sleep(3 * time.Second)
	c1, s1 := procCPU(t, p.cmd.Process.Pid), stat()
	d := s1.sub(s0)
	t.Logf("spinner held to 0.5 core: %.2f cores, throttled in %d of %d periods (%.0f%%) for %.1fs", (c1-c0)/3, d.throttled, d.periods, d.share(), d.throttledTime.Seconds())
	if cores := (c1 - c0) / 3; cores < 0.35 || cores > 0.6 {
		t.Errorf("spinner used %.2f cores, want about 0.5", cores)
	}
	if d.share() < 50 {
		t.Errorf("spinner throttled in %.0f%% of periods, want most", d.share())
	}
}
