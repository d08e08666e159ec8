// Package probe defines what every probe kind implements and the helpers they
// share.
//
// The contract:
//   - A probe is built once from its typed Config, then Run is called by the
//     scheduler under a deadline carried by ctx.
//   - When a target fails (timeout, refused, NXDOMAIN, bad status) the probe
//     returns points saying so, with ok=false and result=<Outcome>, and a nil
//     error: the absence of data is not evidence.
//   - An error is returned only when the probe could not measure at all (no
//     permission to open a socket, a bug). The scheduler counts it in the
//     agent measurement and logs it once.
//   - A probe never retries behind the scheduler's back.
package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/probity-edu/probity/internal/point"
)

// Probe measures something and returns points.
type Probe interface {
	Run(ctx context.Context) ([]point.Point, error)
}

// Deps are what a probe may need from its surroundings.
type Deps struct {
	Log *slog.Logger
	Now func() time.Time
	// Collector is the agent's own collector; nil before enrolment. Probes
	// that test against it (throughput, wan) use its URL and credential.
	Collector *Collector
}

// Collector is how a probe reaches the collector the agent ships to.
type Collector struct {
	URL    string       // base URL, without a trailing slash
	Token  string       // the agent credential, sent as "Authorization: Bearer"
	Client *http.Client // carries collector.ca_file and the TLS settings
}

// WithDefaults fills unset dependencies.
func (d Deps) WithDefaults() Deps {
	if d.Log == nil {
		d.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return d
}

// Outcome classifies the result of one measurement of one target.
type Outcome string

// Outcomes shared by all probe kinds.
const (
	OK          Outcome = "ok"
	Timeout     Outcome = "timeout"
	Refused     Outcome = "refused"
	DNSError    Outcome = "dns_error"
	TLSError    Outcome = "tls_error"
	HTTPStatus  Outcome = "http_status"
	Unreachable Outcome = "unreachable"
	Error       Outcome = "error"
)

// Classify maps a network error to an Outcome.
func Classify(err error) Outcome {
	if err == nil {
		return OK
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsTimeout {
			return DNSError // the name could not be resolved in time: still a DNS failure
		}
		return DNSError
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return Timeout
	}
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		return Timeout
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return Refused
	}
	if errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
		return Unreachable
	}
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var recErr tls.RecordHeaderError
	var alert tls.AlertError
	if errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) ||
		errors.As(err, &invalid) || errors.As(err, &recErr) || errors.As(err, &alert) {
		return TLSError
	}
	return Error
}

// Ms converts a duration to float milliseconds, the unit of every *_ms field.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
