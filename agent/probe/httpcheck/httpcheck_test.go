package httpcheck

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/testenv"
)

// server is a loopback HTTP server with the handlers the tests need.
func server(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") })
	mux.HandleFunc("/fail", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "broken", http.StatusInternalServerError) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select { // longer than any timeout used here, but gives up with the client
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) {
		chunk := strings.Repeat("x", 64<<10)
		for i := 0; i < 48; i++ { // 3 MiB
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func run(t *testing.T, c Config) map[string]point.Point {
	t.Helper()
	p, err := New(c, probe.Deps{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pts, err := p.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	out := map[string]point.Point{}
	for _, pt := range pts {
		if err := pt.Validate(); err != nil {
			t.Errorf("invalid point: %v", err)
		}
		if pt.Measurement != "http" {
			t.Errorf("measurement %q", pt.Measurement)
		}
		if d, ok := pt.Float("total_ms"); !ok || d < 0 {
			t.Errorf("%s: total_ms = %v", pt.Tags["target"], pt.Fields["total_ms"])
		}
		out[pt.Tags["target"]] = pt
	}
	return out
}

// want checks result, ok and the presence of the error field.
func want(t *testing.T, pt point.Point, result string) {
	t.Helper()
	f := pt.Fields
	ok := result == "ok"
	if f["result"] != result || f["ok"] != ok {
		t.Errorf("%s: result=%v ok=%v, want %s (%v)", pt.Tags["target"], f["result"], f["ok"], result, f)
	}
	if _, has := f["error"]; has == ok {
		t.Errorf("%s: error field present=%v with ok=%v: %v", pt.Tags["target"], has, ok, f["error"])
	}
}

func has(t *testing.T, pt point.Point, fields ...string) {
	t.Helper()
	for _, k := range fields {
		if _, ok := pt.Fields[k]; !ok {
			t.Errorf("%s: field %s missing: %v", pt.Tags["target"], k, pt.Fields)
		}
	}
}

func lacks(t *testing.T, pt point.Point, fields ...string) {
	t.Helper()
	for _, k := range fields {
		if _, ok := pt.Fields[k]; ok {
			t.Errorf("%s: field %s should be absent: %v", pt.Tags["target"], k, pt.Fields)
		}
	}
}

func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestPlainHTTP(t *testing.T) {
	srv := server(t)
	c := Defaults
	c.Timeout = 2 * time.Second
	c.Targets = []Target{
		{URL: srv.URL + "/ok", Name: "ok", Role: "cloud"},
		{URL: srv.URL + "/fail", Name: "fail"},
		{URL: srv.URL + "/fail", Name: "fail-expected", ExpectStatus: []int{500}},
		{URL: srv.URL + "/ok", Name: "ok-unexpected", ExpectStatus: []int{204}},
		{URL: "http://" + closedPort(t) + "/", Name: "refused"},
		{URL: srv.URL + "/redirect", Name: "redirect"},
		{URL: srv.URL + "/loop", Name: "loop"},
		{URL: srv.URL + "/big", Name: "big"},
		{URL: srv.URL + "/ok", Name: "head", Method: http.MethodHead},
		{URL: srv.URL + "/ok"},
	}
	got := run(t, c)

	ok := got["ok"]
	want(t, ok, "ok")
	if ok.Tags["role"] != "cloud" || ok.Fields["status"] != int64(200) || ok.Fields["bytes"] != int64(5) {
		t.Errorf("ok: %v %v", ok.Tags, ok.Fields)
	}
	has(t, ok, "connect_ms", "ttfb_ms", "total_ms")
	lacks(t, ok, "dns_ms", "tls_ms", "cert_days_left") // an IP literal over plain HTTP
	if ttfb, total := ok.Fields["ttfb_ms"].(float64), ok.Fields["total_ms"].(float64); ttfb > total {
		t.Errorf("ttfb %v after total %v", ttfb, total)
	}
	if _, has := got["fail"].Tags["role"]; has {
		t.Errorf("empty role became a tag: %v", got["fail"].Tags)
	}

	want(t, got["fail"], "http_status")
	if f := got["fail"].Fields; f["status"] != int64(500) || f["error"] != "status 500" {
		t.Errorf("fail: %v", f)
	}
	want(t, got["fail-expected"], "ok")
	want(t, got["ok-unexpected"], "http_status")
	want(t, got["refused"], "refused")
	lacks(t, got["refused"], "status", "ttfb_ms")
	want(t, got["redirect"], "ok")
	if got["redirect"].Fields["status"] != int64(200) {
		t.Errorf("redirect not followed: %v", got["redirect"].Fields)
	}
	want(t, got["loop"], "error")
	if e, _ := got["loop"].Fields["error"].(string); !strings.Contains(e, "redirects") {
		t.Errorf("loop error %q", e)
	}
	want(t, got["big"], "ok")
	if got["big"].Fields["bytes"] != int64(maxBody) {
		t.Errorf("big: bytes %v, want the cap %d", got["big"].Fields["bytes"], maxBody)
	}
	want(t, got["head"], "ok")
	if got["head"].Fields["bytes"] != int64(0) {
		t.Errorf("HEAD read a body: %v", got["head"].Fields)
	}
	if _, ok := got[srv.URL+"/ok"]; !ok {
		t.Errorf("a target without a name is not tagged with its URL: %v", got)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	srv := server(t)
	c := Defaults
	c.FollowRedirects = false
	c.Targets = []Target{{URL: srv.URL + "/redirect", Name: "r"}, {URL: srv.URL + "/redirect", Name: "r-200", ExpectStatus: []int{200}}}
	got := run(t, c)
	want(t, got["r"], "ok") // a 3xx is fine by default
	if got["r"].Fields["status"] != int64(302) {
		t.Errorf("status %v, want 302", got["r"].Fields["status"])
	}
	want(t, got["r-200"], "http_status")
}

func TestTimeout(t *testing.T) {
	srv := server(t)
	c := Defaults
	c.Timeout = 200 * time.Millisecond
	c.Targets = []Target{{URL: srv.URL + "/slow", Name: "slow"}}
	got := run(t, c)["slow"]
	want(t, got, "timeout")
	lacks(t, got, "status")

	// The caller's deadline counts too, even when shorter than the timeout.
	c.Timeout = time.Minute
	p, err := New(c, probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	pts, _ := p.Run(ctx)
	want(t, pts[0], "timeout")
}

func tlsServer(t *testing.T, cert tls.Certificate) *httptest.Server {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "secure") }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestTLS(t *testing.T) {
	cert, caFile := testPKI(t, 10*24*time.Hour)
	srv := tlsServer(t, cert)

	c := Defaults
	c.CAFile = caFile
	c.Targets = []Target{{URL: srv.URL + "/", Name: "trusted"}}
	got := run(t, c)["trusted"]
	want(t, got, "ok")
	has(t, got, "tls_ms", "connect_ms", "ttfb_ms")
	days, _ := got.Fields["cert_days_left"].(float64)
	if math.Abs(days-10) > 0.1 {
		t.Errorf("cert_days_left = %v, want about 10", got.Fields["cert_days_left"])
	}

	c.CAFile = ""
	got = run(t, c)["trusted"]
	want(t, got, "tls_error")
	if days, _ := got.Fields["cert_days_left"].(float64); math.Abs(days-10) > 0.1 {
		t.Errorf("untrusted certificate: cert_days_left = %v, want about 10 still", got.Fields["cert_days_left"])
	}

	c.InsecureSkipVerify = true
	want(t, run(t, c)["trusted"], "ok")
}

func TestResolver(t *testing.T) {
	srv := server(t)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	cert, caFile := testPKI(t, 30*24*time.Hour)
	tsrv := tlsServer(t, cert)
	_, tport, _ := net.SplitHostPort(tsrv.Listener.Addr().String())
	dns := testenv.StartDNS(t, []string{"app.probity.test. 60 IN A 127.0.0.1"}, "nx.probity.test")

	c := Defaults
	c.Resolver = dns.Addr
	c.CAFile = caFile
	c.Timeout = 3 * time.Second
	c.Targets = []Target{
		{URL: fmt.Sprintf("http://app.probity.test:%s/ok", port), Name: "named"},
		{URL: fmt.Sprintf("https://app.probity.test:%s/", tport), Name: "named-tls"},
		{URL: fmt.Sprintf("http://nx.probity.test:%s/ok", port), Name: "nx"},
	}
	got := run(t, c)
	want(t, got["named"], "ok")
	has(t, got["named"], "dns_ms")
	want(t, got["named-tls"], "ok")
	has(t, got["named-tls"], "dns_ms", "tls_ms", "cert_days_left")
	want(t, got["nx"], "dns_error")
	lacks(t, got["nx"], "connect_ms", "status")
	if dns.UDPQueries.Load()+dns.TCPQueries.Load() == 0 {
		t.Error("the configured resolver was never asked")
	}
}
