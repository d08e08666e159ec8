package testenv

import (
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"testing"
)

func TestOverlaps(t *testing.T) {
	mk := func(s string) net.Addr {
		ip, n, err := net.ParseCIDR(s)
		if err != nil {
			t.Fatal(err)
		}
		n.IP = ip
		return n
	}
	p := netip.MustParsePrefix("10.231.4.8/30")
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"10.231.4.9/30", true},
		{"10.231.4.13/30", false},
		{"10.231.0.1/16", true},
		{"127.0.0.1/8", false},
		{"::1/128", false},
	} {
		if got := overlaps(p, []net.Addr{mk(tc.addr)}); got != tc.want {
			t.Errorf("overlaps(%s, %s) = %v, want %v", p, tc.addr, got, tc.want)
		}
	}
}

func TestIntegrationNetnsVeth(t *testing.T) {
	RequireIntegration(t, "network namespaces")
	ping := RequireBinary(t, "ping")
	n := NewNetns(t)
	v := n.AddVeth(t)
	if v.HostAddr.Addr().Next() != v.NSAddr.Addr() || v.HostAddr.Bits() != 30 {
		t.Fatalf("addresses %s and %s are not .1 and .2 of one /30", v.HostAddr, v.NSAddr)
	}
	reach := func() bool {
		return exec.Command(ping, "-n", "-q", "-c", "1", "-W", "1", v.NSAddr.Addr().String()).Run() == nil
	}
	if !reach() {
		t.Fatalf("host cannot ping %s inside %s", v.NSAddr, n.Name)
	}
	for _, tool := range []string{"iptables", "nft"} {
		RequireBinary(t, tool)
		remove := n.dropOutput(t, tool, v.HostAddr.Addr(), 1)
		if reach() {
			t.Errorf("%s: ping to %s still answered with a 100%% drop rule", tool, v.NSAddr)
		}
		remove()
		if !reach() {
			t.Errorf("%s: ping to %s not answered after the drop rule was removed", tool, v.NSAddr)
		}
	}

	var ifaces []string
	n.RunHelper(t, "TestHelperListInterfaces", &ifaces)
	if !slices.Contains(ifaces, v.NSIf) || slices.Contains(ifaces, v.HostIf) {
		t.Errorf("helper in %s saw interfaces %v, want %s and not %s", n.Name, ifaces, v.NSIf, v.HostIf)
	}
}

// TestHelperListInterfaces runs only inside a namespace, started by RunHelper.
func TestHelperListInterfaces(t *testing.T) {
	if !IsHelper(t) {
		t.Skip("helper process only")
	}
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range ifs {
		names = append(names, i.Name)
	}
	WriteHelperResult(t, names)
}
