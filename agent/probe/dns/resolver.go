package dns

import (
	"fmt"
	"net"

	mdns "github.com/miekg/dns"
	"github.com/probity-edu/probity/agent/probe"
)

// systemResolvers returns the name servers of a resolv.conf file as
// ip:port.
func systemResolvers(path string) ([]string, error) {
	cc, err := mdns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var out []string
	for _, s := range cc.Servers {
		r, err := probe.NormalizeResolver(net.JoinHostPort(s, cc.Port))
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
