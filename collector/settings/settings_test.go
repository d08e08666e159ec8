package settings

import (
	"path/filepath"
	"strings"
	"testing"

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
