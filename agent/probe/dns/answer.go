package dns

import (
	"net"
	"strconv"
	"strings"

	mdns "github.com/miekg/dns"
)

// maxAnswer caps the answer field: a big TXT set must not bloat a point.
const maxAnswer = 1024

// chain renders the answer section in order as the resolution chain: CNAME
// targets, addresses, and the values of TXT, MX and NS records, comma
// separated. Names are lower case without the trailing dot; TXT values are
// kept as they are (their strings joined). cname is the first CNAME target.
// Other record types (signatures and the like) are left out.
func chain(rrs []mdns.RR) (answer, cname string) {
	var parts []string
	for _, rr := range rrs {
		var v string
		switch r := rr.(type) {
		case *mdns.CNAME:
			v = name(r.Target)
			if cname == "" {
				cname = v
			}
		case *mdns.A:
			v = ip(r.A)
		case *mdns.AAAA:
			v = ip(r.AAAA)
		case *mdns.TXT:
			v = strings.Join(r.Txt, "")
		case *mdns.MX:
			v = strconv.Itoa(int(r.Preference)) + " " + name(r.Mx)
		case *mdns.NS:
			v = name(r.Ns)
		default:
			continue
		}
		parts = append(parts, v)
	}
	answer = strings.Join(parts, ",")
	if len(answer) > maxAnswer {
		answer = truncateUTF8(answer, maxAnswer-3) + "..."
	}
	return answer, cname
}

func name(n string) string { return strings.TrimSuffix(strings.ToLower(n), ".") }

func ip(a net.IP) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
