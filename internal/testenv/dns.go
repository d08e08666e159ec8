package testenv

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// DNSServer is an in-process DNS server on 127.0.0.1, on one port for both
// UDP and TCP, answering from a fixed zone. The records are data only: no
// traffic goes to the addresses in them.
type DNSServer struct {
	Addr       string       // 127.0.0.1:port
	UDPQueries atomic.Int64 // queries received over UDP
	TCPQueries atomic.Int64 // queries received over TCP

	records map[string][]dns.RR // by lower-case FQDN
	nx      map[string]bool
}

// StartDNS serves records (zone-file lines such as
// "www.example. 60 IN CNAME other.example.") until the test ends. It
// follows CNAMEs within the zone. Names in nxdomain, and names it has no
// record for, answer NXDOMAIN; a known name without the asked type answers
// NOERROR with no records. UDP answers larger than the client's EDNS0
// buffer (512 bytes without EDNS0) come back truncated, as from a real
// server.
func StartDNS(t testing.TB, records []string, nxdomain ...string) *DNSServer {
	t.Helper()
	s := &DNSServer{records: map[string][]dns.RR{}, nx: map[string]bool{}}
	for _, line := range records {
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("StartDNS: record %q: %v", line, err)
		}
		n := strings.ToLower(rr.Header().Name)
		s.records[n] = append(s.records[n], rr)
	}
	for _, n := range nxdomain {
		s.nx[strings.ToLower(dns.Fqdn(n))] = true
	}
	var (
		pc  net.PacketConn
		ln  net.Listener
		err error
	)
	for i := 0; ; i++ { // TCP must get the port UDP got; retry when it is taken
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatalf("StartDNS: %v", err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
		if i == 20 {
			t.Fatalf("StartDNS: no port free for both UDP and TCP: %v", err)
		}
	}
	s.Addr = pc.LocalAddr().String()
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: s}, {Listener: ln, Handler: s}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return s
}

// ServeDNS answers one query from the zone.
func (s *DNSServer) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	udp := w.LocalAddr().Network() == "udp"
	if udp {
		s.UDPQueries.Add(1)
	} else {
		s.TCPQueries.Add(1)
	}
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	n := strings.ToLower(q.Name)
	if _, known := s.records[n]; s.nx[n] || !known {
		m.Rcode = dns.RcodeNameError
	}
	for hops := 0; hops < 8 && !s.nx[n]; hops++ {
		var next string
		for _, rr := range s.records[n] {
			switch {
			case rr.Header().Rrtype == q.Qtype:
				m.Answer = append(m.Answer, rr)
			case rr.Header().Rrtype == dns.TypeCNAME:
				m.Answer = append(m.Answer, rr)
				next = strings.ToLower(rr.(*dns.CNAME).Target)
			}
		}
		if next == "" {
			break
		}
		n = next
	}
	if udp {
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = int(opt.UDPSize())
			m.SetEdns0(opt.UDPSize(), false)
		}
		m.Truncate(size)
	}
	_ = w.WriteMsg(m)
}
