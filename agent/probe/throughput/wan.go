package throughput

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/probity-edu/probity/agent/snmp"
)

// WANCounters reads the byte counters of the school's internet link: what
// arrived (rx, the download direction) and what left (tx). The throughput
// probe reads them just before and just after each test to tell other
// traffic on the line apart from its own.
//
// LocalInterface serves an agent that runs on the router (or sees a mirror
// of the link); an SNMP-polled router interface is the other source, set
// with Prober.SetWAN once the agent polls SNMP.
type WANCounters interface {
	Octets(ctx context.Context) (rx, tx uint64, err error)
}

// LocalInterface reads a local interface's counters from sysfs.
type LocalInterface struct {
	Name  string
	Sysfs string // default /sys
}

// Octets reads rx_bytes and tx_bytes.
func (l LocalInterface) Octets(context.Context) (rx, tx uint64, err error) {
	sysfs := l.Sysfs
	if sysfs == "" {
		sysfs = "/sys"
	}
	read := func(name string) (uint64, error) {
		b, err := os.ReadFile(filepath.Join(sysfs, "class/net", l.Name, "statistics", name))
		if err != nil {
			return 0, err
		}
		v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("interface %s %s: %w", l.Name, name, err)
		}
		return v, nil
	}
	if rx, err = read("rx_bytes"); err != nil {
		return 0, 0, err
	}
	tx, err = read("tx_bytes")
	return rx, tx, err
}

// SetWAN replaces the WAN counter source (nil: none).
func (p *Prober) SetWAN(w WANCounters) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.wan = w
}

// octets are the link's byte counters at one moment.
type octets struct{ rx, tx uint64 }

// wanCounters reads the WAN source; ok is false without one or on error.
func (p *Prober) wanCounters(ctx context.Context) (octets, bool) {
	p.mu.Lock()
	w := p.wan
	p.mu.Unlock()
	if w == nil {
		return octets{}, false
	}
	rx, tx, err := w.Octets(ctx)
	if err != nil {
		p.log.Debug("throughput: WAN counters unreadable", "err", err)
		return octets{}, false
	}
	return octets{rx, tx}, true
}

// IF-MIB columns the SNMP source reads.
const (
	oidIfName        = "1.3.6.1.2.1.31.1.1.1.1"
	oidIfHCInOctets  = "1.3.6.1.2.1.31.1.1.1.6"
	oidIfHCOutOctets = "1.3.6.1.2.1.31.1.1.1.10"
)

// SNMPInterface reads a router interface's 64-bit octet counters over
// SNMP, found by its ifName (looked up again whenever the index no longer
// answers, since ifIndex can change when a router reboots).
type SNMPInterface struct {
	Client *snmp.Client
	Name   string // ifName

	mu    sync.Mutex
	index string // ifIndex, once found
}

// Octets reads ifHCInOctets and ifHCOutOctets of the interface.
func (s *SNMPInterface) Octets(ctx context.Context) (rx, tx uint64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for attempt := 0; attempt < 2; attempt++ {
		if s.index == "" {
			if err := s.find(ctx); err != nil {
				return 0, 0, err
			}
		}
		in, out := oidIfHCInOctets+"."+s.index, oidIfHCOutOctets+"."+s.index
		got, err := s.Client.Get(ctx, []string{in, out})
		if err != nil {
			return 0, 0, err
		}
		rxv, _, ok1 := got["."+in].Counter()
		txv, _, ok2 := got["."+out].Counter()
		if ok1 && ok2 {
			return rxv, txv, nil
		}
		s.index = "" // gone or renumbered: find it again once
	}
	return 0, 0, fmt.Errorf("interface %s has no ifHCInOctets/ifHCOutOctets", s.Name)
}

func (s *SNMPInterface) find(ctx context.Context) error {
	err := s.Client.Walk(ctx, oidIfName, func(oid string, v snmp.Value) error {
		if v.String() == s.Name {
			s.index = oid[strings.LastIndexByte(oid, '.')+1:]
			return errFound
		}
		return nil
	})
	if errors.Is(err, errFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("looking up interface %s: %w", s.Name, err)
	}
	return fmt.Errorf("the router has no interface named %q (ifName)", s.Name)
}

var errFound = errors.New("found")
