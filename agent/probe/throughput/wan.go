package throughput

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// octets are an interface's byte counters.
type octets struct{ rx, tx uint64 }

// wanCounters reads the configured WAN interface's counters. Only a local
// interface is supported here; an SNMP-polled router interface plugs in at
// this point once the agent polls SNMP.
func (p *Prober) wanCounters() (octets, bool) {
	ifname := p.cfg.WAN.Interface
	if ifname == "" {
		return octets{}, false
	}
	read := func(name string) (uint64, bool) {
		b, err := os.ReadFile(filepath.Join(p.sysfs, "class/net", ifname, "statistics", name))
		if err != nil {
			return 0, false
		}
		v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		return v, err == nil
	}
	rx, ok1 := read("rx_bytes")
	tx, ok2 := read("tx_bytes")
	return octets{rx, tx}, ok1 && ok2
}
