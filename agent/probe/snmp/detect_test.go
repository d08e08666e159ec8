package snmp

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/snmp"
	"github.com/probity-edu/probity/agent/snmp/profile"
)

func TestDetectCachesAndRedetects(t *testing.T) {
	set, err := profile.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	p := &Prober{cfg: Config{Redetect: 3}, set: set, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		devices: map[string]Device{"forced": {Profile: "ieee80211"}}, state: map[string]*deviceState{}}
	sys := func(oid, descr string) map[string]snmp.Value {
		return map[string]snmp.Value{
			oidSysObjectID: {Kind: snmp.KindOID, Text: oid},
			oidSysDescr:    {Kind: snmp.KindOctetString, Bytes: []byte(descr)},
		}
	}
	wlc := sys(".1.3.6.1.4.1.9.1.1069", "Cisco Controller")
	ups := sys(".1.3.6.1.2.1.33", "UPS")
	if got := p.detect("d", wlc, false); got != "cisco-wlc" {
		t.Fatalf("first detection = %s, want cisco-wlc", got)
	}
	// The cached profile holds until a reboot or Redetect cycles.
	if got := p.detect("d", ups, false); got != "cisco-wlc" {
		t.Errorf("second cycle = %s, want the cached cisco-wlc", got)
	}
	if got := p.detect("d", ups, true); got != profile.Generic {
		t.Errorf("after a reboot = %s, want generic", got)
	}
	p.detect("d", wlc, false)
	p.detect("d", wlc, false)
	if got := p.detect("d", wlc, false); got != "cisco-wlc" {
		t.Errorf("after %d cycles = %s, want cisco-wlc detected again", p.cfg.Redetect, got)
	}
	if got := p.detect("forced", wlc, true); got != "ieee80211" {
		t.Errorf("forced profile = %s", got)
	}
}

func TestEOSStatus(t *testing.T) {
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	eos, err := profile.ShippedEOS()
	if err != nil {
		t.Fatal(err)
	}
	local, err := profile.ParseEOS([]byte("entries:\n  - {vendor: cisco, model: WS-C2960X-48FPD-L, end_of_support: 2030-01-31, source: https://example.org/notice}\n"), "local.eos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := &Prober{cfg: Config{EOSWarn: 365 * 24 * time.Hour}, eos: eos}
	if st, date := p.eosStatus("cisco", "WS-C2960X-24PS-L", now); st != profile.EOSNear || date != "2027-10-31" {
		t.Errorf("shipped: %s %s, want near 2027-10-31", st, date)
	}
	if st, date := p.eosStatus("cisco", "", now); st != profile.EOSUnknown || date != "" {
		t.Errorf("no model: %s %s", st, date)
	}
	p.eosLocal = local
	if st, date := p.eosStatus("cisco", "ws-c2960x-48fpd-l", now); st != profile.EOSSupported || date != "2030-01-31" {
		t.Errorf("eos_file entry: %s %s, want supported 2030-01-31", st, date)
	}
	if st, _ := p.eosStatus("cisco", "WS-C2960X-48FPD-L", time.Date(2030, 2, 1, 0, 0, 0, 0, time.UTC)); st != profile.EOSPast {
		t.Errorf("after the date: %s, want past", st)
	}
}
