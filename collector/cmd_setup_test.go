package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/probity-edu/probity/collector/auth"
	"github.com/probity-edu/probity/collector/store/sqlite"
	"github.com/probity-edu/probity/internal/service"
)

// TestSetupCLI: the first run makes the store, the trust and an
// administrator whose printed password signs in, and says where; a second
// run changes nothing. Without systemd it says how to start the service.
func TestSetupCLI(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "collector.yaml")
	if err := os.WriteFile(cfg, []byte("data_dir: "+filepath.Join(dir, "data")+"\nlisten: 127.0.0.1:18470\nlog:\n  level: error\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &cli{t: t, cfg: cfg}
	// Tests run without systemd as init, so setup must not try to start
	// anything; when they do run under systemd, leave the service alone.
	args := []string{"--trust", "Oak Learning Trust", "--admin", "ops"}
	canStart, why := service.CanManage()
	if canStart {
		args = append(args, "--service", "")
	}
	out := c.ok(cmdSetup, args...)
	for _, want := range []string{
		"✓ Configuration " + cfg + " is valid.",
		`✓ Trust "Oak Learning Trust" created.`,
		`✓ Trust administrator "ops" created (every trust).`,
		"✓ Store " + filepath.Join(dir, "data", "probity.db") + " is ready.",
		"Sign in at http://127.0.0.1:18470/login as ops with password ",
		"sudo probity-agent enrol --collector http://127.0.0.1:18470 --token <token>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("setup output lacks %q:\n%s", want, out)
		}
	}
	if !canStart && !strings.Contains(out, "! Not starting probity-collector.service: "+why) {
		t.Errorf("setup without systemd should say how to start the service:\n%s", out)
	}
	m := regexp.MustCompile(`as ops with password (\S+)\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no password printed:\n%s", out)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "data", "probity.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.UserByName(context.Background(), "ops")
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := auth.VerifyPassword(u.PasswordHash, m[1]); err != nil || !ok || u.Role != "trust_admin" || u.TrustID != 0 {
		t.Fatalf("administrator %+v does not sign in with the printed password (%v)", u, err)
	}

	again := c.ok(cmdSetup, args...)
	if strings.Contains(again, "password") || !strings.Contains(again, `✓ Trust "Oak Learning Trust" exists.`) ||
		!strings.Contains(again, "1 users exist; no administrator created") {
		t.Errorf("second setup:\n%s", again)
	}
}
