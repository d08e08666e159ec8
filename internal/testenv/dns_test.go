package testenv

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestStartDNS(t *testing.T) {
	srv := StartDNS(t, []string{
		"www.probity.test. 60 IN CNAME app.probity.test.",
		"app.probity.test. 60 IN A 192.0.2.1",
		`big.probity.test. 60 IN TXT "` + strings.Repeat("x", 250) + `" "` + strings.Repeat("y", 250) + `"`,
	}, "gone.probity.test")
	ask := func(net, name string, qtype uint16) *dns.Msg {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		r, _, err := (&dns.Client{Net: net}).Exchange(m, srv.Addr)
		if err != nil {
			t.Fatalf("%s %s: %v", net, name, err)
		}
		return r
	}
	r := ask("udp", "WWW.probity.test.", dns.TypeA)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 2 {
		t.Errorf("CNAME chain: %v", r)
	}
	if r := ask("udp", "gone.probity.test.", dns.TypeA); r.Rcode != dns.RcodeNameError {
		t.Errorf("nxdomain name: rcode %d", r.Rcode)
	}
	if r := ask("udp", "other.probity.test.", dns.TypeA); r.Rcode != dns.RcodeNameError {
		t.Errorf("unknown name: rcode %d", r.Rcode)
	}
	if r := ask("udp", "app.probity.test.", dns.TypeAAAA); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
		t.Errorf("known name, other type: %v", r)
	}
	if r := ask("udp", "big.probity.test.", dns.TypeTXT); !r.Truncated {
		t.Error("a 500-byte TXT without EDNS0 was not truncated over UDP")
	}
	if r := ask("tcp", "big.probity.test.", dns.TypeTXT); r.Truncated || len(r.Answer) != 1 {
		t.Errorf("over TCP: truncated=%v answers=%d", r.Truncated, len(r.Answer))
	}
	if srv.UDPQueries.Load() != 5 || srv.TCPQueries.Load() != 1 {
		t.Errorf("counted %d UDP and %d TCP queries, want 5 and 1", srv.UDPQueries.Load(), srv.TCPQueries.Load())
	}
}
