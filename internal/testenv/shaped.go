package testenv

import (
	"fmt"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// LinkOptions shape a ShapedLink. Zero values leave that property alone.
type LinkOptions struct {
	// Rate limits each direction to this many bits per second with tbf
	// (100e6 for 100 Mbit/s); 0 leaves the link unshaped (a veth pair
	// moves 10-20 Gbit/s).
	Rate float64
	// Delay is added to every frame in each direction, so a round trip
	// gains twice Delay. Jitter spreads each frame's delay uniformly over
	// Delay ± Jitter (frames are reordered then, as with netem), and Loss
	// drops each frame with that probability, in each direction.
	//
	// Any of them puts a userspace bridge in the path. Use them with Rate
	// at or below 100 Mbit/s: the rig recipe's bridge topped out near
	// 220 Mbit/s; this one (one sender per direction instead of a timer
	// per frame) measured 700-900 Mbit/s of TCP unshaped with 1-10 ms
	// delay, but at that rate it takes most of a core from the 2 this
	// machine has, so it would compete with whatever is being measured.
	Delay, Jitter time.Duration
	Loss          float64
}

// ShapedLink is a link between two namespaces made for one test: a
// speed-test server goes in Server, the probe or client in Client.
type ShapedLink struct {
	Client, Server         *Netns
	ClientAddr, ServerAddr netip.Addr // .1 and .2 of one /30
	ClientIf, ServerIf     string     // the interfaces holding the addresses, in their namespaces
	// Router is the namespace between the two when the link has delay,
	// jitter or loss; nil otherwise.
	Router  *Netns
	Options LinkOptions
}

// Interface names inside the namespaces. Each namespace is the test's own,
// so short fixed names cannot clash.
const (
	clientIf = "c0"
	serverIf = "s0"
	routerC  = "r0" // the router's end towards the client
	routerS  = "r1" // the router's end towards the server
)

// tbfLatency bounds the time a packet may wait in tbf's queue; it sets the
// queue's length (rate × latency + burst), as in the measured rig.
const tbfLatency = "50ms"

// tbfBurst is the token bucket size, in bytes, for a rate in bits/s: what
// the rate sends in 4 ms, and at least 64 KiB. tbf refills its bucket on
// kernel timer ticks, so a bucket smaller than one tick's worth of tokens
// (4 ms at HZ=250) caps the rate below what was asked; one much larger lets
// bursts far above the rate through. The rig measured 95.6 Mbit/s of TCP
// goodput through 64 KiB at 100 Mbit/s and 957 Mbit/s through 512 KiB at
// 1 Gbit/s, which this gives (500 kB at 1 Gbit/s).
func tbfBurst(rate float64) int64 {
	return max(int64(rate/8*0.004), 64<<10)
}

// NewShapedLink creates namespaces Client and Server joined by a veth pair
// with addresses in a free /30, and shapes both directions: tbf on the
// egress of each end, since shaping one end's egress leaves the other
// direction at veth speed. With Delay, Jitter or Loss, a third namespace
// Router sits between them (c0 ⇄ r0, r1 ⇄ s0) and an in-process bridge
// forwards frames between r0 and r1 after the delay; both ends stay on one
// L2 segment, so the /30 is unchanged, and offloads are turned off on all
// four interfaces so that every frame the bridge sees is a real one with
// its checksum filled in. Everything is removed by t.Cleanup.
//
// It returns once a ping from the client has been answered (which also
// fills both ends' ARP tables). It needs root, iproute2, ping and tc (and
// ethtool with a bridge); it skips (fails when required) without them.
func NewShapedLink(t testing.TB, o LinkOptions) *ShapedLink {
	t.Helper()
	switch {
	case o.Rate < 0:
		t.Fatalf("NewShapedLink: negative rate %g", o.Rate)
	case o.Delay < 0 || o.Jitter < 0:
		t.Fatalf("NewShapedLink: negative delay %s or jitter %s", o.Delay, o.Jitter)
	case o.Jitter > o.Delay:
		t.Fatalf("NewShapedLink: jitter %s larger than the delay %s", o.Jitter, o.Delay)
	case o.Loss < 0 || o.Loss >= 1:
		t.Fatalf("NewShapedLink: loss %v outside [0, 1)", o.Loss)
	}
	bridged := o.Delay > 0 || o.Loss > 0
	RequireRoot(t)
	RequireBinary(t, "ip")
	if o.Rate > 0 {
		RequireBinary(t, "tc")
	}
	if bridged {
		RequireBinary(t, "ethtool")
		if o.Rate == 0 || o.Rate > 100e6 {
			t.Logf("NewShapedLink: rate %g bit/s (0 = unshaped) with a delay bridge: above 100 Mbit/s the bridge's CPU use, not tbf, may set the rate", o.Rate)
		}
	}

	l := &ShapedLink{
		Client:   NewNetns(t),
		Server:   NewNetns(t),
		ClientIf: clientIf,
		ServerIf: serverIf,
		Options:  o,
	}
	c, s := freeSubnet(t)
	l.ClientAddr, l.ServerAddr = c.Addr(), s.Addr()

	if !bridged {
		runIP(t, "-n", l.Client.Name, "link", "add", clientIf, "type", "veth", "peer", "name", serverIf, "netns", l.Server.Name)
	} else {
		l.Router = NewNetns(t)
		// The router takes no part in IP: without IPv6 it sends no router
		// solicitations or neighbour discovery of its own into the link.
		for _, k := range []string{"net.ipv6.conf.all.disable_ipv6", "net.ipv6.conf.default.disable_ipv6"} {
			_ = l.Router.Command(t.Context(), "sysctl", "-q", "-w", k+"=1").Run()
		}
		runIP(t, "-n", l.Client.Name, "link", "add", clientIf, "type", "veth", "peer", "name", routerC, "netns", l.Router.Name)
		runIP(t, "-n", l.Server.Name, "link", "add", serverIf, "type", "veth", "peer", "name", routerS, "netns", l.Router.Name)
		for _, e := range []struct {
			ns *Netns
			If string
		}{{l.Client, clientIf}, {l.Server, serverIf}, {l.Router, routerC}, {l.Router, routerS}} {
			e.ns.Run(t, "ethtool", "-K", e.If, "gro", "off", "gso", "off", "tso", "off", "tx", "off", "rx", "off")
		}
		for _, If := range []string{routerC, routerS} {
			// Promiscuous, as a bridge port is: frames for the ends'
			// MAC addresses are not the router's own.
			runIP(t, "-n", l.Router.Name, "link", "set", If, "promisc", "on", "up")
		}
	}
	runIP(t, "-n", l.Client.Name, "addr", "add", c.String(), "dev", clientIf)
	runIP(t, "-n", l.Server.Name, "addr", "add", s.String(), "dev", serverIf)
	if o.Rate > 0 {
		rate, burst := strconv.FormatInt(int64(o.Rate), 10)+"bit", strconv.FormatInt(tbfBurst(o.Rate), 10)
		l.Client.Run(t, "tc", "qdisc", "replace", "dev", clientIf, "root", "tbf", "rate", rate, "burst", burst, "latency", tbfLatency)
		l.Server.Run(t, "tc", "qdisc", "replace", "dev", serverIf, "root", "tbf", "rate", rate, "burst", burst, "latency", tbfLatency)
	}
	if bridged {
		// Started before the ends come up, so their first frames (DAD,
		// ARP) already find it.
		startBridge(t, l.Router, routerC, routerS, o)
	}
	runIP(t, "-n", l.Client.Name, "link", "set", clientIf, "up")
	runIP(t, "-n", l.Server.Name, "link", "set", serverIf, "up")
	l.warmUp(t)
	return l
}

// warmUp pings the server from the client until a reply comes back. That
// proves the link carries traffic, and fills both ends' neighbour tables:
// otherwise the first packet of a test also waits for an ARP exchange,
// which crosses the delayed path too and doubles its first round trip.
func (l *ShapedLink) warmUp(t testing.TB) {
	t.Helper()
	ping := RequireBinary(t, "ping")
	var out []byte
	// Each try loses a round trip with probability 1-(1-Loss)^2 (and ARP
	// too); 20 tries are enough below 50% loss each way.
	for range 20 {
		var err error
		out, err = l.Client.Command(t.Context(), ping, "-n", "-q", "-c", "1", "-W", "1", l.ServerAddr.String()).CombinedOutput()
		if err == nil {
			return
		}
	}
	if l.Options.Loss < 0.5 {
		t.Fatalf("shaped link %s carries no traffic: ping from the client: %s", l, strings.TrimSpace(string(out)))
	}
}

// String describes the link for test logs.
func (l *ShapedLink) String() string {
	rate := "unshaped"
	if l.Options.Rate > 0 {
		rate = fmt.Sprintf("%g Mbit/s", float64(l.Options.Rate)/1e6)
	}
	return fmt.Sprintf("%s %s ⇄ %s %s, %s, delay %s ± %s, loss %g", l.Client.Name, l.ClientAddr, l.Server.Name, l.ServerAddr,
		rate, l.Options.Delay, l.Options.Jitter, l.Options.Loss)
}

// runIP runs ip(8) with args on the host; a failure fails the test.
func runIP(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
}
