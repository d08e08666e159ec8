package api

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/internal/testenv"
)

// EnvTelegraf names the telegraf binary for TestTelegrafOnce; without
// it the test takes scripts/setup-test.sh's build in testenv.CacheDir()/bin,
// or telegraf on PATH.
const EnvTelegraf = "PROBITY_TELEGRAF"

// runTelegraf runs `telegraf --once` with inputs.internal and inputs.mem
// and its influxdb_v2 output pointed at url with token; it returns the
// log and its exit error.
func runTelegraf(t *testing.T, bin, url, token string) (string, error) {
	t.Helper()
	conf := fmt.Sprintf(`[agent]
  hostname = "tg-it"
  skip_processors_after_aggregators = true
[[inputs.internal]]
[[inputs.mem]]
[[outputs.influxdb_v2]]
  urls = [%q]
  token = %q
  organization = "oak-trust"
  bucket = "probity"
  content_encoding = "gzip"
  timeout = "10s"
`, url, token)
	path := filepath.Join(t.TempDir(), "telegraf.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--config", path, "--once")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestTelegrafOnce runs the real Telegraf against a collector with an
// influxdb_v2 output, as a school would configure it.
func TestTelegrafOnce(t *testing.T) {
	testenv.RequireIntegration(t, "runs Telegraf")
	bin := testenv.RequireCachedBinary(t, "telegraf", EnvTelegraf)

	t.Run("stored", func(t *testing.T) {
		f := newFixture(t, 0)
		log, err := runTelegraf(t, bin, f.srv.URL, f.cred)
		if err != nil {
			t.Fatalf("telegraf: %v\n%s", err, log)
		}
		checkTelegrafPoints(t, f, log)
		if v := f.agent(t).Version; !strings.HasPrefix(v, "Telegraf/") {
			t.Errorf("agent version %q, want Telegraf's user agent", v)
		}
	})

	// A collector with a small body limit answers 413; Telegraf splits the
	// batch and every point still lands.
	t.Run("split on 413", func(t *testing.T) {
		f := newFixture(t, 1024)
		log, err := runTelegraf(t, bin, f.srv.URL, f.cred)
		if err != nil {
			t.Fatalf("telegraf: %v\n%s", err, log)
		}
		if !strings.Contains(log, "request was too large (413)") {
			t.Errorf("Telegraf did not meet a 413:\n%s", log)
		}
		checkTelegrafPoints(t, f, log)
		if m := f.metrics(t); !strings.Contains(m, `probity_ingest_rejected_total{reason="too_large"}`) {
			t.Errorf("no 413 counted:\n%s", m)
		}
	})

	t.Run("bad token", func(t *testing.T) {
		f := newFixture(t, 0)
		log, err := runTelegraf(t, bin, f.srv.URL, "not-a-credential")
		t.Logf("telegraf: %v\n%s", err, log)
		if err == nil {
			t.Error("telegraf --once succeeded though every write was refused")
		}
		if !strings.Contains(log, "401 Unauthorized") || !strings.Contains(log, "unauthorized: unknown or revoked agent credential") {
			t.Errorf("Telegraf's log does not show our 401:\n%s", log)
		}
		if n := len(f.points(t, "mem")); n != 0 {
			t.Errorf("%d points stored with a bad token", n)
		}
	})
}

func checkTelegrafPoints(t *testing.T, f *fixture, log string) {
	t.Helper()
	agent := f.agent(t)
	mem := f.points(t, "mem")
	if len(mem) != 1 {
		t.Fatalf("%d mem points stored, want 1\n%s", len(mem), log)
	}
	p := mem[0]
	if p.Tags["site"] != "oak" || p.Tags["agent"] != agent.ID || p.Tags["host"] != "tg-it" {
		t.Errorf("mem tags %v", p.Tags)
	}
	if total, ok := p.Fields["total"].(int64); !ok || total <= 0 {
		t.Errorf("mem total %#v", p.Fields["total"])
	}
	// Telegraf rounds to its precision, so the point may be up to a
	// second ahead of now.
	if age := time.Since(p.Time); age < -time.Minute || age > 10*time.Minute {
		t.Errorf("mem point at %v: not a nanosecond timestamp of now", p.Time)
	}
	if n := len(f.points(t, "internal_write")); n == 0 {
		t.Errorf("no internal_write points\n%s", log)
	}
}
