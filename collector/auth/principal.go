// Package auth says who is asking and what they may see: argon2id
// passwords, sign-in sessions (a cookie) and admin bearer tokens resolved
// to a Principal, and the one set of rules, on Principal, for which
// schools and trusts a principal may read or act on. The web UI
// (collector/web) and the read API (collector/api) both ask here, so the
// two cannot drift apart.
package auth

import (
	"context"

	"github.com/probity-edu/probity/collector/store"
)

// Principal is whoever made a request: a signed-in user, an admin token,
// or nobody (the zero value).
type Principal struct {
	User    *store.User
	Session *store.Session // the user's session; nil for an admin token
	Admin   *store.AdminToken
}

// Authenticated reports whether anyone is signed in.
func (p Principal) Authenticated() bool { return p.User != nil || p.Admin != nil }

// Name says who, for logs and provenance: "web:<user>" for a person,
// "admin token <name>" for a token, "" for nobody.
func (p Principal) Name() string {
	switch {
	case p.Admin != nil:
		return "admin token " + p.Admin.Name
	case p.User != nil:
		return "web:" + p.User.Name
	}
	return ""
}

// allTrusts reports whether p sees every trust: an admin token or the
// operator (a trust admin of trust 0).
func (p Principal) allTrusts() bool {
	return p.Admin != nil || (p.User != nil && p.User.Role == store.RoleTrustAdmin && p.User.TrustID == 0)
}

// CanRead reports whether p may read site's verdicts, reports,
// attestations and review.
func (p Principal) CanRead(site store.Site) bool {
	switch {
	case p.allTrusts():
		return true
	case p.User == nil || p.User.Disabled:
		return false
	case p.User.Role == store.RoleTrustAdmin:
		return site.TrustID == p.User.TrustID
	case p.User.Role == store.RoleSchoolViewer:
		return site.ID == p.User.SiteID
	}
	return false
}

// CanAct reports whether p may change site's evidence: record
// attestations and review findings. School viewers never may.
func (p Principal) CanAct(site store.Site) bool {
	if p.Admin != nil {
		return true
	}
	return p.User != nil && p.User.Role == store.RoleTrustAdmin && p.CanRead(site)
}

// CanReadTrust reports whether p may read a trust's summary, which sums
// every school of it up: trust admins of it and the operator.
func (p Principal) CanReadTrust(trustID int64) bool {
	if p.allTrusts() {
		return true
	}
	return p.User != nil && !p.User.Disabled && p.User.Role == store.RoleTrustAdmin && p.User.TrustID == trustID
}

// TrustScope is the trust whose schools p sees: 0 for every trust (an
// admin token or the operator), else the user's trust; ok is false for a
// school viewer, who sees one school and no trust.
func (p Principal) TrustScope() (trustID int64, ok bool) {
	switch {
	case p.allTrusts():
		return 0, true
	case p.User != nil && p.User.Role == store.RoleTrustAdmin:
		return p.User.TrustID, true
	}
	return 0, false
}

// Visible keeps the sites p may read, in order.
func (p Principal) Visible(sites []store.Site) []store.Site {
	out := make([]store.Site, 0, len(sites))
	for _, s := range sites {
		if p.CanRead(s) {
			out = append(out, s)
		}
	}
	return out
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p, so a handler behind a middleware
// that resolved it does not look it up again.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal WithPrincipal stored, if any.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}
