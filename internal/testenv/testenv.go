// Package testenv gates integration tests and builds the real peers they
// need: network namespaces joined to the host by veth pairs, random packet
// loss, helper processes re-executed inside a namespace, and shaped links
// between two namespaces (tbf rate limits, and delay, jitter and loss from
// an in-process bridge, since this kernel has no netem) with iperf3 as a
// peer on them.
//
// An integration test skips when what it needs is missing, unless
// PROBITY_INTEGRATION=required (as .ci/run sets), in which case it fails: CI
// must never pass by skipping.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// EnvIntegration is the environment variable that makes missing
// prerequisites fatal instead of a skip when set to "required".
const EnvIntegration = "PROBITY_INTEGRATION"

// Required reports whether integration tests must run rather than skip.
func Required() bool { return os.Getenv(EnvIntegration) == "required" }

// Unavailable skips the test, or fails it when integration tests are
// required, saying what is missing.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("%s (%s=required)", msg, EnvIntegration)
	}
	t.Skip(msg)
}

// RequireIntegration marks t as an integration test: it skips under
// `go test -short` unless integration tests are required. reason says what
// the test needs, for the skip message.
func RequireIntegration(t testing.TB, reason string) {
	t.Helper()
	if testing.Short() && !Required() {
		t.Skipf("integration test (%s) skipped in -short mode", reason)
	}
}

// RequireBinary returns the path of the named program, or skips (fails when
// required) when it is not installed.
func RequireBinary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "%s is not installed: %v", name, err)
	}
	return p
}

// RequireRoot skips (fails when required) unless the test runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "needs root (euid is %d)", os.Geteuid())
	}
}

// CacheDir is where scripts/setup-test.sh keeps what it fetches or builds
// for the tests (axe-core, influxd, telegraf): $PROBITY_CACHE, else
// $XDG_CACHE_HOME/probity, else ~/.cache/probity.
func CacheDir() string {
	if c := os.Getenv("PROBITY_CACHE"); c != "" {
		return c
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "probity")
}

// RequireCachedBinary returns the path of a program scripts/setup-test.sh
// builds into CacheDir()/bin (or the one named by the environment variable
// env, or found on PATH), or skips (fails when required) without it.
func RequireCachedBinary(t testing.TB, name, env string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	if p := filepath.Join(CacheDir(), "bin", name); isExecutable(p) {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	Unavailable(t, "%s is not built: run scripts/setup-test.sh (or set %s)", name, env)
	return ""
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode().Perm()&0o111 != 0
}
