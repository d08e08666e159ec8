package api

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/probity-edu/probity/internal/wire"
)

// whoamiVerifyParam (?verify=1) checks a credential without recording the
// caller's address: a standalone speed-test server asks on an agent's
// behalf (collector/speedtest.Remote), and its own address is not the
// agent's.
const whoamiVerifyParam = "verify"

// whoami tells an agent who it is and the address it connects from; the
// address is recorded as the agent's last one.
func (s *Server) whoami(w http.ResponseWriter, r *http.Request) {
	a, msg := s.agentOf(r)
	if msg != "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="probity-collector"`)
		writeJSON(w, http.StatusUnauthorized, apiError{msg})
		return
	}
	addr := s.clientAddr(r)
	out := wire.Whoami{AgentID: a.ID, SiteID: a.SiteID}
	if addr.IsValid() {
		out.Address = addr.String()
		if r.URL.Query().Get(whoamiVerifyParam) == "" {
			if err := s.Store.SetAgentAddress(r.Context(), a.ID, out.Address, s.Now()); err != nil {
				s.Log.Warn("recording agent address", "agent", a.ID, "address", out.Address, "err", err)
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// clientAddr is where a request came from: the TCP peer, unless the peer
// is a trusted proxy, in which case X-Forwarded-For is walked from the
// right (each proxy appends the address it received from) to the first
// address that is not itself a trusted proxy. An entry that does not parse
// stops the walk at the last good address, since everything left of it is
// whatever the client chose to send.
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	return clientAddr(r, s.TrustedProxies)
}

func clientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	addr := peer.Addr().Unmap().WithZone("")
	if !isTrusted(addr, trusted) {
		return addr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		hop, err := netip.ParseAddr(h)
		if err != nil {
			ap, perr := netip.ParseAddrPort(h) // some proxies add the port
			if perr != nil {
				return addr
			}
			hop = ap.Addr()
		}
		addr = hop.Unmap().WithZone("")
		if !isTrusted(addr, trusted) {
			return addr
		}
	}
	return addr
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
