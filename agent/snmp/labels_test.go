package snmp

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestLabelColumns(t *testing.T) {
	labels, others := SplitColumns([]string{oidIfName, oidIfInOctets, ".1.3.6.1.2.1.31.1.1.1.18",
		"1.3.6.1.2.1.47.1.1.1.1.11", oidIfHCInOct, oidIfDescr, "1.3.6.1.2.1.31.1.1.1.15"})
	if want := []string{oidIfName, ".1.3.6.1.2.1.31.1.1.1.18", "1.3.6.1.2.1.47.1.1.1.1.11", oidIfDescr}; !slices.Equal(labels, want) {
		t.Errorf("labels = %v, want %v", labels, want)
	}
	if want := []string{oidIfInOctets, oidIfHCInOct, "1.3.6.1.2.1.31.1.1.1.15"}; !slices.Equal(others, want) {
		t.Errorf("others = %v, want %v", others, want)
	}
	if IsLabelColumn("1.3.6.1.2.1.31.1.1.1.10") || IsLabelColumn("1.3.6.1.2.1.31.1.1.1.180") {
		t.Error("ifHCOutOctets / a longer arc are not labels")
	}
}

func TestLabelCache(t *testing.T) {
	c := NewLabelCache(3)
	fetches := 0
	var fail error
	fetch := func(context.Context) (Table, error) {
		fetches++
		if fail != nil {
			return nil, fail
		}
		return Table{".1.3.6.1.2.1.31.1.1.1.1": {"1": Value{Kind: KindOctetString, Bytes: []byte{byte('0' + fetches)}}}}, nil
	}
	name := func(tb Table) string { return tb[".1.3.6.1.2.1.31.1.1.1.1"]["1"].String() }
	var seen []string
	for range 7 {
		tb, err := c.Get(context.Background(), "sw1", fetch)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, name(tb))
	}
	// Fetched in cycles 1, 4 and 7 (every 3 cycles).
	if want := []string{"1", "1", "1", "2", "2", "2", "3"}; !slices.Equal(seen, want) || fetches != 3 {
		t.Errorf("labels per cycle %v with %d fetches, want %v with 3", seen, fetches, want)
	}
	// Other devices have their own schedule.
	if tb, _ := c.Get(context.Background(), "sw2", fetch); name(tb) != "4" {
		t.Errorf("sw2 got %q", name(tb))
	}
	// A failed refresh returns the stale table with the error and retries
	// next cycle.
	c.Get(context.Background(), "sw1", fetch)
	c.Get(context.Background(), "sw1", fetch)
	fail = errors.New("timeout")
	tb, err := c.Get(context.Background(), "sw1", fetch)
	if err == nil || name(tb) != "3" {
		t.Errorf("failed refresh: %q %v, want the stale table and the error", name(tb), err)
	}
	fail = nil
	before := fetches
	tb, err = c.Get(context.Background(), "sw1", fetch)
	if err != nil || fetches != before+1 || name(tb) != "6" {
		t.Errorf("after a failure the next cycle must fetch: %q %v fetches %d", name(tb), err, fetches-before)
	}
	// Invalidate (a reboot) fetches at once.
	c.Invalidate("sw1")
	if c.Get(context.Background(), "sw1", fetch); fetches != before+2 {
		t.Error("Invalidate did not force a fetch")
	}
}
