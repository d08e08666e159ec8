package testenv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A helper process is this test binary started again inside a namespace to
// run one test function there: sockets it opens then belong to that
// namespace, which in-process setns cannot promise for every goroutine.
const (
	envHelper    = "PROBITY_TESTENV_HELPER"
	envHelperOut = "PROBITY_TESTENV_HELPER_OUT"
)

// IsHelper reports whether this process was started by RunHelper to run t.
// Helper tests call it first and skip when it is false.
func IsHelper(t testing.TB) bool { return os.Getenv(envHelper) == t.Name() }

// WriteHelperResult hands v, as JSON, back to the RunHelper that started
// this process.
func WriteHelperResult(t testing.TB, v any) {
	t.Helper()
	path := os.Getenv(envHelperOut)
	if path == "" {
		t.Fatal("WriteHelperResult outside a helper process")
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encoding helper result: %v", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatalf("writing helper result: %v", err)
	}
}

// RunHelper runs the test function named name of the current test binary
// inside the namespace, with env added to the environment, and decodes what
// it passed to WriteHelperResult into out. A failing helper fails t.
func (n *Netns) RunHelper(t testing.TB, name string, out any, env ...string) {
	t.Helper()
	// os.Executable, not /proc/self/exe: the path is resolved by `ip`, for
	// which /proc/self/exe is ip itself.
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("finding the test binary: %v", err)
	}
	resFile := filepath.Join(t.TempDir(), "helper.json")
	cmd := n.Command(t.Context(), exe, "-test.run=^"+regexp.QuoteMeta(name)+"$", "-test.count=1", "-test.v", "-test.timeout=2m")
	cmd.Env = append(append(os.Environ(), envHelper+"="+name, envHelperOut+"="+resFile), env...)
	output, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper %s in netns %s: %v\n%s", name, n.Name, err, output)
	}
	b, err := os.ReadFile(resFile)
	if err != nil {
		t.Fatalf("helper %s left no result (%v); its output:\n%s", name, err, strings.TrimSpace(string(output)))
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("decoding helper %s result: %v", name, err)
	}
}
