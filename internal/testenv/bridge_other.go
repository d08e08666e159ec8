//go:build !linux

package testenv

import "testing"

// startBridge needs Linux packet sockets and setns.
func startBridge(t testing.TB, ns *Netns, _, _ string, _ LinkOptions) {
	t.Helper()
	Unavailable(t, "the delay bridge in %s needs Linux packet sockets", ns.Name)
}
