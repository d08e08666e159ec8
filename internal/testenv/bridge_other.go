//go:build !linux

package testenv

import (
	"fmt"
	"net"
	"testing"
	"time"
)

// startBridge needs Linux packet sockets and setns.
func startBridge(t testing.TB, ns *Netns, _, _ string, _ LinkOptions) {
	t.Helper()
	Unavailable(t, "the delay bridge in %s needs Linux packet sockets", ns.Name)
}

// Listen needs setns.
func (n *Netns) Listen(_, _ string) (net.Listener, error) {
	return nil, fmt.Errorf("listening inside %s needs Linux setns", n.Name)
}

// Dial needs setns.
func (n *Netns) Dial(_, _ string, _ time.Duration) (net.Conn, error) {
	return nil, fmt.Errorf("dialling inside %s needs Linux setns", n.Name)
}
