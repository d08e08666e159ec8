// Package snmp is the `snmp` probe kind: it polls switches, wireless
// controllers, access points and UPSes over SNMP (v2c or v3) through
// agent/snmp's Poller and turns what each device's profile reads
// (agent/snmp/profile) into points. Every run emits one snmp_device point
// per device, reachable or not, plus the measurements its profile writes
// (snmp_if, snmp_poe, wifi_ap, snmp_ups …).
package snmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/agent/snmp"
	"github.com/probity-edu/probity/agent/snmp/profile"
	"github.com/probity-edu/probity/internal/point"
)

// The system group, read first from every device on every cycle: it says
// which profile applies and whether the device rebooted.
const (
	oidSysDescr    = ".1.3.6.1.2.1.1.1.0"
	oidSysObjectID = ".1.3.6.1.2.1.1.2.0"
	oidSysUpTime   = ".1.3.6.1.2.1.1.3.0"
	oidSysName     = ".1.3.6.1.2.1.1.5.0"
)

// rateMemory is how long counter samples of a device that stopped
// answering are kept.
const rateMemory = time.Hour

// Prober polls the configured devices.
type Prober struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	set      *profile.Set
	eos      *profile.EOS
	eosLocal []profile.EOSEntry // from eos_file, looked up before eos
	poller   *snmp.Poller
	rates    *snmp.Rates
	labels   *snmp.LabelCache
	// labelEvery is label_every with its default: cycles between reads of
	// label scalars.
	labelEvery int
	devices    map[string]Device

	mu    sync.Mutex
	state map[string]*deviceState
}

// deviceState is what the probe remembers of a device between runs.
type deviceState struct {
	profile string // detected (or forced) profile
	cycles  int    // polls since the profile was detected
	model   string // last model seen, for the snmp_device tag of a dead device

	// Scalars marked label (sysLocation, upsIdentModel …) are read again
	// every LabelEvery cycles, like the label columns.
	labelScalars map[string]snmp.Value
	labelAge     int
}

var _ probe.Probe = (*Prober)(nil)

// New loads the profiles and end-of-support data and opens one SNMP client
// per device.
func New(c Config, d probe.Deps) (*Prober, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("snmp: %w", err)
	}
	d = d.WithDefaults()
	set, err := profile.LoadSet(c.ProfilesDir)
	if err != nil {
		return nil, fmt.Errorf("snmp: profiles: %w", err)
	}
	eos, err := profile.LoadEOS(c.ProfilesDir)
	if err != nil {
		return nil, fmt.Errorf("snmp: %w", err)
	}
	var local []profile.EOSEntry
	if c.EOSFile != "" {
		data, err := os.ReadFile(c.EOSFile)
		if err != nil {
			return nil, fmt.Errorf("snmp: eos_file: %w", err)
		}
		if local, err = profile.ParseEOS(data, c.EOSFile); err != nil {
			return nil, fmt.Errorf("snmp: eos_file: %w", err)
		}
	}
	sc := c.client()
	devices := map[string]Device{}
	var errs []error
	for i, dev := range c.Devices {
		dev.Target = sc.Devices[i]
		devices[dev.Name] = dev
		if dev.Profile != "" && set.Get(dev.Profile) == nil {
			errs = append(errs, fmt.Errorf("snmp: devices[%d].profile: no profile named %q (known: %s)", i, dev.Profile, strings.Join(set.Names(), ", ")))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	poller, err := snmp.NewPoller(sc.Devices, sc.Workers, d.Log)
	if err != nil {
		return nil, fmt.Errorf("snmp: %w", err)
	}
	return &Prober{cfg: c, log: d.Log, now: d.Now, set: set, eos: eos, eosLocal: local, poller: poller,
		rates: snmp.NewRates(), labels: snmp.NewLabelCache(sc.LabelEvery), labelEvery: sc.LabelEvery, devices: devices,
		state: map[string]*deviceState{}}, nil
}

// Close releases the clients' sockets.
func (p *Prober) Close() { p.poller.Close() }

// devicePoll is what one device's poll produced.
type devicePoll struct {
	profile   string
	uptime    int64 // seconds; -1 when unknown
	rows      []measRow
	malformed int
}

type measRow struct {
	measurement string
	row
}

// Run polls every device (Workers at a time, each within its budget and
// ctx's deadline) and returns their points. A device that does not answer
// yields its snmp_device point with reachable=false; Run itself fails only
// through a bug.
func (p *Prober) Run(ctx context.Context) ([]point.Point, error) {
	at := p.now()
	results := p.poller.Poll(ctx, p.pollDevice)
	var pts []point.Point
	for _, r := range results {
		pts = append(pts, p.points(r, at)...)
	}
	p.rates.Prune(at.Add(-rateMemory))
	return pts, nil
}

// pollDevice reads one device: the system group, then its profile's
// scalars in batched GETs and its tables as column walks, the label
// columns through the label cache.
func (p *Prober) pollDevice(ctx context.Context, c *snmp.Client) (any, error) {
	name := c.Target().Name
	dp := &devicePoll{uptime: -1}
	sys, err := c.Get(ctx, []string{oidSysDescr, oidSysObjectID, oidSysUpTime, oidSysName})
	if err != nil {
		return dp, err
	}
	at := p.now()
	rebooted := false
	if n, ok := sys[oidSysUpTime].Int64(); ok && sys[oidSysUpTime].Kind == snmp.KindTimeTicks {
		dp.uptime = n / 100
		rebooted = p.rates.Uptime(name, uint32(n), at)
	}
	if rebooted {
		p.labels.Invalidate(name)
	}
	dp.profile = p.detect(name, sys, rebooted)
	reads := p.set.Reads(dp.profile)
	rate := func(instance string, v snmp.Value) (float64, bool) {
		n, bits, _ := v.Counter()
		return p.rates.Rate(name, instance, n, bits, at)
	}

	// Scalars: one batched GET for every read's, reusing the system group.
	got := map[string]snmp.Value{}
	for k, v := range sys {
		got[k] = v
	}
	cached, fresh := p.labelScalars(name, rebooted)
	var want []string
	labelSet := map[string]bool{}
	for _, r := range reads {
		for _, s := range r.Scalars {
			oid := norm(s.OID)
			if _, ok := got[oid]; ok {
				continue
			}
			if v, ok := cached[oid]; s.Label && !fresh && ok {
				got[oid] = v
				continue
			}
			if s.Label {
				labelSet[oid] = true
			}
			want = append(want, oid)
		}
	}
	var firstErr error
	if len(want) > 0 {
		more, err := c.Get(ctx, want)
		firstErr = err
		for k, v := range more {
			got[k] = v
		}
		if err == nil {
			p.keepLabelScalars(name, more, labelSet)
		}
	}

	// Tables: label columns (and their fallbacks and lookups) through the
	// cache, everything else every cycle.
	data := walked{}
	if firstErr == nil {
		labels, others := tableOIDs(reads)
		if len(labels) > 0 {
			t, err := p.labels.Get(ctx, name, func(ctx context.Context) (snmp.Table, error) { return c.Columns(ctx, labels) })
			for k, v := range t {
				data[k] = v
			}
			firstErr = err
		}
		if len(others) > 0 && firstErr == nil {
			t, err := c.Columns(ctx, others)
			for k, v := range t {
				data[k] = v
			}
			firstErr = err
		}
	}

	for _, r := range reads {
		switch {
		case r.Table != nil:
			rows, bad := tableRows(r, data, rate)
			dp.malformed += bad
			for _, rw := range rows {
				dp.rows = append(dp.rows, measRow{r.Measurement, rw})
			}
		case len(r.Scalars) > 0:
			rw, bad := scalarRow(r, got, rate)
			dp.malformed += bad
			dp.rows = append(dp.rows, measRow{r.Measurement, rw})
		}
	}
	return dp, firstErr
}

// labelScalars returns the device's cached label scalars and whether they
// are due to be read again (every LabelEvery cycles, and after a reboot).
func (p *Prober) labelScalars(name string, rebooted bool) (map[string]snmp.Value, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.state[name]
	fresh := rebooted || st.labelScalars == nil || st.labelAge+1 >= p.labelEvery
	if fresh {
		st.labelAge = 0
	} else {
		st.labelAge++
	}
	return st.labelScalars, fresh
}

// keepLabelScalars stores the label scalars of a successful GET.
func (p *Prober) keepLabelScalars(name string, got map[string]snmp.Value, labels map[string]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.state[name]
	if st.labelScalars == nil {
		st.labelScalars = map[string]snmp.Value{}
	}
	for oid := range labels {
		if v, ok := got[oid]; ok {
			st.labelScalars[oid] = v
		}
	}
}

// detect gives the device's profile: the forced one, else the cached one,
// matched again after a reboot or every Redetect cycles.
func (p *Prober) detect(name string, sys map[string]snmp.Value, rebooted bool) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.state[name]
	if st == nil {
		st = &deviceState{}
		p.state[name] = st
	}
	st.cycles++
	if forced := p.devices[name].Profile; forced != "" {
		st.profile = forced
		return forced
	}
	if st.profile == "" || rebooted || st.cycles > p.cfg.Redetect {
		prev := st.profile
		st.profile = p.set.Match(sys[oidSysObjectID].String(), sys[oidSysDescr].String()).Name
		st.cycles = 1
		if prev != "" && prev != st.profile {
			p.log.Info("snmp device profile changed", "device", name, "from", prev, "to", st.profile)
		}
	}
	return st.profile
}

// tableOIDs lists the column walks the reads need: those only ever read as
// labels, and the rest.
func tableOIDs(reads []profile.Read) (labels, others []string) {
	label, every := map[string]bool{}, map[string]bool{}
	var order []string
	add := func(oid string, isLabel bool) {
		oid = norm(oid)
		if !label[oid] && !every[oid] {
			order = append(order, oid)
		}
		if isLabel {
			label[oid] = true
		} else {
			every[oid] = true
		}
	}
	for _, r := range reads {
		t := r.Table
		if t == nil {
			continue
		}
		for _, c := range t.Columns {
			add(c.OID, c.Label)
			if c.Fallback != nil {
				add(c.Fallback.OID, c.Label)
			}
		}
		for _, l := range t.Lookups {
			add(l.OID, l.Label)
		}
		for _, f := range t.Filters {
			add(f.OID, false)
		}
	}
	for _, oid := range order {
		if every[oid] {
			others = append(others, oid)
		} else {
			labels = append(labels, oid)
		}
	}
	return labels, others
}

// points turns one device's poll into points: its snmp_device point, with
// the profile's snmp_device fields merged in, and the other measurements'
// rows merged by measurement and tags.
func (p *Prober) points(r snmp.Result, at time.Time) []point.Point {
	dev := p.devices[r.Device]
	dp, _ := r.Data.(*devicePoll)
	if dp == nil {
		dp = &devicePoll{uptime: -1}
	}
	p.mu.Lock()
	st := p.state[r.Device]
	if st == nil {
		st = &deviceState{}
		p.state[r.Device] = st
	}
	if dp.profile == "" {
		dp.profile = st.profile
	}
	p.mu.Unlock()

	reason := r.Reason
	if reason == "" {
		reason = "ok"
	}
	fields := map[string]any{
		"reachable":    r.Reachable,
		"reason":       reason,
		"poll_ms":      probe.Ms(r.Duration),
		"malformed":    r.Malformed + int64(dp.malformed),
		"snmp_version": dev.Version,
	}
	if dp.uptime >= 0 {
		fields["uptime_s"] = dp.uptime
	}
	vendor := ""
	if pr := p.set.Get(dp.profile); pr != nil {
		vendor = pr.Vendor
	}

	var (
		model, fieldModel string
		out               []point.Point
		index             = map[string]int{}
	)
	for _, mr := range dp.rows {
		switch mr.measurement {
		case "snmp_device":
			for k, v := range mr.fields {
				if k == "model" {
					fieldModel, _ = v.(string)
					continue
				}
				if _, set := fields[k]; !set {
					fields[k] = v
				}
			}
			continue
		case "snmp_entity":
			if m, _ := mr.fields["model"].(string); model == "" && mr.tags["class"] == "chassis" && strings.TrimSpace(m) != "" {
				model = strings.TrimSpace(m)
			}
		}
		if len(mr.fields) == 0 {
			continue
		}
		tags := map[string]string{"device": r.Device}
		for k, v := range mr.tags {
			tags[k] = v
		}
		if mr.measurement == "wifi_ap" {
			tags["controller"] = r.Device
			if tags["ap"] == "" {
				tags["ap"] = r.Device
			}
		}
		k := mr.measurement + "\x00" + tagKey(tags)
		if i, ok := index[k]; ok {
			for f, v := range mr.fields {
				if _, set := out[i].Fields[f]; !set {
					out[i].Fields[f] = v
				}
			}
			continue
		}
		index[k] = len(out)
		fs := make(map[string]any, len(mr.fields))
		for f, v := range mr.fields {
			fs[f] = v
		}
		out = append(out, point.New(mr.measurement, tags, fs, at))
	}
	if model == "" {
		model = strings.TrimSpace(fieldModel)
	}
	p.mu.Lock()
	if model != "" {
		st.model = model
	} else {
		model = st.model
	}
	p.mu.Unlock()

	portRoles(out, dev, fields)
	psuCount(out, fields)
	status, date := p.eosStatus(vendor, model, at)
	fields["eos_status"] = status
	if date != "" {
		fields["eos_date"] = date
	}
	tags := map[string]string{"device": r.Device, "role": dev.Role, "vendor": vendor, "model": model, "profile": dp.profile}
	for k, v := range tags {
		if v == "" {
			delete(tags, k)
		}
	}
	return append([]point.Point{point.New("snmp_device", tags, fields, at)}, out...)
}

// eosStatus looks the model up in eos_file first, then in the shipped and
// profiles_dir data.
func (p *Prober) eosStatus(vendor, model string, now time.Time) (status, date string) {
	if vendor == "" || model == "" {
		return profile.EOSUnknown, ""
	}
	if len(p.eosLocal) > 0 {
		if e, ok := lookupEOS(p.eosLocal, vendor, model); ok {
			return eosOf(e, now, p.cfg.EOSWarn), e.Date.Format(time.DateOnly)
		}
	}
	st, e := p.eos.Status(vendor, model, now, p.cfg.EOSWarn)
	if st == profile.EOSUnknown {
		return st, ""
	}
	return st, e.Date.Format(time.DateOnly)
}

// lookupEOS is profile.EOS.Lookup over a plain list: an exact model first,
// then the longest prefix, ignoring case.
func lookupEOS(entries []profile.EOSEntry, vendor, model string) (profile.EOSEntry, bool) {
	vendor, m := strings.ToLower(vendor), strings.ToLower(strings.TrimSpace(model))
	var best profile.EOSEntry
	found := false
	for _, e := range entries {
		if e.Vendor != vendor {
			continue
		}
		if e.Model != "" && strings.ToLower(e.Model) == m {
			return e, true
		}
		if pre := strings.ToLower(e.ModelPrefix); pre != "" && strings.HasPrefix(m, pre) && len(pre) > len(best.ModelPrefix) {
			best, found = e, true
		}
	}
	return best, found
}

func eosOf(e profile.EOSEntry, now time.Time, warn time.Duration) string {
	switch {
	case !now.Before(e.Date):
		return profile.EOSPast
	case now.Add(warn).After(e.Date):
		return profile.EOSNear
	}
	return profile.EOSSupported
}

// portRoles tags each snmp_if point with what the port is for and counts,
// on the device's point, the ports that the switching, wireless and
// broadband rules judge. In order: the device's port_roles; an LLDP
// neighbour that is an access point (ap) or a bridge or router (uplink);
// 10 Gbit/s or more (uplink); any other Ethernet port (access). Virtual
// interfaces (VLANs, loopbacks) get no role.
func portRoles(pts []point.Point, dev Device, device map[string]any) {
	caps := map[string]string{} // local port name → neighbour capabilities
	for _, pt := range pts {
		if pt.Measurement == "snmp_lldp" {
			c, _ := pt.Fields["rem_caps"].(string)
			caps[pt.Tags["local_port"]] += " " + c
		}
	}
	var uplinks10G, wanUp, accessSlow, apSlow, apBelow1G, ports int64
	for i := range pts {
		pt := &pts[i]
		if pt.Measurement != "snmp_if" {
			continue
		}
		name := pt.Tags["ifname"]
		speed, _ := pt.Fields["speed_mbps"].(float64)
		ifType, _ := pt.Fields["if_type"].(float64)
		role := dev.PortRoles[name]
		switch c := caps[name]; {
		case role != "":
		case strings.Contains(c, "wlan_access_point"):
			role = "ap"
		case strings.Contains(c, "bridge"), strings.Contains(c, "router"):
			role = "uplink"
		case speed >= 10000:
			role = "uplink"
		case ifType == 6: // ethernetCsmacd
			role = "access"
		}
		if role == "" {
			continue
		}
		pt.Tags["role"] = role
		ports++
		if up, _ := pt.Fields["oper_up"].(bool); !up {
			continue
		}
		switch {
		case role == "uplink" && speed >= 10000:
			uplinks10G++
		case role == "wan":
			wanUp++
		case role == "access" && speed > 0 && speed < 1000:
			accessSlow++
		case role == "ap" && speed > 0 && speed < 2500:
			apSlow++
			if speed < 1000 {
				apBelow1G++
			}
		}
	}
	if ports == 0 {
		return // nothing polled, or no interfaces: no counts rather than zeros
	}
	device["uplinks_10g_up"] = uplinks10G
	device["wan_links_up"] = wanUp
	device["access_ports_below_1g"] = accessSlow
	device["ap_ports_below_2500m"] = apSlow
	device["ap_ports_below_1g"] = apBelow1G
}

// psuCount counts, on the device's point, the power supplies that work
// (SW-19 asks core switches for two). A device that reports none gets no
// count: its supplies may simply not be in a MIB we read.
func psuCount(pts []point.Point, device map[string]any) {
	var seen, ok int64
	for _, pt := range pts {
		if pt.Measurement != "snmp_psu" {
			continue
		}
		seen++
		if works, _ := pt.Fields["ok"].(bool); works {
			ok++
		}
	}
	if seen > 0 {
		device["psus_ok"] = ok
	}
}
