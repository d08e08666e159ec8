package host

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// defaultNIC is the interface of the IPv4 default route, or the first
// interface that is up and not loopback, or "".
func (p *Prober) defaultNIC() string {
	if b, err := os.ReadFile(p.procRoute); err == nil {
		if nic := parseDefaultRoute(string(b)); nic != "" {
			return nic
		}
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, i := range ifs {
		if i.Flags&net.FlagUp != 0 && i.Flags&net.FlagLoopback == 0 {
			return i.Name
		}
	}
	return ""
}

// parseDefaultRoute reads /proc/net/route: the interface of the usable
// default route (destination and mask 0, flag RTF_UP) with the lowest
// metric, or "".
func parseDefaultRoute(table string) string {
	const rtfUp = 0x1
	best, bestMetric := "", uint64(0)
	for i, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 8 {
			continue // the header, or a short line
		}
		flags, err1 := strconv.ParseUint(f[3], 16, 32)
		metric, err2 := strconv.ParseUint(f[6], 10, 32)
		if err1 != nil || err2 != nil || f[1] != "00000000" || f[7] != "00000000" || flags&rtfUp == 0 {
			continue
		}
		if best == "" || metric < bestMetric {
			best, bestMetric = f[0], metric
		}
	}
	return best
}

// linkSpeed is the speed of nic in Mbit/s from sysfs, when the driver
// knows it (virtual and down links report -1 or nothing).
func (p *Prober) linkSpeed(nic string) (float64, bool) {
	if nic == "" {
		return 0, false
	}
	b, err := os.ReadFile(filepath.Join(p.sysNet, nic, "speed"))
	if err != nil {
		return 0, false
	}
	return parseSpeed(string(b))
}

// parseSpeed reads a sysfs speed file: a decimal number of Mbit/s, with
// -1 or 0 (and anything unparsable) meaning unknown.
func parseSpeed(s string) (float64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return float64(n), true
}
