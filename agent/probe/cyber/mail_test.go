package cyber

import (
	"context"
	"net"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/config/cfgerr"
	"github.com/probity-edu/probity/internal/testenv"
)

// mailZone is the DNS of several school domains, each with a different
// mail posture.
var mailZone = []string{
	// good: strict SPF, DMARC reject, MTA-STS and TLS-RPT.
	`good.test. 60 IN MX 10 mx.good.test.`,
	`good.test. 60 IN TXT "google-site-verification=abc"`,
	`good.test. 60 IN TXT "v=spf1 ip4:192.0.2.1 " "mx -all"`, // two strings, joined
	`_dmarc.good.test. 60 IN TXT "v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@good.test"`,
	`_mta-sts.good.test. 60 IN TXT "v=STSv1; id=20240101"`,
	`_smtp._tls.good.test. 60 IN TXT "v=TLSRPTv1; rua=mailto:tls@good.test"`,
	// p=none, soft-fail SPF.
	`pnone.test. 60 IN TXT "v=spf1 include:_spf.provider.test ~all"`,
	`_dmarc.pnone.test. 60 IN TXT "v=DMARC1; p=none"`,
	// no DMARC at all (_dmarc is NXDOMAIN).
	`nodmarc.test. 60 IN TXT "v=spf1 -all"`,
	// two SPF records.
	`twospf.test. 60 IN TXT "v=spf1 mx -all"`,
	`twospf.test. 60 IN TXT "v=spf1 include:other.test -all"`,
	`_dmarc.twospf.test. 60 IN TXT "v=DMARC1; p=quarantine; rua=mailto:d@twospf.test"`,
	// +all, and DMARC through a CNAME to a hosted record.
	`plusall.test. 60 IN TXT "v=spf1 a mx +all"`,
	`_dmarc.plusall.test. 60 IN CNAME plusall.dmarc.provider.test.`,
	`plusall.dmarc.provider.test. 60 IN TXT "v=DMARC1; p=reject; rua=mailto:r@provider.test"`,
	// exists (MX) but has no SPF; a TXT that merely looks like one.
	`nospf.test. 60 IN MX 10 mx.nospf.test.`,
	`nospf.test. 60 IN TXT "v=spf10 not really"`,
	`_dmarc.nospf.test. 60 IN TXT "v=DMARC1; p=reject"`,
	// SPF without an all mechanism, and one that redirects.
	`noall.test. 60 IN TXT "v=spf1 mx"`,
	`redir.test. 60 IN TXT "v=spf1 redirect=_spf.provider.test"`,
}

func mailEnv(timeout time.Duration) *env {
	return &env{cfg: Config{VLAN: "staff", Timeout: timeout}, deps: probe.Deps{}.WithDefaults()}
}

func runMail(t *testing.T, c MailConfig, timeout time.Duration) map[string]Result {
	t.Helper()
	if err := c.validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	ch, err := c.build(probe.Deps{})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	rs := ch.run(context.Background(), mailEnv(timeout))
	if want := len(c.Domains) * 4; len(rs) != want {
		t.Fatalf("got %d results, want %d", len(rs), want)
	}
	out := map[string]Result{}
	for _, r := range rs {
		out[r.Check+" "+r.Target] = r
	}
	return out
}

// wantRes checks one result: ok, finding, severity, fields (a subset)
// and that a finding says how to fix it.
func wantRes(t *testing.T, got map[string]Result, key string, ok, finding bool, sev string, fields map[string]any, detail string) {
	t.Helper()
	r, found := got[key]
	if !found {
		t.Errorf("%s: no result", key)
		return
	}
	if r.OK != ok || r.Finding != finding {
		t.Errorf("%s: ok=%v finding=%v, want ok=%v finding=%v (%s)", key, r.OK, r.Finding, ok, finding, r.Detail)
	}
	if finding && r.Severity != sev {
		t.Errorf("%s: severity %q, want %q (%s)", key, r.Severity, sev, r.Detail)
	}
	if finding && r.Fix == "" {
		t.Errorf("%s: a finding without a fix", key)
	}
	if !finding && r.Fix != "" {
		t.Errorf("%s: a fix %q without a finding", key, r.Fix)
	}
	if r.Detail == "" || !strings.Contains(r.Detail, detail) {
		t.Errorf("%s: detail %q does not say %q", key, r.Detail, detail)
	}
	for k, v := range fields {
		if !reflect.DeepEqual(r.Fields[k], v) {
			t.Errorf("%s: field %s = %#v, want %#v", key, k, r.Fields[k], v)
		}
	}
}

func TestMailRecords(t *testing.T) {
	srv := testenv.StartDNS(t, mailZone)
	domains := []string{"good.test", "PNone.test.", "nodmarc.test", "twospf.test", "plusall.test", "nospf.test", "noall.test", "redir.test", "missing.test"}
	got := runMail(t, MailConfig{Domains: domains, Resolver: srv.Addr}, 2*time.Second)
	H, M := SeverityHigh, SeverityMedium

	// SPF
	wantRes(t, got, "mail_spf good.test", true, false, "", map[string]any{"all": "-all", "records": int64(1), "record": "v=spf1 ip4:192.0.2.1 mx -all"}, "-all")
	wantRes(t, got, "mail_spf pnone.test", true, false, "", map[string]any{"all": "~all"}, "soft fail")
	wantRes(t, got, "mail_spf nodmarc.test", true, false, "", map[string]any{"all": "-all"}, "-all")
	wantRes(t, got, "mail_spf twospf.test", true, true, M, map[string]any{"records": int64(2)}, "2 SPF records")
	wantRes(t, got, "mail_spf plusall.test", true, true, M, map[string]any{"all": "+all"}, "+all")
	wantRes(t, got, "mail_spf nospf.test", true, true, H, map[string]any{"records": int64(0)}, "no SPF record")
	wantRes(t, got, "mail_spf noall.test", true, true, M, map[string]any{"all": ""}, "no all mechanism")
	wantRes(t, got, "mail_spf redir.test", true, false, "", map[string]any{"redirect": "_spf.provider.test"}, "redirect=")
	wantRes(t, got, "mail_spf missing.test", false, false, "", nil, "NXDOMAIN")

	// DMARC
	wantRes(t, got, "mail_dmarc good.test", true, false, "", map[string]any{"p": "reject", "sp": "quarantine", "rua": true}, "p=reject")
	wantRes(t, got, "mail_dmarc pnone.test", true, true, M, map[string]any{"p": "none", "rua": false}, "p=none")
	if _, has := got["mail_dmarc pnone.test"].Fields["sp"]; has {
		t.Error("mail_dmarc pnone.test: sp recorded though the record has none")
	}
	wantRes(t, got, "mail_dmarc nodmarc.test", true, true, H, map[string]any{"records": int64(0)}, "no DMARC record")
	wantRes(t, got, "mail_dmarc twospf.test", true, false, "", map[string]any{"p": "quarantine", "rua": true}, "p=quarantine")
	wantRes(t, got, "mail_dmarc plusall.test", true, false, "", map[string]any{"p": "reject", "rua": true}, "p=reject") // through the CNAME
	wantRes(t, got, "mail_dmarc nospf.test", true, false, "", map[string]any{"p": "reject", "rua": false}, "no aggregate reports")
	// A domain that does not exist is a configuration mistake, not four findings.
	for _, c := range []string{CheckDMARC, CheckMTASTS, CheckTLSRPT} {
		wantRes(t, got, c+" missing.test", false, false, "", nil, "missing.test does not exist (NXDOMAIN)")
	}

	// MTA-STS and TLS-RPT: noted, never findings.
	wantRes(t, got, "mail_mta_sts good.test", true, false, "", map[string]any{"present": true, "record": "v=STSv1; id=20240101"}, "publishes MTA-STS")
	wantRes(t, got, "mail_tls_rpt good.test", true, false, "", map[string]any{"present": true}, "publishes TLS-RPT")
	for _, d := range domains[1 : len(domains)-1] {
		d = normDomain(d)
		wantRes(t, got, "mail_mta_sts "+d, true, false, "", map[string]any{"present": false}, "no MTA-STS")
		wantRes(t, got, "mail_tls_rpt "+d, true, false, "", map[string]any{"present": false}, "no TLS-RPT")
	}
	if n := srv.UDPQueries.Load(); n != int64(len(domains)*4) {
		t.Errorf("the server saw %d UDP queries, want %d (one per record and domain)", n, len(domains)*4)
	}
}

// TestMailResolverSilent: a resolver that never answers makes every result
// ok=false, none a finding.
func TestMailResolverSilent(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	got := runMail(t, MailConfig{Domains: []string{"good.test"}, Resolver: pc.LocalAddr().String()}, 300*time.Millisecond)
	for _, c := range []string{CheckSPF, CheckDMARC, CheckMTASTS, CheckTLSRPT} {
		wantRes(t, got, c+" good.test", false, false, "", nil, "timeout")
	}
}

// TestMailPoints runs the mail check through the prober and checks the
// points it writes.
func TestMailPoints(t *testing.T) {
	srv := testenv.StartDNS(t, mailZone)
	c := Config{VLAN: "staff", Timeout: 2 * time.Second, Mail: &MailConfig{Domains: []string{"pnone.test"}, Resolver: srv.Addr}}
	p, err := New(c, probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	pts, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var checks []string
	for _, pt := range pts {
		checks = append(checks, pt.Tags["check"])
		if pt.Measurement != Measurement || pt.Tags["target"] != "pnone.test" || pt.Tags["vlan"] != "staff" {
			t.Errorf("point %s %v", pt.Measurement, pt.Tags)
		}
		if pt.Tags["check"] == CheckDMARC {
			if pt.Fields["finding"] != true || pt.Fields["severity"] != SeverityMedium || pt.Fields["fix"] == nil || pt.Fields["p"] != "none" {
				t.Errorf("dmarc point fields %v", pt.Fields)
			}
		}
	}
	slices.Sort(checks)
	if want := []string{CheckDMARC, CheckMTASTS, CheckSPF, CheckTLSRPT}; !slices.Equal(checks, want) {
		t.Errorf("checks %v, want %v", checks, want)
	}
}

func TestMailValidate(t *testing.T) {
	for _, tc := range []struct {
		c    MailConfig
		want []string
	}{
		{MailConfig{}, []string{"domains"}},
		{MailConfig{Domains: []string{"school.example"}}, nil},
		{MailConfig{Domains: []string{"school.example", "School.Example."}}, []string{"domains[1]"}},
		{MailConfig{Domains: []string{"localhost", "bad domain.example"}}, []string{"domains[0]", "domains[1]"}},
		{MailConfig{Domains: []string{"school.example"}, Resolver: "dns.example:53"}, []string{"resolver"}},
		{MailConfig{Domains: []string{"school.example"}, Resolver: "192.0.2.53"}, nil},
	} {
		if got := cfgerr.Paths(tc.c.validate()); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: error paths %v, want %v", tc.c, got, tc.want)
		}
	}
	// The whole section, through Config.Validate, gets the mail. prefix.
	c := Config{VLAN: "staff", Timeout: time.Second, Mail: &MailConfig{}}
	if got := cfgerr.Paths(c.Validate()); !slices.Equal(got, []string{"mail.domains"}) {
		t.Errorf("Config.Validate paths %v", got)
	}
}
