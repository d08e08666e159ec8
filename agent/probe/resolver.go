package probe

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
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
