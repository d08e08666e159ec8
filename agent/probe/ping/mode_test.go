package ping

import (
	"errors"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/probity-edu/probity/agent/probe"
)

var groupRangeCases = []struct {
	in      string
	want    groupRange
	wantErr bool
}{
	{"1\t0\n", groupRange{1, 0}, false},
	{"0 2147483647", groupRange{0, 2147483647}, false},
	{"  100   200  ", groupRange{100, 200}, false},
	{"0 4294967295", groupRange{0, 4294967295}, false},
	{"", groupRange{}, true},
	{"1", groupRange{}, true},
	{"1 2 3", groupRange{}, true},
	{"-1 5", groupRange{}, true},
	{"a b", groupRange{}, true},
	{"0 4294967296", groupRange{}, true},
}

func TestParseGroupRange(t *testing.T) {
	for _, tc := range groupRangeCases {
		got, err := parseGroupRange(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseGroupRange(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func FuzzParseGroupRange(f *testing.F) {
	for _, tc := range groupRangeCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := parseGroupRange(s)
		if err != nil {
			return
		}
		// What parses must survive its own formatting.
		back, err := parseGroupRange(g.String())
		if err != nil || back != g {
			t.Errorf("round trip of %q: %v, %v", s, back, err)
		}
	})
}

func TestGroupRangeCovers(t *testing.T) {
	for _, tc := range []struct {
		g    groupRange
		gids []int
		want bool
	}{
		{groupRange{1, 0}, []int{0, 1, 1000}, false}, // the kernel default: nobody
		{groupRange{0, 2147483647}, []int{0}, true},
		{groupRange{100, 200}, []int{0, 150}, true}, // a supplementary group is enough
		{groupRange{100, 200}, []int{99, 201}, false},
		{groupRange{0, 10}, []int{-1}, false},
	} {
		if got := tc.g.covers(tc.gids); got != tc.want {
			t.Errorf("%v covers %v = %v, want %v", tc.g, tc.gids, got, tc.want)
		}
	}
}

func TestOutcome(t *testing.T) {
	unreach := &net.OpError{Op: "write", Net: "ip4:icmp", Err: os.NewSyscallError("sendto", syscall.ENETUNREACH)}
	for _, tc := range []struct {
		name     string
		received int
		sendErr  error
		want     probe.Outcome
	}{
		{"replies", 3, nil, probe.OK},
		{"replies despite a send error", 1, unreach, probe.OK},
		{"silence", 0, nil, probe.Timeout},
		{"no route", 0, unreach, probe.Unreachable},
		{"other send error", 0, errors.New("boom"), probe.Error},
	} {
		if got := outcome(tc.received, tc.sendErr); got != tc.want {
			t.Errorf("%s: outcome = %s, want %s", tc.name, got, tc.want)
		}
	}
}
