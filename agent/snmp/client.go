package snmp

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gosnmp/gosnmp"
)

// maxGetOIDs is how many scalar OIDs go into one GET: enough to fetch a
// system group in one round trip, small enough for any agent's PDU limit.
const maxGetOIDs = 20

// maxBulkColumns is how many table columns one GETBULK walks side by side;
// the response carries up to maxBulkColumns × max-repetitions values.
const maxBulkColumns = 10

// Client is an SNMP session with one device. It has its own gosnmp
// session (never gosnmp.Default, which is shared global state) and keeps
// what it learns between cycles: the SNMPv3 engine parameters and the
// adaptive max-repetitions. Its methods serialise on a mutex, since one
// gosnmp session cannot carry two requests at once.
type Client struct {
	target Target

	mu   sync.Mutex
	g    *gosnmp.GoSNMP
	reps repetitions

	malformed atomic.Int64 // values skipped because their type or content was wrong
	answers   atomic.Int64 // requests the device answered
}

// NewClient validates t (after WithDefaults) and opens a UDP socket for it.
// No packet is sent until the first request.
func NewClient(t Target) (*Client, error) {
	t = t.WithDefaults()
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("snmp target %q: %w", t.Name, err)
	}
	host, port, _ := t.HostPort()
	g := &gosnmp.GoSNMP{
		Target:         host,
		Port:           port,
		Transport:      "udp",
		Community:      t.Community,
		Version:        gosnmp.Version2c,
		Timeout:        t.Timeout,
		Retries:        t.Retries,
		MaxOids:        maxGetOIDs * maxBulkColumns,
		MaxRepetitions: uint32(t.MaxRepetitions),
		Context:        context.Background(),
	}
	if t.Version == V3 {
		g.Version = gosnmp.Version3
		g.SecurityModel = gosnmp.UserSecurityModel
		g.ContextName = t.ContextName
		usm := &gosnmp.UsmSecurityParameters{
			UserName:                 t.User,
			AuthenticationProtocol:   authProtocol(t.AuthProtocol),
			AuthenticationPassphrase: t.AuthPassphrase,
			PrivacyProtocol:          gosnmp.NoPriv,
		}
		g.MsgFlags = gosnmp.AuthNoPriv
		if t.SecurityLevel == AuthPriv {
			g.MsgFlags = gosnmp.AuthPriv
			usm.PrivacyProtocol = privProtocol(t.PrivProtocol)
			usm.PrivacyPassphrase = t.PrivPassphrase
		}
		g.SecurityParameters = usm
	}
	if err := g.Connect(); err != nil {
		return nil, fmt.Errorf("snmp target %q: %w", t.Name, err)
	}
	return &Client{target: t, g: g, reps: newRepetitions(t.MaxRepetitions)}, nil
}

func authProtocol(s string) gosnmp.SnmpV3AuthProtocol {
	switch strings.ToUpper(s) {
	case "SHA-256":
		return gosnmp.SHA256
	case "SHA-512":
		return gosnmp.SHA512
	}
	return gosnmp.SHA
}

func privProtocol(s string) gosnmp.SnmpV3PrivProtocol {
	switch strings.ToUpper(s) {
	case "AES-256":
		return gosnmp.AES256
	case "AES-256-C":
		return gosnmp.AES256C
	}
	return gosnmp.AES
}

// Target returns the device's configuration (with defaults applied).
func (c *Client) Target() Target { return c.target }

// Malformed is how many values were skipped so far because their type or
// content was not what SNMP allows.
func (c *Client) Malformed() int64 { return c.malformed.Load() }

// Answers is how many requests the device has answered so far.
func (c *Client) Answers() int64 { return c.answers.Load() }

// Repetitions is the current adaptive GETBULK max-repetitions.
func (c *Client) Repetitions() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reps.value()
}

// Close releases the socket.
func (c *Client) Close() error { return c.g.Close() }

// Get fetches scalar OIDs (e.g. "1.3.6.1.2.1.1.5.0"), up to maxGetOIDs per
// request. Keys of the result are the OIDs with a leading dot, as gosnmp
// writes them; NoSuchObject/NoSuchInstance come back as Missing values. On
// an error the values fetched so far are returned with it.
func (c *Client) Get(ctx context.Context, oids []string) (map[string]Value, error) {
	norm := make([]string, 0, len(oids))
	for _, o := range oids {
		n, err := normOID(o)
		if err != nil {
			return nil, err
		}
		norm = append(norm, n)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]Value, len(norm))
	for len(norm) > 0 {
		batch := norm[:min(len(norm), maxGetOIDs)]
		norm = norm[len(batch):]
		if err := c.get(ctx, batch, out); err != nil {
			return out, err
		}
	}
	return out, nil
}

func (c *Client) get(ctx context.Context, oids []string, out map[string]Value) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.g.Context = ctx
	pkt, err := c.g.Get(oids)
	if err != nil {
		return fmt.Errorf("get from %s: %w", c.target.Name, err)
	}
	c.answers.Add(1)
	if pkt.Error == gosnmp.TooBig && len(oids) > 1 {
		// The agent cannot fit the answer in one PDU: ask in halves.
		h := len(oids) / 2
		if err := c.get(ctx, oids[:h], out); err != nil {
			return err
		}
		return c.get(ctx, oids[h:], out)
	}
	if pkt.Error != gosnmp.NoError {
		return fmt.Errorf("get from %s: agent returned %s (index %d)", c.target.Name, pkt.Error, pkt.ErrorIndex)
	}
	for _, pdu := range pkt.Variables {
		v, ok := FromPDU(pdu)
		if !ok {
			c.malformed.Add(1)
			continue
		}
		out[pdu.Name] = v
	}
	return nil
}

// Walk calls fn for every value under rootOID, in OID order, with GETBULK.
// fn gets the full OID (leading dot). An error from fn stops the walk.
func (c *Client) Walk(ctx context.Context, rootOID string, fn func(oid string, v Value) error) error {
	root, err := normOID(rootOID)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bulk(ctx, []string{root}, func(_ int, oid string, v Value) error { return fn(oid, v) })
}

// Columns walks table columns side by side (several columns per GETBULK)
// and returns, per column OID (leading dot), the values by row index (the
// OID suffix after the column, without a leading dot: "3" or "1.4.10").
// On an error the rows read so far are returned with it.
func (c *Client) Columns(ctx context.Context, columnOIDs []string) (map[string]map[string]Value, error) {
	roots := make([]string, 0, len(columnOIDs))
	out := make(map[string]map[string]Value, len(columnOIDs))
	for _, o := range columnOIDs {
		n, err := normOID(o)
		if err != nil {
			return nil, err
		}
		if _, dup := out[n]; dup {
			continue
		}
		out[n] = map[string]Value{}
		roots = append(roots, n)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.bulk(ctx, roots, func(i int, oid string, v Value) error {
		out[roots[i]][oid[len(roots[i])+1:]] = v
		return nil
	})
	return out, err
}

// column is the walk state of one root.
type column struct {
	i          int    // index into the roots
	root, next string // next is the last OID seen, the start of the next request
	done       bool
}

// bulk walks every root with GETBULK, up to maxBulkColumns at a time. A
// timeout halves max-repetitions and retries from where the walk stood; a
// timeout at max-repetitions 1, or the context ending, is returned.
func (c *Client) bulk(ctx context.Context, roots []string, fn func(i int, oid string, v Value) error) error {
	cols := make([]*column, len(roots))
	for i, r := range roots {
		cols[i] = &column{i: i, root: r, next: r}
	}
	active := cols
	for len(active) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		group := active[:min(len(active), maxBulkColumns)]
		oids := make([]string, len(group))
		for j, cl := range group {
			oids[j] = cl.next
		}
		reps := c.reps.value()
		c.g.Context = ctx
		pkt, err := c.g.GetBulk(oids, 0, uint32(reps))
		if err != nil {
			if Reason(err) == ReasonTimeout && ctx.Err() == nil && c.reps.timedOut() {
				continue
			}
			return fmt.Errorf("getbulk from %s (max-repetitions %d): %w", c.target.Name, reps, err)
		}
		c.answers.Add(1)
		if pkt.Error == gosnmp.TooBig && c.reps.timedOut() {
			continue
		}
		if pkt.Error != gosnmp.NoError {
			return fmt.Errorf("getbulk from %s: agent returned %s (index %d)", c.target.Name, pkt.Error, pkt.ErrorIndex)
		}
		c.reps.succeeded()
		progressed := false
		for k, pdu := range pkt.Variables {
			cl := group[k%len(group)]
			if cl.done {
				continue
			}
			switch {
			case pdu.Type == gosnmp.EndOfMibView || pdu.Type == gosnmp.NoSuchObject || pdu.Type == gosnmp.NoSuchInstance,
				!strings.HasPrefix(pdu.Name, cl.root+"."):
				cl.done = true
				continue
			case compareOID(pdu.Name, cl.next) <= 0:
				// A buggy agent going backwards would loop for ever; end
				// this column and count the value as malformed.
				c.malformed.Add(1)
				cl.done = true
				continue
			}
			cl.next = pdu.Name
			progressed = true
			v, ok := FromPDU(pdu)
			if !ok {
				c.malformed.Add(1)
				continue
			}
			if err := fn(cl.i, pdu.Name, v); err != nil {
				return err
			}
		}
		if !progressed {
			// Nothing new for any column in the group: they are finished
			// (or the agent answered with nothing, which would loop).
			for _, cl := range group {
				cl.done = true
			}
		}
		active = active[:0:0]
		for _, cl := range cols {
			if !cl.done {
				active = append(active, cl)
			}
		}
	}
	return nil
}

// compareOID orders two numeric OIDs arc by arc (-1, 0, 1); a prefix sorts
// first. Arcs that do not parse compare as 0.
func compareOID(a, b string) int {
	pa := strings.Split(strings.TrimPrefix(a, "."), ".")
	pb := strings.Split(strings.TrimPrefix(b, "."), ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.ParseUint(pa[i], 10, 64)
		y, _ := strconv.ParseUint(pb[i], 10, 64)
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(pa) < len(pb):
		return -1
	case len(pa) > len(pb):
		return 1
	}
	return 0
}

// ErrPrivacy says that a device answers SNMPv3 requests authenticated with
// the configured user and passphrase but not encrypted ones: the privacy
// passphrase or protocol is wrong. net-snmp drops a PDU it cannot decrypt
// without a report, so without this check the failure looks like a dead
// device.
var ErrPrivacy = errors.New("the device authenticates the SNMPv3 user but drops its encrypted requests: wrong priv_passphrase or priv_protocol")

// explainTimeout is called after a poll of an SNMPv3 authPriv device timed
// out without any answer. It sends one authNoPriv GET of sysUpTime from a
// separate session: if the device answers it at all (net-snmp answers
// authorizationError when the user needs privacy), the device is up and the
// user and auth passphrase are right, so the timeout was the privacy
// settings, and it returns err joined with ErrPrivacy. Otherwise err as is.
func (c *Client) explainTimeout(ctx context.Context, err error) error {
	t := c.target
	if t.Version != V3 || t.SecurityLevel != AuthPriv || Reason(err) != ReasonTimeout {
		return err
	}
	probe := t
	probe.SecurityLevel, probe.PrivProtocol, probe.PrivPassphrase = AuthNoPriv, "", ""
	probe.Retries = -1
	pc, perr := NewClient(probe)
	if perr != nil {
		return err
	}
	defer pc.Close()
	ctx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	pc.g.Context = ctx
	if _, perr := pc.g.Get([]string{"." + "1.3.6.1.2.1.1.3.0"}); perr == nil {
		return fmt.Errorf("%w (%w)", ErrPrivacy, err)
	}
	return err
}
