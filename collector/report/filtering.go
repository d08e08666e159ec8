package report

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
)

// FilterWindow is how far back the report's filtering log reaches: the
// window the filtering rules judge.
const FilterWindow = 24 * time.Hour

// FilterCheck is the latest check of one target as one profile.
type FilterCheck struct {
	Profile   string    `json:"profile"`
	Suite     string    `json:"suite"`
	Category  string    `json:"category"`
	Kind      string    `json:"kind"`
	Target    string    `json:"target"`
	URL       string    `json:"url,omitempty"`
	Expect    string    `json:"expect"`
	Outcome   string    `json:"outcome"`
	Mechanism string    `json:"mechanism,omitempty"`
	Detail    string    `json:"detail,omitempty"`
	Error     string    `json:"error,omitempty"`
	At        time.Time `json:"at"`
	Agent     string    `json:"agent"` // host name when known, else the agent id
}

// SafeSearchCheck is the latest SafeSearch check of one engine host as one
// profile.
type SafeSearchCheck struct {
	Profile  string    `json:"profile"`
	Engine   string    `json:"engine"`
	Target   string    `json:"target"`
	Host     string    `json:"host"`
	Enforced bool      `json:"enforced"`
	Method   string    `json:"method"`
	Level    string    `json:"level,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	Error    string    `json:"error,omitempty"`
	At       time.Time `json:"at"`
	Agent    string    `json:"agent"`
}

// Filtering is the log of filtering checks behind FM-6 to FM-16: who ran
// them, when, and every target whose latest check was not as expected,
// with how it was blocked or let through.
type Filtering struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Checks   int       `json:"checks"` // filter and safesearch points in the window
	Latest   time.Time `json:"latest"`
	Profiles []string  `json:"profiles"`
	Agents   []string  `json:"agents"`
	// Unexpected: a must-block target that loaded, an allow-list site that
	// was blocked; Errors: the latest check could not tell.
	Unexpected []FilterCheck     `json:"unexpected"`
	Errors     []FilterCheck     `json:"errors"`
	Targets    int               `json:"targets"` // profile and target pairs checked
	SafeSearch []SafeSearchCheck `json:"safesearch_not_enforced"`
	Engines    int               `json:"safesearch_checked"` // profile and engine host pairs checked
}

// pointSource reads raw points; the store implements it.
type pointSource interface {
	Points(ctx context.Context, q store.PointQuery) ([]point.Point, error)
}

// buildFiltering reads the last FilterWindow of filter and safesearch
// points; nil when there are none.
func buildFiltering(ctx context.Context, src pointSource, siteID string, agents map[string]string, now time.Time) (*Filtering, error) {
	from := now.Add(-FilterWindow)
	fps, err := src.Points(ctx, store.PointQuery{Site: siteID, Measurement: "filter", From: from, To: now})
	if err != nil {
		return nil, fmt.Errorf("filter points: %w", err)
	}
	sps, err := src.Points(ctx, store.PointQuery{Site: siteID, Measurement: "safesearch", From: from, To: now})
	if err != nil {
		return nil, fmt.Errorf("safesearch points: %w", err)
	}
	if len(fps)+len(sps) == 0 {
		return nil, nil
	}
	f := &Filtering{From: from.UTC(), To: now.UTC(), Checks: len(fps) + len(sps), Unexpected: []FilterCheck{}, Errors: []FilterCheck{}, SafeSearch: []SafeSearchCheck{}}
	profiles, agentSet := map[string]bool{}, map[string]bool{}
	agentName := func(id string) string {
		if h := agents[id]; h != "" {
			return h
		}
		return id
	}
	latest := map[string]point.Point{}
	for _, p := range fps {
		k := p.Tags["profile"] + "\x00" + p.Tags["suite"] + "\x00" + p.Tags["target"]
		if prev, ok := latest[k]; !ok || p.Time.After(prev.Time) {
			latest[k] = p
		}
	}
	for _, p := range fps {
		profiles[p.Tags["profile"]] = true
		agentSet[agentName(p.Tags[store.TagAgent])] = true
		if p.Time.After(f.Latest) {
			f.Latest = p.Time.UTC()
		}
	}
	f.Targets = len(latest)
	for _, k := range slices.Sorted(maps.Keys(latest)) {
		p := latest[k]
		c := FilterCheck{
			Profile: p.Tags["profile"], Suite: p.Tags["suite"], Category: p.Tags["category"], Kind: p.Tags["kind"],
			Target: p.Tags["target"], Expect: p.Tags["expect"], URL: str(p, "url"), Outcome: str(p, "outcome"),
			Mechanism: str(p, "mechanism"), Detail: str(p, "detail"), Error: str(p, "error"),
			At: p.Time.UTC(), Agent: agentName(p.Tags[store.TagAgent]),
		}
		switch {
		case p.Fields["ok"] != true:
			f.Errors = append(f.Errors, c)
		case p.Fields["pass"] != true:
			f.Unexpected = append(f.Unexpected, c)
		}
	}
	// Must-block failures first: they are the safeguarding risk.
	slices.SortStableFunc(f.Unexpected, func(a, b FilterCheck) int { return cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)) })

	latestSS := map[string]point.Point{}
	for _, p := range sps {
		profiles[p.Tags["profile"]] = true
		agentSet[agentName(p.Tags[store.TagAgent])] = true
		if p.Time.After(f.Latest) {
			f.Latest = p.Time.UTC()
		}
		k := p.Tags["profile"] + "\x00" + p.Tags["target"]
		if prev, ok := latestSS[k]; !ok || p.Time.After(prev.Time) {
			latestSS[k] = p
		}
	}
	f.Engines = len(latestSS)
	for _, k := range slices.Sorted(maps.Keys(latestSS)) {
		p := latestSS[k]
		if p.Fields["enforced"] == true {
			continue
		}
		f.SafeSearch = append(f.SafeSearch, SafeSearchCheck{
			Profile: p.Tags["profile"], Engine: p.Tags["engine"], Target: p.Tags["target"], Host: p.Tags["host"],
			Method: str(p, "method"), Level: str(p, "level"), Detail: str(p, "detail"), Error: str(p, "error"),
			At: p.Time.UTC(), Agent: agentName(p.Tags[store.TagAgent]),
		})
	}
	f.Profiles = slices.Sorted(maps.Keys(profiles))
	f.Agents = slices.Sorted(maps.Keys(agentSet))
	return f, nil
}

func str(p point.Point, field string) string {
	s, _ := p.Fields[field].(string)
	return s
}

func kindOrder(kind string) int {
	switch kind {
	case "must_block":
		return 0
	case "circumvention":
		return 1
	}
	return 2
}

// mechanismWords says how a check was blocked, for governors.
func mechanismWords(mechanism string) string {
	switch mechanism {
	case "":
		return "loaded normally"
	case "dns_nxdomain":
		return "DNS said the name does not exist"
	case "dns_sinkhole":
		return "DNS answered a block address"
	case "tcp_reset":
		return "connection refused or reset"
	case "timeout":
		return "no answer in time"
	case "tls_intercept":
		return "block page behind HTTPS inspection"
	case "http_blockpage":
		return "filter's block page"
	case "http_status":
		return "refused by HTTP status"
	}
	return mechanism
}
