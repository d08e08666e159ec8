package score

import (
	"time"

	"github.com/probity-edu/probity/collector/standards"
)

// expiry is when an attestation stops counting.
func expiry(a Attestation, req standards.Requirement) time.Time {
	if !a.Expires.IsZero() {
		return a.Expires
	}
	return req.AttestationExpiry(a.At)
}

// pickAttestation returns the latest unexpired attestation of req at now
// and, when there is none, the latest expired one. Expires is filled in.
func pickAttestation(req standards.Requirement, atts []Attestation, now time.Time) (valid, expired *Attestation) {
	for _, a := range atts {
		if a.ReqID != req.ID || a.At.After(now) {
			continue
		}
		a.Expires = expiry(a, req)
		if now.Before(a.Expires) {
			if valid == nil || a.At.After(valid.At) {
				valid = ptr(a)
			}
		} else if expired == nil || a.At.After(expired.At) {
			expired = ptr(a)
		}
	}
	if valid != nil {
		expired = nil
	}
	return valid, expired
}
