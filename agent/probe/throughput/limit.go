package throughput

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
)

// Reasons a result may be limited, in limit_reason. The first four are
// the agent's own: the result then carries probe_limited.
const (
	LimitNIC        = "nic"             // the agent's link speed is at or below the result
	LimitBus        = "bus"             // a known slow bus between NIC and CPU (USB 2.0 on older Raspberry Pis)
	LimitCPU        = "cpu"             // the agent's CPUs were saturated during the test
	LimitSendBuffer = "send_buffer"     // upload: our socket send buffer held the sender back
	LimitRecvWindow = "receiver_window" // upload: the server's receive window held the sender back
	LimitNetwork    = "network"         // none of the above: the path set the rate
)

// Thresholds, explained in docs/throughput.md.
const (
	nicShare     = 0.9  // a result at 90% of the link speed is at the link's ceiling
	cpuSaturated = 90.0 // % busy over all CPUs
	limitedShare = 0.5  // a TCP limit signal over half the busy time names the limit
)

// slowBuses are boards whose Ethernet sits behind a bus slower than the
// NIC claims, by /proc/device-tree/model prefix; Mbit/s is what the bus
// carries in practice.
var slowBuses = []struct {
	model string
	mbps  float64
}{
	{"Raspberry Pi 3 Model B Plus", 300}, // gigabit LAN7515 on USB 2.0
	{"Raspberry Pi 3 Model B", 100},
	{"Raspberry Pi 2", 100},
	{"Raspberry Pi Model B", 100},
}

// host is the agent host's own ceilings, found once per test.
type host struct {
	nic     string
	nicMbps float64 // 0 when unknown (virtual links, Wi-Fi)
	board   string
	busMbps float64 // 0 when no known slow bus
}

// findHost looks up the interface that routes to addr (or the configured
// one) and its speed, and the board model.
func findHost(ifname, addr string, sysfs string) host {
	h := host{nic: ifname}
	if h.nic == "" {
		h.nic = routeInterface(addr)
	}
	if h.nic != "" {
		if b, err := os.ReadFile(filepath.Join(sysfs, "class/net", h.nic, "speed")); err == nil {
			if v, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64); err == nil && v > 0 {
				h.nicMbps = v
			}
		}
	}
	for _, p := range []string{"/proc/device-tree/model", filepath.Join(sysfs, "firmware/devicetree/base/model")} {
		if b, err := os.ReadFile(p); err == nil {
			h.board = strings.TrimRight(string(b), "\x00\n ")
			break
		}
	}
	for _, s := range slowBuses {
		if strings.HasPrefix(h.board, s.model) {
			h.busMbps = s.mbps
			break
		}
	}
	return h
}

// routeInterface names the interface whose address the kernel picks to
// reach addr (host:port). Connecting a UDP socket sends nothing.
func routeInterface(addr string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, "udp", addr)
	if err != nil {
		return ""
	}
	local := c.LocalAddr().(*net.UDPAddr).IP
	c.Close()
	ifs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, ifi := range ifs {
		addrs, _ := ifi.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.Equal(local) {
				return ifi.Name
			}
		}
	}
	return ""
}

// cpuBusy returns a function that, called later, gives the share of all
// CPU time that was busy since; ok is false where the platform cannot say.
func cpuBusy() func() (pct float64, ok bool) {
	before, err := cpu.Times(false)
	if err != nil || len(before) == 0 {
		return func() (float64, bool) { return 0, false }
	}
	return func() (float64, bool) {
		after, err := cpu.Times(false)
		if err != nil || len(after) == 0 {
			return 0, false
		}
		b, a := before[0], after[0]
		idle := (a.Idle + a.Iowait) - (b.Idle + b.Iowait)
		total := cpuTotal(a) - cpuTotal(b)
		if total <= 0 {
			return 0, false
		}
		return 100 * (total - idle) / total, true
	}
}

// cpuTotal sums every state's seconds. Guest time is already inside user
// time on Linux, so it is not added again.
func cpuTotal(t cpu.TimesStat) float64 {
	return t.User + t.System + t.Idle + t.Nice + t.Iowait + t.Irq + t.Softirq + t.Steal
}

// limit says what held a result back. probeLimited is true when it was the
// agent itself.
type limit struct {
	reason       string
	probeLimited bool
	rwndPct      float64 // upload: share of busy time limited by the receiver's window
	sndbufPct    float64 // upload: share of busy time limited by our send buffer
	haveTCP      bool
}

// judge names the limit of a result of mbps, from the host's ceilings, the
// CPU during the test and (for uploads) the streams' TCP_INFO.
func judge(mbps float64, h host, cpuPct float64, cpuOK bool, dir string, infos []StreamInfo) limit {
	var l limit
	var busy, rwnd, sndbuf uint64
	for _, in := range infos {
		busy += in.BusyUs
		rwnd += in.RwndLimitedUs
		sndbuf += in.SndbufLimited
	}
	if dir == "upload" && busy > 0 {
		l.haveTCP = true
		l.rwndPct = 100 * float64(rwnd) / float64(busy)
		l.sndbufPct = 100 * float64(sndbuf) / float64(busy)
	}
	switch {
	case h.nicMbps > 0 && mbps >= nicShare*h.nicMbps:
		l.reason, l.probeLimited = LimitNIC, true
	case h.busMbps > 0 && mbps >= nicShare*h.busMbps:
		l.reason, l.probeLimited = LimitBus, true
	case cpuOK && cpuPct >= cpuSaturated:
		l.reason, l.probeLimited = LimitCPU, true
	case l.haveTCP && l.sndbufPct >= 100*limitedShare:
		l.reason, l.probeLimited = LimitSendBuffer, true
	case l.haveTCP && l.rwndPct >= 100*limitedShare:
		l.reason = LimitRecvWindow
	default:
		l.reason = LimitNetwork
	}
	return l
}
