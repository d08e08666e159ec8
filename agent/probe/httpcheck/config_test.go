package httpcheck

import (
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/config/cfgerr"
)

func TestValidate(t *testing.T) {
	c := Defaults
	c.Timeout = 0
	c.Resolver = "dns.example"
	c.InsecureSkipVerify, c.CAFile = true, "/x.pem"
	c.Targets = []Target{
		{URL: "https://login.microsoftonline.com/", Name: "m365", Role: "cloud"},
		{URL: "ftp://example.org/", Name: "ftp"},
		{URL: "https://example.org/", Name: "m365", Method: "DELETE", ExpectStatus: []int{200, 99}},
		{URL: "not a url"},
	}
	var paths []string
	for _, e := range cfgerr.Flatten(c.Validate()) {
		var fe *cfgerr.Error
		if !errors.As(e, &fe) {
			t.Fatalf("not a cfgerr: %v", e)
		}
		paths = append(paths, fe.Path)
	}
	slices.Sort(paths)
	wantPaths := []string{"ca_file", "resolver", "targets[1].url", "targets[2].expect_status[1]", "targets[2].method", "targets[2].name", "targets[3].url", "timeout"}
	if !slices.Equal(paths, wantPaths) {
		t.Errorf("paths = %v, want %v", paths, wantPaths)
	}
	if err := Defaults.Validate(); err == nil {
		t.Error("no targets accepted")
	}
}

func TestStatusOK(t *testing.T) {
	for _, tc := range []struct {
		code   int
		expect []int
		want   bool
	}{
		{200, nil, true}, {204, nil, true}, {301, nil, true}, {399, nil, true},
		{199, nil, false}, {404, nil, false}, {500, nil, false},
		{404, []int{404}, true}, {200, []int{204, 404}, false},
	} {
		if got := statusOK(tc.code, tc.expect); got != tc.want {
			t.Errorf("statusOK(%d, %v) = %v", tc.code, tc.expect, got)
		}
	}
}

func TestNewCAFile(t *testing.T) {
	c := Defaults
	c.Targets = []Target{{URL: "https://127.0.0.1/"}}
	c.CAFile = t.TempDir() + "/missing.pem"
	if _, err := New(c, probe.Deps{}); err == nil {
		t.Error("a missing ca_file was accepted")
	}
	c.CAFile = writeTemp(t, "not PEM")
	if _, err := New(c, probe.Deps{}); err == nil {
		t.Error("a ca_file without certificates was accepted")
	}
}

func writeTemp(t *testing.T, s string) string {
	p := t.TempDir() + "/f"
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
