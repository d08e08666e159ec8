package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportCLI: one school's evidence report and review in every format,
// a trust's pack with its progress lines, and errors that say what to fix.
func TestReportCLI(t *testing.T) {
	c := newCLI(t)
	c.ok(cmdSiteAdd, "--trust", "Acorn Trust", "--name", "Elm Academy", "--phase", "secondary", "--id", "elm")
	c.ok(cmdAttest, "--site", "oak", "--req", "DL-1", "--by", "Pat Green", "--note", "lead appointed")
	c.ok(cmdScore)
	dir := t.TempDir()
	for _, f := range []struct{ kind, format, want string }{
		{"evidence", "html", "Summary for governors"},
		{"evidence", "csv", "DL-1"},
		{"evidence", "json", `"standards"`},
		{"evidence", "pdf", "%PDF-"},
		{"review", "html", "annual IT support review"},
		{"review", "pdf", "%PDF-"},
	} {
		file := filepath.Join(dir, f.kind+"."+f.format)
		_, stderr, err := c.run(cmdReport, "--site", "oak", "--kind", f.kind, "--format", f.format, "--out", file)
		if err != nil {
			t.Fatalf("%s %s: %v", f.kind, f.format, err)
		}
		b, _ := os.ReadFile(file)
		if !strings.Contains(string(b), f.want) || !strings.Contains(stderr, "for Oak Primary written to") {
			t.Errorf("%s %s: %d bytes without %q; stderr %q", f.kind, f.format, len(b), f.want, stderr)
		}
	}
	pack := filepath.Join(dir, "pack")
	_, stderr, err := c.run(cmdReport, "--trust", "Acorn Trust", "--format", "pdf", "--out", pack)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"oak-evidence.pdf", "elm-evidence.pdf", "trust.html", "trust.pdf", "fleet.json"} {
		if _, err := os.Stat(filepath.Join(pack, f)); err != nil {
			t.Errorf("pack lacks %s", f)
		}
	}
	if strings.Count(stderr, "/2] ") != 2 || !strings.Contains(stderr, "2 reports for Acorn Trust") {
		t.Errorf("progress: %q", stderr)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{nil, "give --site or --trust"},
		{[]string{"--site", "oak", "--trust", "Acorn Trust"}, "give --site or --trust"},
		{[]string{"--site", "oak", "--kind", "yearly"}, "--kind must be evidence or review"},
		{[]string{"--site", "oak", "--kind", "review", "--format", "csv"}, "a review has no csv"},
		{[]string{"--trust", "Acorn Trust"}, "give --out a folder"},
		{[]string{"--site", "oak", "--since", "tomorrow"}, "--since"},
	} {
		if _, _, err := c.run(cmdReport, bad.args...); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: %v, want %q", bad.args, err, bad.want)
		}
	}
}
