package testenv

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Netns is a network namespace created for one test and deleted by
// t.Cleanup. Its loopback is up; add links with AddVeth.
type Netns struct {
	Name string
}

// seq makes names unique within this process; the PID makes them unique
// across parallel test binaries.
var seq atomic.Int64

// NewNetns creates a namespace named probity-<pid>-<n>. It needs root and
// iproute2, and skips (fails when required) without them.
func NewNetns(t testing.TB) *Netns {
	t.Helper()
	RequireRoot(t)
	RequireBinary(t, "ip")
	n := &Netns{Name: fmt.Sprintf("probity-%d-%d", os.Getpid(), seq.Add(1))}
	if out, err := exec.Command("ip", "netns", "add", n.Name).CombinedOutput(); err != nil {
		Unavailable(t, "ip netns add %s: %v: %s", n.Name, err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", n.Name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", n.Name, err, strings.TrimSpace(string(out)))
		}
	})
	n.Run(t, "ip", "link", "set", "lo", "up")
	return n
}

// Command returns a command that runs name inside the namespace.
func (n *Netns) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// Run runs name inside the namespace and returns its combined output; a
// failure fails the test.
func (n *Netns) Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := n.Command(context.Background(), name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("in netns %s: %s %s: %v: %s", n.Name, name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out)
}

// Sysctl sets a per-namespace kernel setting, for example
// net.ipv4.ping_group_range; the host's value is untouched.
func (n *Netns) Sysctl(t testing.TB, key, value string) {
	t.Helper()
	n.Run(t, "sysctl", "-q", "-w", key+"="+value)
}

// Veth is a veth pair joining the host (HostIf, HostAddr) to a namespace
// (NSIf, NSAddr), both in one /30.
type Veth struct {
	HostIf, NSIf     string
	HostAddr, NSAddr netip.Prefix
}

// AddVeth joins the namespace to the host with a veth pair in a free /30 of
// 10.231.0.0/16: .1 on the host side, .2 inside. The pair is deleted by
// t.Cleanup (and with the namespace in any case).
func (n *Netns) AddVeth(t testing.TB) Veth {
	t.Helper()
	id := seq.Add(1)
	v := Veth{
		// Interface names are limited to 15 bytes: "pv" + pid (<= 7 digits) + side + id.
		HostIf: fmt.Sprintf("pv%dh%d", os.Getpid(), id),
		NSIf:   fmt.Sprintf("pv%dn%d", os.Getpid(), id),
	}
	v.HostAddr, v.NSAddr = freeSubnet(t)
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	run("link", "add", v.HostIf, "type", "veth", "peer", "name", v.NSIf, "netns", n.Name)
	t.Cleanup(func() {
		// Already gone when the namespace was deleted first: nothing to do.
		_ = exec.Command("ip", "link", "del", v.HostIf).Run()
	})
	run("addr", "add", v.HostAddr.String(), "dev", v.HostIf)
	run("link", "set", v.HostIf, "up")
	run("-n", n.Name, "addr", "add", v.NSAddr.String(), "dev", v.NSIf)
	run("-n", n.Name, "link", "set", v.NSIf, "up")
	return v
}

var (
	subnetMu   sync.Mutex
	subnetUsed = map[netip.Prefix]bool{}
)

// freeSubnet picks a /30 in 10.231.0.0/16 that no host interface uses,
// starting from a place that depends on the PID so that parallel test
// binaries rarely even try the same one.
func freeSubnet(t testing.TB) (host, ns netip.Prefix) {
	t.Helper()
	subnetMu.Lock()
	defer subnetMu.Unlock()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatalf("listing host addresses: %v", err)
	}
	const slots = 1 << 14 // /30s in a /16
	start := (os.Getpid() * 37) % slots
	for i := 0; i < slots; i++ {
		s := (start + i) % slots
		base := netip.AddrFrom4([4]byte{10, 231, byte(s >> 6), byte(s&63) << 2})
		p := netip.PrefixFrom(base, 30)
		if subnetUsed[p] || overlaps(p, addrs) {
			continue
		}
		subnetUsed[p] = true
		t.Cleanup(func() {
			subnetMu.Lock()
			delete(subnetUsed, p)
			subnetMu.Unlock()
		})
		return netip.PrefixFrom(base.Next(), 30), netip.PrefixFrom(base.Next().Next(), 30)
	}
	t.Fatal("no free /30 left in 10.231.0.0/16")
	return
}

func overlaps(p netip.Prefix, addrs []net.Addr) bool {
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipn.IP)
		if !ok {
			continue
		}
		ones, _ := ipn.Mask.Size()
		if q := netip.PrefixFrom(ip.Unmap(), ones).Masked(); q.Overlaps(p) {
			return true
		}
	}
	return false
}
