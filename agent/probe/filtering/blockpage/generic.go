package blockpage

import (
	"bytes"
	"net/netip"
	"regexp"
)

// The generic rule's limits. Block pages are short: a heading, a reason, a
// category, perhaps a form to ask for the site. An ordinary page that
// mentions blocking (a plumber's "blocked drains") has far more text.
const (
	maxGenericBody = 64 << 10 // raw bytes, styles and scripts included
	maxGenericText = 1500     // visible characters
)

// strong phrases say a filter stopped the request; weak words are common
// on block pages but also elsewhere. A page needs a strong phrase and
// enough support to count.
var (
	strongPhrases = []string{
		"access denied", "access to this site is blocked", "this site has been blocked",
		"this page has been blocked", "website blocked", "web page blocked", "site blocked",
		"has been blocked", "is blocked", "been deemed inappropriate", "web filter",
		"content filter", "internet filter", "blocked by",
	}
	weakWords = []string{
		"blocked", "category", "policy", "administrator", "filter", "denied",
		"acceptable use", "inappropriate", "request access", "unblock",
	}
	tags   = regexp.MustCompile(`(?s)<script.*?</script>|<style.*?</style>|<[^>]*>`)
	spaces = regexp.MustCompile(`\s+`)
)

// Generic reports whether a response looks like some filter's block page:
// a redirect to a host on a private, loopback or link-local address, or a
// short page with a strong blocking phrase and at least two further
// signals. It errs towards "no": a miss is reported as the site being
// reachable, which the probe cross-checks, while a false "blocked" on an
// allow-list site would be a wrong over-blocking finding.
func Generic(status int, body []byte, redirectHost string) bool {
	if redirectHost != "" {
		if a, err := netip.ParseAddr(redirectHost); err == nil {
			a = a.Unmap()
			if a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() {
				return true
			}
		}
	}
	if len(body) == 0 || len(body) > maxGenericBody {
		return false
	}
	text := bytes.ToLower(spaces.ReplaceAll(tags.ReplaceAll(body, []byte(" ")), []byte(" ")))
	text = bytes.TrimSpace(text)
	if len(text) > maxGenericText {
		return false
	}
	strong, score := 0, 0
	for _, p := range strongPhrases {
		if bytes.Contains(text, []byte(p)) {
			strong++
			score++
		}
	}
	if strong == 0 {
		return false
	}
	for _, w := range weakWords {
		if bytes.Contains(text, []byte(w)) {
			score++
		}
	}
	if status == 403 || status == 451 {
		score++
	}
	return score >= 4
}
