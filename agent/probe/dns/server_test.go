package dns

import (
	"fmt"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/probity-edu/probity/internal/testenv"
)

func rr(t testing.TB, s string) mdns.RR {
	t.Helper()
	r, err := mdns.NewRR(s)
	if err != nil {
		t.Fatalf("NewRR(%q): %v", s, err)
	}
	return r
}

// startZone serves the test zone on 127.0.0.1. With safeSearch the search
// engines' names are CNAMEs to their restricted hosts, as a school resolver
// that enforces SafeSearch answers; without, plain A records. The records
// are data only: nothing is sent to the addresses in them.
func startZone(t testing.TB, safeSearch bool) *testenv.DNSServer {
	records := []string{
		"plain.probity.test. 60 IN A 192.0.2.10",
		"plain.probity.test. 60 IN AAAA 2001:db8::10",
	}
	if safeSearch {
		records = append(records,
			"www.google.com. 300 IN CNAME forcesafesearch.google.com.",
			"forcesafesearch.google.com. 300 IN A 216.239.38.120",
			"www.bing.com. 300 IN CNAME strict.bing.com.",
			"strict.bing.com. 300 IN A 192.0.2.20",
			"www.youtube.com. 300 IN CNAME restrict.youtube.com.",
			"restrict.youtube.com. 300 IN A 216.239.38.120",
		)
	} else {
		records = append(records,
			"www.google.com. 300 IN A 192.0.2.30",
			"www.bing.com. 300 IN A 192.0.2.31",
			"www.youtube.com. 300 IN A 192.0.2.32",
		)
	}
	// 20 TXT records of 200 bytes: about 4 KB, far over the 1232 bytes we
	// advertise, so the UDP answer comes back truncated.
	for i := 0; i < 20; i++ {
		records = append(records, fmt.Sprintf("big.probity.test. 60 IN TXT %q", strings.Repeat(string(rune('a'+i)), 200)))
	}
	return testenv.StartDNS(t, records, "use-application-dns.net")
}
