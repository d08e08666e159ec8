package probe

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"

	mdns "github.com/miekg/dns"
)

// NormalizeResolver turns a configured DNS resolver into ip:port; a bare IP
// gets port 53. Names are refused: resolving the resolver would need a
// resolver, and the measurement would depend on it.
func NormalizeResolver(s string) (string, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return net.JoinHostPort(a.String(), "53"), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("%q is not ip:port", s)
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return "", fmt.Errorf("%q: the host must be an IP address", s)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return "", fmt.Errorf("%q: port must be 1 to 65535", s)
	}
	return net.JoinHostPort(a.String(), strconv.FormatUint(n, 10)), nil
}

// ResolvConf is where the system's resolvers are listed.
const ResolvConf = "/etc/resolv.conf"

// SystemResolvers returns the name servers of a resolv.conf file as
// ip:port, for probes that ask "the school's resolver" directly.
func SystemResolvers(path string) ([]string, error) {
	cc, err := mdns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var out []string
	for _, s := range cc.Servers {
		r, err := NormalizeResolver(net.JoinHostPort(s, cc.Port))
		if err != nil {
			continue // a scoped or odd entry we cannot use
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s lists no usable nameserver", path)
	}
	return out, nil
}
