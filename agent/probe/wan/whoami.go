package wan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/probity-edu/probity/internal/wire"
)

// whoamiResult is the collector's answer, or why there is none.
type whoamiResult struct {
	address string
	at      time.Time // when the answer arrived
	err     error
}

// startWhoami asks the collector in the background; the answer comes on
// the returned channel, which always receives exactly once.
func (p *Prober) startWhoami(ctx context.Context) chan whoamiResult {
	ch := make(chan whoamiResult, 1)
	go func() {
		addr, err := p.whoami(ctx)
		ch <- whoamiResult{address: addr, at: p.now(), err: err}
	}()
	return ch
}

// whoami asks the collector which address this agent connects from.
func (p *Prober) whoami(ctx context.Context) (string, error) {
	if p.coll == nil {
		return "", errors.New("not enrolled: no collector to ask")
	}
	ctx, cancel := context.WithTimeout(ctx, p.whoamiWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.coll.URL+wire.WhoamiPath, nil)
	if err != nil {
		return "", fmt.Errorf("whoami: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+p.coll.Token)
	resp, err := p.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("whoami: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("whoami: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("whoami: collector answered HTTP %d", resp.StatusCode)
	}
	var w wire.Whoami
	if err := json.Unmarshal(body, &w); err != nil {
		return "", fmt.Errorf("whoami: decoding the answer: %w", err)
	}
	if w.Address == "" {
		return "", errors.New("whoami: the answer has no address")
	}
	return w.Address, nil
}

// freshConnections copies the collector client so that every request opens
// a new connection: after a failover an idle keep-alive connection still
// runs over the old path (or is dead and hangs until the timeout), and the
// collector would report the address it was opened from.
func freshConnections(c *http.Client) *http.Client {
	if c == nil {
		c = http.DefaultClient
	}
	cc := *c
	var tr *http.Transport
	switch t := c.Transport.(type) {
	case nil:
		tr = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		tr = t.Clone()
	default:
		// A transport we cannot reconfigure: use it as it is.
		return &cc
	}
	tr.DisableKeepAlives = true
	cc.Transport = tr
	return &cc
}
