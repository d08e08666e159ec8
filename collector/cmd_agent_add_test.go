package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/api"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/sqlite"
)

func TestAgentAddCLI(t *testing.T) {
	c := newCLI(t)
	out, stderr, err := c.run(cmdAgentAdd, "--site", "oak", "--hostname", "telegraf-01")
	if err != nil {
		t.Fatalf("agent add: %v\n%s", err, stderr)
	}
	cred := strings.TrimSpace(out)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(cred) {
		t.Fatalf("stdout is not just the credential: %q", out)
	}
	for _, s := range []string{"added to site oak (Oak Primary) for telegraf-01", "shown only this once",
		"[[outputs.influxdb_v2]]", `token = "${PROBITY_TOKEN}"`, `organization = "oak"`, `content_encoding = "gzip"`} {
		if !strings.Contains(stderr, s) {
			t.Errorf("instructions lack %q:\n%s", s, stderr)
		}
	}
	if strings.Contains(stderr, cred) {
		t.Error("the credential is printed twice")
	}

	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(filepath.Dir(c.cfg), "data", "probity.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := st.AgentByCredential(ctx, store.HashSecret(cred))
	if err != nil || a.SiteID != "oak" || a.Hostname != "telegraf-01" || a.Revoked {
		t.Fatalf("agent by credential: %+v %v", a, err)
	}
	if !strings.Contains(stderr, "Agent "+a.ID+" added") {
		t.Errorf("instructions do not name agent %s:\n%s", a.ID, stderr)
	}
	list := c.ok(cmdAgentList, "--site", "oak")
	if !regexp.MustCompile(a.ID + `\s+oak\s+telegraf-01\s`).MatchString(list) {
		t.Errorf("agent list:\n%s", list)
	}

	// The credential writes as InfluxDB's token would.
	srv := httptest.NewServer((&api.Server{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler())
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+api.InfluxWritePath+"?org=oak&bucket=probity", strings.NewReader("cpu,host=telegraf-01 usage_idle=97.5 1764844800000000000\n"))
	req.Header.Set("Authorization", "Token "+cred)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write with the new credential: %d", resp.StatusCode)
	}
	pts, err := st.Points(ctx, store.PointQuery{Site: "oak", Measurement: "cpu", From: time.Unix(0, 0), To: time.Now().Add(time.Hour)})
	if err != nil || len(pts) != 1 || pts[0].Tags["agent"] != a.ID {
		t.Fatalf("stored: %v %v", pts, err)
	}

	// Two adds are two agents.
	out2 := c.ok(cmdAgentAdd, "--site", "oak", "--hostname", "telegraf-02")
	if strings.TrimSpace(out2) == cred {
		t.Error("a second agent got the same credential")
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--hostname", "h"}, "--site is required"},
		{[]string{"--site", "oak"}, "--hostname is required"},
		{[]string{"--site", "nowhere", "--hostname", "h"}, `no site "nowhere"`},
	} {
		if _, _, err := c.run(cmdAgentAdd, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("agent add %v: %v, want %q", tc.args, err, tc.want)
		}
	}
}
