package dns

import (
	"context"
	"strconv"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/point"
)

// udpSize is the EDNS0 buffer we advertise: the 2020 DNS flag day value,
// which avoids IP fragmentation. Larger answers come back truncated and are
// asked again over TCP.
const udpSize = 1232

// query resolves q through resolver and describes what happened.
func (p *Prober) query(ctx context.Context, resolver string, q Query) point.Point {
	pt := point.New("dns", map[string]string{"resolver": resolver, "qname": q.Name, "qtype": q.Type}, map[string]any{}, p.now())
	f := pt.Fields

	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(q.Name), QueryTypes[q.Type])
	m.SetEdns0(udpSize, false)

	began := time.Now()
	resp, err := exchange(ctx, m, resolver, p.timeout)
	f["duration_ms"] = probe.Ms(time.Since(began))
	if err != nil {
		p.log.Debug("dns: query failed", "resolver", resolver, "qname", q.Name, "qtype", q.Type, "err", err)
		o := probe.Classify(err)
		if o == probe.OK || o == probe.DNSError {
			o = probe.Error // a transport failure, not an answer
		}
		f["ok"], f["result"] = false, string(o)
		return pt
	}
	f["ok"], f["result"] = true, string(probe.OK)
	f["rcode"] = rcodeName(resp.Rcode)
	f["answers"] = int64(len(resp.Answer))
	answer, cname := chain(resp.Answer)
	if answer != "" {
		f["answer"] = answer
	}
	if cname != "" {
		f["cname"] = cname
	}
	return pt
}

// exchange asks over UDP and, when the answer is truncated, again over TCP.
func exchange(ctx context.Context, m *mdns.Msg, resolver string, timeout time.Duration) (*mdns.Msg, error) {
	udp := &mdns.Client{Net: "udp", UDPSize: udpSize, Timeout: timeout}
	resp, _, err := udp.ExchangeContext(ctx, m, resolver)
	if err != nil || !resp.Truncated {
		return resp, err
	}
	tcp := &mdns.Client{Net: "tcp", Timeout: timeout}
	resp, _, err = tcp.ExchangeContext(ctx, m, resolver)
	return resp, err
}

func rcodeName(rc int) string {
	if s, ok := mdns.RcodeToString[rc]; ok {
		return s
	}
	return "RCODE" + strconv.Itoa(rc)
}
