package config

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/probity-edu/probity/internal/config/cfgerr"
)

type target struct {
	Host string `yaml:"host"`
	Port int    `yaml:"port"`
}

type testConfig struct {
	Name     string        `yaml:"name"`
	Interval time.Duration `yaml:"interval"`
	Size     Bytes         `yaml:"size"`
	Token    string        `yaml:"token" secret:"true"`
	Log      struct {
		Level string `yaml:"level"`
	} `yaml:"log"`
	Targets []target `yaml:"targets"`
}

func (c *testConfig) Validate() error {
	var errs []error
	if c.Interval < time.Second {
		errs = append(errs, cfgerr.Errorf("interval", "must be at least 1s"))
	}
	for i, t := range c.Targets {
		if t.Port <= 0 || t.Port > 65535 {
			errs = append(errs, cfgerr.Errorf("targets["+itoa(i)+"].port", "must be 1 to 65535"))
		}
	}
	return errors.Join(errs...)
}

func itoa(i int) string { return strconv.Itoa(i) }

func defaults() *testConfig {
	c := &testConfig{Name: "default", Interval: time.Minute, Size: 1 << 20}
	c.Log.Level = "info"
	return c
}

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "test.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadValid(t *testing.T) {
	p := write(t, "name: school\ninterval: 30s\nsize: 64MiB\ntargets:\n  - {host: a, port: 80}\n")
	c := defaults()
	if err := Load(p, c, Options{}); err != nil {
		t.Fatal(err)
	}
	if c.Name != "school" || c.Interval != 30*time.Second || c.Size != 64<<20 || c.Log.Level != "info" || len(c.Targets) != 1 {
		t.Fatalf("unexpected config: %+v", c)
	}
}

func TestLoadErrorsNameFileLineAndKey(t *testing.T) {
	cases := []struct {
		file string
		want string
	}{
		{"invalid-unknown-key.yaml", "invalid-unknown-key.yaml:3: intervall: unknown key \"intervall\""},
		{"invalid-nested-unknown.yaml", "invalid-nested-unknown.yaml:5: targets[0].hots: unknown key \"hots\""},
		{"invalid-type.yaml", "invalid-type.yaml:4: targets[0].port: cannot unmarshal !!str `eighty` into int"},
		{"invalid-validate.yaml", "invalid-validate.yaml:6: targets[1].port: must be 1 to 65535"},
		{"invalid-duration.yaml", "invalid-duration.yaml:2: interval"},
		{"invalid-syntax.yaml", "did not find expected"},
		{"invalid-default-interval.yaml", "invalid-default-interval.yaml:1: interval: must be at least 1s"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			err := Load(filepath.Join("testdata", tc.file), defaults(), Options{})
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\ndoes not contain %q", err, tc.want)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.File == "" {
				t.Fatalf("error is not a *config.Error with a file: %#v", err)
			}
		})
	}
}

func TestEnvAndFlagsOverride(t *testing.T) {
	p := write(t, "name: file\ninterval: 30s\nlog:\n  level: warn\n")
	t.Setenv("PROBITY_NAME", "env")
	t.Setenv("PROBITY_LOG_LEVEL", "debug")
	t.Setenv("PROBITY_SIZE", "2MiB")
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.String("interval", "", "")
	if err := fs.Parse([]string{"--interval", "45s"}); err != nil {
		t.Fatal(err)
	}
	c := defaults()
	if err := Load(p, c, Options{Flags: fs}); err != nil {
		t.Fatal(err)
	}
	if c.Name != "env" || c.Log.Level != "debug" || c.Interval != 45*time.Second || c.Size != 2<<20 {
		t.Fatalf("overrides not applied: %+v", c)
	}
}

func TestEnvBadValueNamesVariable(t *testing.T) {
	t.Setenv("PROBITY_INTERVAL", "soon")
	err := Load("", defaults(), Options{})
	if err == nil || !strings.Contains(err.Error(), "PROBITY_INTERVAL: interval: not a duration") {
		t.Fatalf("got %v", err)
	}
}

func TestValidationErrorNamesEnvironmentVariable(t *testing.T) {
	p := write(t, "name: file\ninterval: 30s\n")
	t.Setenv("PROBITY_INTERVAL", "10ms")
	err := Load(p, defaults(), Options{})
	if err == nil || err.Error() != "PROBITY_INTERVAL: interval: must be at least 1s" {
		t.Fatalf("got %v", err)
	}
}

func TestPrintRedactsSecrets(t *testing.T) {
	c := defaults()
	c.Token = "s3cret-value"
	out, err := Print(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "s3cret-value") || !strings.Contains(out, "token: "+Redacted) {
		t.Fatalf("secret not redacted:\n%s", out)
	}
	if !strings.Contains(out, "interval: 1m0s") || !strings.Contains(out, "size: 1MiB") {
		t.Fatalf("durations or sizes not readable:\n%s", out)
	}
}

func TestParseBytes(t *testing.T) {
	f := func(in string, want Bytes, ok bool) {
		t.Helper()
		got, err := ParseBytes(in)
		if (err == nil) != ok || (ok && got != want) {
			t.Fatalf("ParseBytes(%q) = %d, %v; want %d ok=%v", in, got, err, want, ok)
		}
	}
	f("4096", 4096, true)
	f("64MiB", 64<<20, true)
	f("1.5GiB", 3<<29, true)
	f("10MB", 10e6, true)
	f("12B", 12, true)
	f("-1", 0, false)
	f("lots", 0, false)
	f("MiB", 0, false)
}

func FuzzLoad(f *testing.F) {
	for _, s := range []string{"name: x\ninterval: 30s\n", "targets:\n  - {host: a, port: 1}\n", "intervall: 1\n", "a: [\n", ""} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body string) {
		p := filepath.Join(dir, "fuzz.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		// Must never panic; errors must carry the file name.
		if err := Load(p, defaults(), Options{}); err != nil && !strings.Contains(err.Error(), "fuzz.yaml") {
			t.Fatalf("error without file name: %v", err)
		}
	})
}
