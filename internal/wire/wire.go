// Package wire is the agent↔collector protocol: paths, headers, the enrolment
// exchange and the answers to a write. Both sides import it; neither imports
// the other.
package wire

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Paths served by the collector.
const (
	WritePath  = "/api/v1/write"
	EnrolPath  = "/api/v1/enrol"
	SitesPath  = "/api/v1/sites"
	HealthPath = "/healthz"
	// WhoamiPath answers an agent with the address it connects from (see
	// Whoami); agents watch it to see the school change internet paths.
	WhoamiPath = "/api/v1/whoami"
	// SpeedtestDownloadPath streams incompressible bytes to an agent for
	// ?seconds=N (capped by the server); SpeedtestUploadPath takes a body of
	// any length and answers with a SpeedtestUpload. Both need the agent's
	// bearer credential, whether served by the collector or by
	// `probity-collector speedtest` at the network edge.
	SpeedtestDownloadPath = "/api/v1/speedtest/download"
	SpeedtestUploadPath   = "/api/v1/speedtest/upload"
)

// Whoami is the answer to GET WhoamiPath.
type Whoami struct {
	AgentID string `json:"agent_id"`
	SiteID  string `json:"site_id"`
	// Address is the public address the request came from: the TCP peer,
	// or X-Forwarded-For's client when the peer is a trusted proxy.
	Address string `json:"address"`
}

// SpeedtestUpload is the answer to an upload test: what the server
// received, as it counted it.
type SpeedtestUpload struct {
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"`
}

// Headers of a write request.
const (
	// HeaderBatchID carries the agent's id for one batch; the collector stores
	// a batch id once, so a retried batch is never written twice.
	HeaderBatchID = "X-Probity-Batch"
	// HeaderAgentVersion tells the collector which agent build sent the batch.
	HeaderAgentVersion = "X-Probity-Agent-Version"
	ContentType        = "text/plain; charset=utf-8"
)

// DefaultMaxBody is the largest write body (after decompression) the
// collector accepts unless configured otherwise.
const DefaultMaxBody = 16 << 20

// EnrolRequest exchanges a one-time enrolment token for an agent credential.
type EnrolRequest struct {
	Token    string `json:"token"`
	Hostname string `json:"hostname"`
	Version  string `json:"version"`
}

// EnrolResponse is the agent's permanent identity and secret.
type EnrolResponse struct {
	AgentID    string `json:"agent_id"`
	Site       string `json:"site"`
	SiteName   string `json:"site_name"`
	Credential string `json:"credential"`
}

// Write outcomes.
const (
	StatusStored    = "stored"
	StatusDuplicate = "duplicate"
)

// WriteResponse answers a write. On a rejected body Error says why and Line
// names the first bad line (1-based) where there is one.
type WriteResponse struct {
	Status string `json:"status,omitempty"`
	Batch  string `json:"batch,omitempty"`
	Points int    `json:"points"`
	Error  string `json:"error,omitempty"`
	Line   int    `json:"line,omitempty"`
}

// NewBatchID returns a random 128-bit id in hex.
func NewBatchID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("wire: no randomness: %v", err)) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b[:])
}

// ValidBatchID accepts 8 to 64 characters of [0-9A-Za-z_-].
func ValidBatchID(id string) bool {
	if len(id) < 8 || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ErrNoToken is returned by BearerToken when the header is missing or malformed.
var ErrNoToken = errors.New("wire: no bearer token")

// BearerToken extracts the token of an "Authorization: Bearer T" header.
// "Token T" is accepted too, as InfluxDB clients send it.
func BearerToken(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	for _, scheme := range []string{"Bearer ", "Token "} {
		if len(h) > len(scheme) && strings.EqualFold(h[:len(scheme)], scheme) {
			return strings.TrimSpace(h[len(scheme):]), nil
		}
	}
	return "", ErrNoToken
}
