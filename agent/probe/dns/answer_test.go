package dns

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/config/cfgerr"
)

func TestChain(t *testing.T) {
	for _, tc := range []struct {
		name          string
		rrs           []string
		answer, cname string
	}{
		{"empty", nil, "", ""},
		{"cname then address, case and dots normalised",
			[]string{"www.google.com. IN CNAME ForceSafeSearch.Google.COM.", "forcesafesearch.google.com. IN A 216.239.38.120"},
			"forcesafesearch.google.com,216.239.38.120", "forcesafesearch.google.com"},
		{"two cnames: the first is cname",
			[]string{"a. IN CNAME b.", "b. IN CNAME c.", "c. IN AAAA 2001:DB8::1"}, "b,c,2001:db8::1", "b"},
		{"txt strings joined, case kept", []string{`t. IN TXT "v=spf1 " "-ALL"`}, "v=spf1 -ALL", ""},
		{"mx and ns", []string{"m. IN MX 10 MX.Example.", "n. IN NS NS1.Example."}, "10 mx.example,ns1.example", ""},
		{"other types skipped", []string{"x. IN SOA ns. host. 1 2 3 4 5", "x. IN A 192.0.2.1"}, "192.0.2.1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rrs []mdns.RR
			for _, s := range tc.rrs {
				rrs = append(rrs, rr(t, s))
			}
			answer, cname := chain(rrs)
			if answer != tc.answer || cname != tc.cname {
				t.Errorf("chain = %q, %q; want %q, %q", answer, cname, tc.answer, tc.cname)
			}
		})
	}
}

func TestTruncateUTF8(t *testing.T) {
	if got := truncateUTF8("aé", 2); got != "a" {
		t.Errorf("cut inside é: %q", got)
	}
	if got := truncateUTF8("abc", 5); got != "abc" {
		t.Errorf("short string changed: %q", got)
	}
}

// FuzzChain feeds arbitrary wire messages through the parser and chain:
// whatever a resolver sends must not panic, and the answer stays bounded.
func FuzzChain(f *testing.F) {
	m := new(mdns.Msg)
	m.SetQuestion("www.google.com.", mdns.TypeA)
	m.Answer = []mdns.RR{rr(f, "www.google.com. IN CNAME forcesafesearch.google.com."), rr(f, "forcesafesearch.google.com. IN A 216.239.38.120")}
	b, _ := m.Pack()
	f.Add(b)
	m.Answer = []mdns.RR{rr(f, `t. IN TXT "`+strings.Repeat("x", 250)+`"`), rr(f, "m. IN MX 1 m.")}
	b, _ = m.Pack()
	f.Add(b)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var msg mdns.Msg
		if msg.Unpack(data) != nil {
			return
		}
		answer, cname := chain(msg.Answer)
		if len(answer) > maxAnswer {
			t.Errorf("answer of %d bytes", len(answer))
		}
		if cname != "" && !strings.Contains(answer, cname) && len(answer) < maxAnswer {
			t.Errorf("cname %q not in answer %q", cname, answer)
		}
	})
}

func TestSystemResolvers(t *testing.T) {
	path := t.TempDir() + "/resolv.conf"
	if err := writeFile(path, "# comment\nsearch school.example\nnameserver 127.0.0.53\nnameserver ::1\noptions edns0\n"); err != nil {
		t.Fatal(err)
	}
	got, err := probe.SystemResolvers(path)
	if want := []string{"127.0.0.53:53", "[::1]:53"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("systemResolvers = %v, %v; want %v", got, err, want)
	}
	if err := writeFile(path, "search only.example\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := probe.SystemResolvers(path); err == nil {
		t.Error("a resolv.conf without nameservers gave no error")
	}
}

func TestValidate(t *testing.T) {
	c := Defaults
	c.Resolvers = []string{"127.0.0.1:53", "resolver.example", "127.0.0.1:99999"}
	c.Queries = []Query{{Name: "www.google.com"}, {Name: "", Type: "A"}, {Name: "x.example", Type: "SRV"}, {Name: "bad..name"}}
	c.Timeout = 0
	var paths []string
	for _, e := range cfgerr.Flatten(c.Validate()) {
		var fe *cfgerr.Error
		if !errors.As(e, &fe) {
			t.Fatalf("not a cfgerr: %v", e)
		}
		paths = append(paths, fe.Path)
	}
	slices.Sort(paths)
	want := []string{"queries[1].name", "queries[2].type", "queries[3].name", "resolvers[1]", "resolvers[2]", "timeout"}
	if !slices.Equal(paths, want) {
		t.Errorf("paths = %v, want %v", paths, want)
	}
	c = Defaults
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "queries") {
		t.Errorf("no queries: %v", err)
	}
	c.Queries = []Query{{Name: "use-application-dns.net"}}
	if err := c.Validate(); err != nil {
		t.Errorf("minimal config: %v", err)
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }

func TestNewDefaultsToSystemResolvers(t *testing.T) {
	want, err := probe.SystemResolvers(probe.ResolvConf)
	if err != nil {
		t.Skipf("this machine's %s is unusable: %v", probe.ResolvConf, err)
	}
	c := Defaults
	c.Queries = []Query{{Name: "use-application-dns.net"}}
	p, err := New(c, probe.Deps{}) // built only, never run: no query leaves the machine
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.resolvers, want) || p.queries[0].Type != "A" {
		t.Errorf("resolvers %v (want %v), query %+v", p.resolvers, want, p.queries[0])
	}
}
