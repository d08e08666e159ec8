package snmp

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/gosnmp/gosnmp"
)

// Reasons a poll failed, as Reason returns them.
const (
	ReasonTimeout = "timeout" // no answer in time
	ReasonAuth    = "auth"    // SNMPv3 credentials refused
	ReasonRefused = "refused" // ICMP port unreachable: nothing listens on the port
	ReasonError   = "error"   // anything else
)

// authErrors are what gosnmp v1.47.0 returns for SNMPv3 report PDUs it
// recognises. Against net-snmp 5.9's snmpd (see the integration tests), a
// wrong auth passphrase, a wrong auth protocol and an unknown user all come
// back as gosnmp's unwrapped "incoming packet is not authentic, discarding"
// (the report fails gosnmp's own digest check before it is read), matched by
// text below; a wrong privacy passphrase is silently dropped by the agent
// and so is a timeout, which Poller turns into ErrPrivacy by checking that
// the device answers authNoPriv. Other agents send usmStatsWrongDigests,
// usmStatsUnknownUserNames or usmStatsDecryptionErrors, i.e. the errors
// below.
var authErrors = []error{
	gosnmp.ErrWrongDigest, gosnmp.ErrUnknownUsername, gosnmp.ErrDecryption,
	gosnmp.ErrUnknownSecurityLevel, gosnmp.ErrUnknownSecurityModels, ErrPrivacy,
}

// Reason classifies a poll error as timeout, auth, refused or error ("" for
// nil). A wrong SNMPv2c community is indistinguishable from a dead device:
// agents drop such requests without a reply (RFC 3584), so it is a timeout.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	for _, e := range authErrors {
		if errors.Is(err, e) {
			return ReasonAuth
		}
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return ReasonRefused
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, gosnmp.ErrMaxRetriesExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return ReasonTimeout
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "not authentic"):
		// gosnmp's "incoming packet is not authentic, discarding" is an
		// unwrapped fmt error: the agent's reply failed our digest check.
		return ReasonAuth
	case strings.Contains(msg, "timeout"):
		return ReasonTimeout
	}
	return ReasonError
}
