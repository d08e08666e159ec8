package dns

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/point"
)

func run(t *testing.T, c Config) []point.Point {
	t.Helper()
	p, err := New(c, probe.Deps{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pts, err := p.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, pt := range pts {
		if err := pt.Validate(); err != nil {
			t.Errorf("invalid point: %v", err)
		}
		if pt.Measurement != "dns" {
			t.Errorf("measurement %q", pt.Measurement)
		}
		if d, ok := pt.Float("duration_ms"); !ok || d < 0 {
			t.Errorf("%v: duration_ms = %v", pt.Tags, pt.Fields["duration_ms"])
		}
	}
	return pts
}

// byName indexes points by qname.
func byName(pts []point.Point) map[string]point.Point {
	m := map[string]point.Point{}
	for _, p := range pts {
		m[p.Tags["qname"]] = p
	}
	return m
}

var safeSearchQueries = []Query{
	{Name: "www.google.com"}, {Name: "www.bing.com", Type: "A"}, {Name: "WWW.YouTube.com."},
	{Name: "use-application-dns.net"}, {Name: "plain.probity.test", Type: "aaaa"},
}

func TestSafeSearchEnforced(t *testing.T) {
	srv := startZone(t, true)
	c := Defaults
	c.Resolvers = []string{srv.Addr}
	c.Queries = safeSearchQueries
	got := byName(run(t, c))
	for _, tc := range []struct {
		qname, qtype, rcode, answer, cname string
		answers                            int64
	}{
		{"www.google.com", "A", "NOERROR", "forcesafesearch.google.com,216.239.38.120", "forcesafesearch.google.com", 2},
		{"www.bing.com", "A", "NOERROR", "strict.bing.com,192.0.2.20", "strict.bing.com", 2},
		{"www.youtube.com", "A", "NOERROR", "restrict.youtube.com,216.239.38.120", "restrict.youtube.com", 2},
		{"use-application-dns.net", "A", "NXDOMAIN", "", "", 0},
		{"plain.probity.test", "AAAA", "NOERROR", "2001:db8::10", "", 1},
	} {
		p, ok := got[tc.qname]
		if !ok {
			t.Errorf("no point for %s", tc.qname)
			continue
		}
		f := p.Fields
		if p.Tags["resolver"] != srv.Addr || p.Tags["qtype"] != tc.qtype {
			t.Errorf("%s: tags %v", tc.qname, p.Tags)
		}
		if f["ok"] != true || f["result"] != "ok" || f["rcode"] != tc.rcode || f["answers"] != tc.answers {
			t.Errorf("%s: ok=%v result=%v rcode=%v answers=%v; want true ok %s %d", tc.qname, f["ok"], f["result"], f["rcode"], f["answers"], tc.rcode, tc.answers)
		}
		if a, _ := f["answer"].(string); a != tc.answer {
			t.Errorf("%s: answer %q, want %q", tc.qname, a, tc.answer)
		}
		if cn, has := f["cname"]; (tc.cname == "" && has) || (tc.cname != "" && cn != tc.cname) {
			t.Errorf("%s: cname %v, want %q", tc.qname, cn, tc.cname)
		}
	}
}

func TestSafeSearchNotEnforced(t *testing.T) {
	srv := startZone(t, false)
	c := Defaults
	c.Resolvers = []string{srv.Addr}
	c.Queries = safeSearchQueries[:3]
	for _, p := range run(t, c) {
		f := p.Fields
		if _, has := f["cname"]; has || f["answers"] != int64(1) || strings.Contains(f["answer"].(string), ",") {
			t.Errorf("%s without SafeSearch: %v, want one A record and no cname", p.Tags["qname"], f)
		}
		if f["ok"] != true || f["rcode"] != "NOERROR" {
			t.Errorf("%s: %v", p.Tags["qname"], f)
		}
	}
}

func TestTruncatedAnswerRetriedOverTCP(t *testing.T) {
	srv := startZone(t, true)
	c := Defaults
	c.Resolvers = []string{srv.Addr}
	c.Queries = []Query{{Name: "big.probity.test", Type: "TXT"}}
	p := run(t, c)[0]
	if p.Fields["answers"] != int64(20) || p.Fields["ok"] != true {
		t.Errorf("big TXT: %v, want all 20 records", p.Fields)
	}
	if srv.UDPQueries.Load() != 1 || srv.TCPQueries.Load() != 1 {
		t.Errorf("queries: %d over UDP, %d over TCP; want one each", srv.UDPQueries.Load(), srv.TCPQueries.Load())
	}
	a := p.Fields["answer"].(string)
	if len(a) != maxAnswer || !strings.HasPrefix(a, strings.Repeat("a", 200)+","+strings.Repeat("b", 200)) || !strings.HasSuffix(a, "...") {
		t.Errorf("answer not capped at %d bytes in order: %d bytes, starts %.20q", maxAnswer, len(a), a)
	}
}

func TestUnreachableResolvers(t *testing.T) {
	// A closed port: the kernel answers with ICMP port unreachable.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := pc.LocalAddr().String()
	pc.Close()
	// A socket that reads and never answers.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	srv := startZone(t, true)

	c := Defaults
	c.Resolvers = []string{closed, silent.LocalAddr().String(), srv.Addr}
	c.Queries = []Query{{Name: "plain.probity.test"}}
	c.Timeout = 300 * time.Millisecond
	res := map[string]point.Point{}
	for _, p := range run(t, c) {
		res[p.Tags["resolver"]] = p
	}
	for addr, want := range map[string]string{closed: "refused", silent.LocalAddr().String(): "timeout", srv.Addr: "ok"} {
		f := res[addr].Fields
		if f["result"] != want || f["ok"] != (want == "ok") {
			t.Errorf("resolver %s: %v, want result %s", addr, f, want)
		}
		if want != "ok" {
			if _, has := f["rcode"]; has {
				t.Errorf("resolver %s gave no answer but has an rcode: %v", addr, f)
			}
		}
	}
}

func TestDeadlineObeyed(t *testing.T) {
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	c := Defaults
	c.Resolvers = []string{silent.LocalAddr().String()}
	c.Queries = []Query{{Name: "plain.probity.test"}}
	c.Timeout = time.Minute
	p, err := New(c, probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	pts, err := p.Run(ctx)
	if err != nil || len(pts) != 1 || pts[0].Fields["result"] != "timeout" {
		t.Fatalf("Run under a short deadline: %v, %v; want one timeout point", pts, err)
	}
	// The 1m query timeout was cut short by ctx: far less than it passed.
	if d, _ := pts[0].Float("duration_ms"); d >= 30000 {
		t.Errorf("duration_ms = %v: the query ran past the context deadline", d)
	}
}
