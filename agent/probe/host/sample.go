package host

import (
	"context"
	"fmt"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	ghost "github.com/shirou/gopsutil/v4/host"
	"github.com/shirou/gopsutil/v4/load"
	"github.com/shirou/gopsutil/v4/mem"
	"github.com/shirou/gopsutil/v4/sensors"
)

// sample reads every metric but disk use. Failures are returned, not
// fatal: a missing sensor must not hide the CPU.
func (p *Prober) sample(ctx context.Context) (map[string]any, []error) {
	f := map[string]any{}
	var errs []error
	fail := func(what string, err error) { errs = append(errs, fmt.Errorf("%s: %w", what, err)) }

	if pct, err := cpu.PercentWithContext(ctx, cpuSample, false); err != nil || len(pct) == 0 {
		fail("cpu", err)
	} else {
		f["cpu_pct"] = pct[0]
	}
	if vm, err := mem.VirtualMemoryWithContext(ctx); err != nil {
		fail("memory", err)
	} else {
		f["mem_pct"] = vm.UsedPercent
	}
	if avg, err := load.AvgWithContext(ctx); err != nil {
		fail("load", err)
	} else {
		f["load1"], f["load5"], f["load15"] = avg.Load1, avg.Load5, avg.Load15
	}
	if up, err := ghost.UptimeWithContext(ctx); err != nil {
		fail("uptime", err)
	} else {
		f["uptime_s"] = int64(up)
	}
	if misc, err := load.MiscWithContext(ctx); err != nil {
		fail("processes", err)
	} else {
		f["procs"] = int64(misc.ProcsTotal)
	}
	// gopsutil returns readings together with warnings about the sensors
	// it could not read; the readings are still good.
	temps, _ := sensors.TemperaturesWithContext(ctx)
	if t, ok := maxTemp(temps); ok {
		f["temp_c"] = t
	}
	nic := p.cfg.NIC
	if nic == "" {
		nic = p.defaultNIC()
	}
	if mbps, ok := p.linkSpeed(nic); ok {
		f["nic_mbps"] = mbps
	}
	return f, errs
}

// maxTemp is the hottest plausible reading. Absent sensors often read 0.
func maxTemp(ts []sensors.TemperatureStat) (float64, bool) {
	var hottest float64
	found := false
	for _, t := range ts {
		if t.Temperature <= 0 || t.Temperature > 150 {
			continue
		}
		if !found || t.Temperature > hottest {
			hottest, found = t.Temperature, true
		}
	}
	return hottest, found
}

func diskPct(ctx context.Context, path string) (float64, error) {
	u, err := disk.UsageWithContext(ctx, path)
	if err != nil {
		return 0, err
	}
	return u.UsedPercent, nil
}
