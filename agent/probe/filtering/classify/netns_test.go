package classify

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/probity-edu/probity/internal/testenv"
)

// TestIntegrationConnectPhase checks the TCP verdicts against a real remote
// kernel: a namespace with no listener answers a SYN with RST, and the same
// namespace with its output dropped answers nothing, so the connect itself
// times out (the loopback cases in TestCheck time out after connecting).
func TestIntegrationConnectPhase(t *testing.T) {
	testenv.RequireIntegration(t, "network namespaces")
	ns := testenv.NewNetns(t)
	v := ns.AddVeth(t)
	target := "http://" + net.JoinHostPort(v.NSAddr.Addr().String(), "80") + "/"

	r := Check(context.Background(), target, Options{Timeout: 5 * time.Second})
	if r.Outcome != Blocked || r.Mechanism != TCPReset {
		t.Errorf("closed port in %s: %+v, want blocked/tcp_reset", ns.Name, r)
	}

	ns.DropOutput(t, v.HostAddr.Addr(), 1)
	for _, c := range []struct {
		block   bool
		outcome Outcome
	}{{false, Error}, {true, Blocked}} {
		r := Check(context.Background(), target, Options{Timeout: 500 * time.Millisecond, TimeoutIsBlock: c.block})
		if r.Outcome != c.outcome || r.Mechanism != Timeout {
			t.Errorf("silent namespace, TimeoutIsBlock=%v: %+v, want %s/timeout", c.block, r, c.outcome)
		}
	}
}
