package settings

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/internal/config"
)

func TestShippedConfigsLoad(t *testing.T) {
	files, _ := filepath.Glob("../../configs/collector*.yaml")
	if len(files) < 2 {
		t.Fatalf("expected collector.yaml and collector.demo.yaml, found %v", files)
	}
	for _, f := range files {
		c := Defaults()
		if err := config.Load(f, &c, config.Options{}); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestInvalid(t *testing.T) {
	cases := map[string]string{
		"invalid-listen.yaml":    "invalid-listen.yaml:1: listen: must be host:port",
		"invalid-driver.yaml":    "invalid-driver.yaml:2: store.driver: must be sqlite",
		"invalid-retention.yaml": "invalid-retention.yaml:2: retention.raw: must be at least 24h",
		"invalid-key.yaml":       "invalid-key.yaml:2: jobs.score_evry: unknown key",
		"invalid-proxies.yaml":   `invalid-proxies.yaml:4: server.trusted_proxies[1]: must be a CIDR such as 10.0.0.0/8 or fd00::/8, or a single address, not "192.168.1.300/24"`,
		"invalid-speedtest.yaml": "invalid-speedtest.yaml:2: speedtest.max_duration: must be between 1s and 5m, not 10m0s",
		"invalid-web.yaml":       "invalid-web.yaml:2: web.session_idle: must be at least 1m, not 30s",
		"invalid-ingest.yaml":    "invalid-ingest.yaml:2: ingest.max_inflight_writes: must be 0 (no limit) or more, not -1",
		"invalid-latency.yaml":   "invalid-latency.yaml:2: ingest.write_latency_target: must be more than 0, like 500ms, not 0s",
	}
	for file, want := range cases {
		c := Defaults()
		err := config.Load(filepath.Join("testdata", file), &c, config.Options{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", file, err, want)
		}
	}
}

func TestEnvOverride(t *testing.T) {
	t.Setenv("PROBITY_LISTEN", "127.0.0.1:9999")
	t.Setenv("PROBITY_INGEST_MAX_BODY", "1MiB")
	c := Defaults()
	if err := config.Load("", &c, config.Options{}); err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9999" || c.Ingest.MaxBody != 1<<20 {
		t.Fatalf("env not applied: %+v", c)
	}
}

func TestIngestDefaults(t *testing.T) {
	if d := Defaults().Ingest; d.MaxBody != 16<<20 || d.MaxInflightWrites != 1024 || d.WriteLatencyTarget != 500*time.Millisecond {
		t.Errorf("ingest defaults = %+v, want 16MiB, 1024 and 500ms", d)
	}
	t.Setenv("PROBITY_INGEST_MAX_INFLIGHT_WRITES", "0")
	c := Defaults()
	if err := config.Load("", &c, config.Options{}); err != nil || c.Ingest.MaxInflightWrites != 0 {
		t.Errorf("max_inflight_writes 0 (no limit) from env: %d, %v", c.Ingest.MaxInflightWrites, err)
	}
	t.Setenv("PROBITY_INGEST_WRITE_LATENCY_TARGET", "2s")
	c = Defaults()
	if err := config.Load("", &c, config.Options{}); err != nil || c.Ingest.WriteLatencyTarget != 2*time.Second {
		t.Errorf("write_latency_target 2s from env: %s, %v", c.Ingest.WriteLatencyTarget, err)
	}
}

func TestSpeedtestDefaultsAndBounds(t *testing.T) {
	d := Defaults().Speedtest
	if !d.Enabled || d.MaxDuration != 60*time.Second || d.MaxConcurrent != 32 {
		t.Errorf("speedtest defaults = %+v, want enabled, 60s, 32", d)
	}
	for _, tc := range []struct {
		s    Speedtest
		want string // "" = valid
	}{
		{Speedtest{MaxDuration: time.Second, MaxConcurrent: 1}, ""},
		{Speedtest{MaxDuration: 5 * time.Minute, MaxConcurrent: 32}, ""},
		{Speedtest{MaxDuration: 999 * time.Millisecond, MaxConcurrent: 32}, "max_duration: must be between 1s and 5m"},
		{Speedtest{MaxDuration: 5*time.Minute + 1, MaxConcurrent: 32}, "max_duration: must be between 1s and 5m"},
		{Speedtest{MaxDuration: time.Minute, MaxConcurrent: 0}, "max_concurrent: must be between 1 and 4096, not 0"},
	} {
		err := tc.s.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.s, err, tc.want)
		}
	}
}

func TestTrustedProxies(t *testing.T) {
	got, err := Server{TrustedProxies: []string{"10.1.2.3/8", "192.0.2.10", "2001:db8::/32", "::ffff:172.16.0.0/108"}}.Proxies()
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.10/32"),
		netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("172.16.0.0/12")}
	if !slices.Equal(got, want) {
		t.Errorf("Proxies = %v, want %v", got, want)
	}
	if none, err := (Server{}).Proxies(); err != nil || len(none) != 0 {
		t.Errorf("empty list: %v, %v", none, err)
	}
	_, err = Server{TrustedProxies: []string{"10.0.0.0/8", "proxy.example", "fe80::1%eth0"}}.Proxies()
	for _, want := range []string{`trusted_proxies[1]: must be a CIDR`, `"proxy.example"`, `trusted_proxies[2]:`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad entries: err = %v, want it to contain %q", err, want)
		}
	}
}

func TestTrustedProxiesFromEnvironment(t *testing.T) {
	t.Setenv("PROBITY_SERVER_TRUSTED_PROXIES", "127.0.0.0/8, 10.0.0.0/8")
	c := Defaults()
	if err := config.Load("", &c, config.Options{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Server.TrustedProxies, []string{"127.0.0.0/8", "10.0.0.0/8"}) {
		t.Errorf("trusted_proxies from env = %q", c.Server.TrustedProxies)
	}
}

func TestWebDefaults(t *testing.T) {
	d := Defaults().Web
	if d.SecureCookies || d.SessionIdle != 8*time.Hour || d.SessionMax != 7*24*time.Hour {
		t.Errorf("web defaults = %+v, want insecure-allowed cookies, 8h idle, 168h max", d)
	}
	if err := d.Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
	if err := (Web{SessionIdle: 2 * time.Hour, SessionMax: time.Hour}).Validate(); err == nil || !strings.Contains(err.Error(), "session_max: must be at least session_idle") {
		t.Errorf("max below idle: %v", err)
	}
}

// TestInfluxAndPostgres: the InfluxDB and PostgreSQL settings are
// validated with the key named, secrets come from the environment and are
// redacted when the configuration is printed.
func TestInfluxAndPostgres(t *testing.T) {
	t.Setenv("PROBITY_INFLUX_TOKEN", "influx-secret")
	t.Setenv("PROBITY_STORE_DSN", "postgres://probity:pg-secret@db/probity")
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	writeYAML(t, good, "store: {driver: postgres}\ninflux: {url: \"http://127.0.0.1:8086\", bucket: probity/autogen}\n")
	c := Defaults()
	if err := config.Load(good, &c, config.Options{}); err != nil {
		t.Fatal(err)
	}
	if c.Influx.Token != "influx-secret" || !strings.Contains(c.Store.DSN, "pg-secret") || !c.Influx.Enabled() {
		t.Fatalf("environment not applied: %+v %+v", c.Influx, c.Store)
	}
	out, err := config.Print(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "influx-secret") || strings.Contains(out, "pg-secret") {
		t.Errorf("printed configuration shows a secret:\n%s", out)
	}
	for body, want := range map[string]string{
		"influx: {url: \"ftp://x\", bucket: b}\n":                                      "influx.url: must be an http:// or https:// URL",
		"influx: {url: \"http://x:8086\"}\n":                                           "influx.bucket: required with url",
		"influx: {url: \"http://x:8086\", bucket: b, batch_size: 10, queue_size: 5}\n": "influx.queue_size: must be between batch_size (10)",
	} {
		t.Setenv("PROBITY_STORE_DSN", "")
		f := filepath.Join(dir, "bad.yaml")
		writeYAML(t, f, body)
		c := Defaults()
		if err := config.Load(f, &c, config.Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", body, err, want)
		}
	}
	f := filepath.Join(dir, "nodsn.yaml")
	writeYAML(t, f, "store: {driver: postgres}\n")
	c = Defaults()
	if err := config.Load(f, &c, config.Options{}); err == nil || !strings.Contains(err.Error(), "store.dsn: required with driver postgres") {
		t.Errorf("postgres without a DSN: %v", err)
	}
}

func writeYAML(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}
