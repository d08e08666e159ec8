package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// cli runs commands against one data directory, as an operator would.
type cli struct {
	t   *testing.T
	cfg string
}

func newCLI(t *testing.T) *cli {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "collector.yaml")
	if err := os.WriteFile(cfg, []byte("data_dir: "+filepath.Join(dir, "data")+"\nlog:\n  level: error\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &cli{t: t, cfg: cfg}
	c.ok(cmdTrustAdd, "Acorn Trust")
	c.ok(cmdSiteAdd, "--trust", "Acorn Trust", "--name", "Oak Primary", "--phase", "primary", "--id", "oak")
	return c
}

func (c *cli) run(cmd func(context.Context, []string, io.Writer, io.Writer) error, args ...string) (string, string, error) {
	var out, errb bytes.Buffer
	err := cmd(context.Background(), append(args, "--config", c.cfg), &out, &errb)
	return out.String(), errb.String(), err
}

func (c *cli) ok(cmd func(context.Context, []string, io.Writer, io.Writer) error, args ...string) string {
	c.t.Helper()
	out, stderr, err := c.run(cmd, args...)
	if err != nil {
		c.t.Fatalf("%v: %v\n%s", args, err, stderr)
	}
	return out
}

func TestAttestCLI(t *testing.T) {
	c := newCLI(t)
	out := c.ok(cmdAttest, "--site", "oak", "--req", "DL-1", "--by", "Pat Green", "--role", "headteacher",
		"--note", "J Smith appointed digital lead", "--at", "2026-01-15")
	if !strings.Contains(out, "for DL-1 at oak by Pat Green (headteacher); it expires on 15 January 2027") {
		t.Errorf("attest: %q", out)
	}
	out = c.ok(cmdAttest, "--site", "oak", "--req", "dl-1", "--by", "Sam Blue", "--note", "New lead")
	if !regexp.MustCompile(`It supersedes attestation \d+ by Pat Green of 15 January 2026`).MatchString(out) {
		t.Errorf("second attest: %q", out)
	}
	cur := c.ok(cmdAttestations, "--site", "oak")
	if !strings.Contains(cur, "Sam Blue") || strings.Contains(cur, "Pat Green") {
		t.Errorf("current attestations:\n%s", cur)
	}
	hist := c.ok(cmdAttestations, "--site", "oak", "--history", "--req", "DL-1")
	if !strings.Contains(hist, "Pat Green") || !strings.Contains(hist, "headteacher") || !regexp.MustCompile(`superseded by \d+ on \d{4}-\d\d-\d\d`).MatchString(hist) {
		t.Errorf("history:\n%s", hist)
	}

	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--site", "oak", "--req", "DL-1", "--note", "x"}, "--by: required"},
		{[]string{"--site", "oak", "--req", "FM-13", "--by", "x", "--note", "y"}, "measured by probes"},
		{[]string{"--site", "oak", "--req", "DL-1", "--by", "x", "--note", "y", "--at", "2999-01-01"}, "--at: 2999-01-01 is in the future"},
		{[]string{"--site", "oak", "--req", "DL-1", "--by", "x", "--note", "y", "--link", "file:///etc/passwd"}, "--link: must be an http"},
		{[]string{"--site", "nowhere", "--req", "DL-1", "--by", "x", "--note", "y"}, `no site "nowhere"`},
	}
	for _, tc := range cases {
		if _, _, err := c.run(cmdAttest, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("attest %v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestAdminTokenCLI(t *testing.T) {
	c := newCLI(t)
	tok := strings.TrimSpace(c.ok(cmdAdminToken, "--name", "J Smith"))
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(tok) {
		t.Fatalf("token %q is not 256 bits of hex", tok)
	}
	if _, _, err := c.run(cmdAdminToken, "--name", "J Smith"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second token with the same name: %v", err)
	}
	if _, _, err := c.run(cmdAdminToken); err == nil || !strings.Contains(err.Error(), "--name is required") {
		t.Errorf("no name: %v", err)
	}
	list := c.ok(cmdAdminToken, "--list")
	if !strings.Contains(list, "J Smith") || strings.Contains(list, tok) {
		t.Errorf("list shows the token or lacks its name:\n%s", list)
	}
	c.ok(cmdAdminToken, "--revoke", "J Smith")
	if _, _, err := c.run(cmdAdminToken, "--revoke", "J Smith"); err == nil {
		t.Error("revoking twice succeeded")
	}
}

func TestTrustSummaryCLI(t *testing.T) {
	c := newCLI(t)
	c.ok(cmdAttest, "--site", "oak", "--req", "DL-1", "--by", "Pat Green", "--note", "lead appointed")
	c.ok(cmdScore, "--site", "oak")
	out := c.ok(cmdTrustSummary, "--trust", "Acorn Trust")
	for _, want := range []string{`Trust "Acorn Trust"`, "1 school;", "STANDARD", "MOST COMMON GAP", "Filtering and monitoring", "0 of 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	js := c.ok(cmdTrustSummary, "--trust", "1", "--format", "json")
	if !strings.Contains(js, `"name": "Acorn Trust"`) || !strings.Contains(js, `"most_common_gap"`) {
		t.Errorf("JSON summary:\n%s", js)
	}
	if _, _, err := c.run(cmdTrustSummary, "--trust", "Nobody"); err == nil || !strings.Contains(err.Error(), `no trust "Nobody"`) {
		t.Errorf("unknown trust: %v", err)
	}
}
