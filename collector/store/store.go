// Package store defines what the collector keeps and the interface every
// storage engine implements (SQLite by default, see store/sqlite). Records
// here are storage shapes; scoring and reporting have their own types.
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/probity-edu/probity/internal/point"
)

// Sentinel errors, checked with errors.Is.
var (
	ErrNotFound = errors.New("store: not found")
	ErrExists   = errors.New("store: already exists")
	// ErrTokenInvalid covers unknown, used and expired enrolment tokens alike,
	// so a caller cannot probe which tokens exist.
	ErrTokenInvalid = errors.New("store: enrolment token invalid, used or expired")
)

// Tags the collector sets on every point from the agent's credential; a
// value in the body is overwritten, so an agent cannot write into another
// school.
const (
	TagSite  = "site"
	TagAgent = "agent"
)

// Phases a site (school) can be in; thresholds such as broadband speed depend on it.
var Phases = []string{"primary", "secondary", "all-through", "special", "fe"}

// Trust owns sites. A single school is a trust of one.
type Trust struct {
	ID      int64
	Name    string
	Created time.Time
}

// Site is one school.
type Site struct {
	ID      string // short slug, unique, used in URLs and as the site tag
	TrustID int64
	Name    string
	URN     string // DfE unique reference number, optional
	Phase   string // one of Phases
	Created time.Time
}

// Agent is one enrolled probity-agent.
type Agent struct {
	ID       string
	SiteID   string
	Hostname string
	Version  string
	Created  time.Time
	LastSeen time.Time // zero until the first write
	Revoked  bool
	// LastAddress is the public address the agent last connected from, as
	// the collector saw it (the TCP peer, or the client a trusted proxy
	// forwarded), and LastSeenAddressAt when; empty and zero until then.
	// A change tells of the school switching internet paths.
	LastAddress       string
	LastSeenAddressAt time.Time
}

// Batch is one accepted write: every point already carries the site and
// agent tags set from the credential. Its points come as Rows, decoded by
// ingest straight into the stores' encoding, or as Points, which the store
// encodes; Rows wins when both are set.
type Batch struct {
	ID     string
	Agent  Agent
	Points []point.Point
	Rows   *Rows
	// Address, when set, is recorded as the agent's LastAddress at the
	// time of the write (in the same transaction).
	Address string
}

// Len is the number of points in the batch.
func (b Batch) Len() int {
	if b.Rows != nil {
		return len(b.Rows.Rows)
	}
	return len(b.Points)
}

// Rows are points encoded as the stores keep them (package rowcodec writes
// them): all their bytes in one buffer, a few allocations a batch rather
// than a few a point.
type Rows struct {
	Buf  []byte
	Rows []Row
}

// Row is one point of Rows. Its series key (measurement and sorted tags,
// less the site and agent tags, which are columns of their own) is
// Buf[Series:Tags], its tags as a JSON object Buf[Tags:Fields] and its
// fields as a JSON object Buf[Fields:End].
type Row struct {
	Measurement               string
	NS                        int64 // time, in nanoseconds since 1970
	Series, Tags, Fields, End int
}

// SeriesKey is row i's series key.
func (r *Rows) SeriesKey(i int) []byte { x := r.Rows[i]; return r.Buf[x.Series:x.Tags] }

// TagsJSON is row i's tags.
func (r *Rows) TagsJSON(i int) []byte { x := r.Rows[i]; return r.Buf[x.Tags:x.Fields] }

// FieldsJSON is row i's fields.
func (r *Rows) FieldsJSON(i int) []byte { x := r.Rows[i]; return r.Buf[x.Fields:x.End] }

// PointQuery selects raw points of one site and measurement in [From, To).
// Tags, when set, must all match.
type PointQuery struct {
	Site        string
	Measurement string
	Tags        map[string]string
	From, To    time.Time
}

// Stats are counters for /metrics.
type Stats struct {
	Points  int64
	Batches int64
	Sites   int64
	Agents  int64
}

// Store is everything the collector persists.
type Store interface {
	// Identity.
	CreateTrust(ctx context.Context, name string) (Trust, error)
	Trusts(ctx context.Context) ([]Trust, error)
	TrustByName(ctx context.Context, name string) (Trust, error)
	CreateSite(ctx context.Context, s Site) (Site, error)
	Sites(ctx context.Context) ([]Site, error)
	Site(ctx context.Context, id string) (Site, error) // by id or by URN

	// Enrolment. Tokens and credentials are stored as hashes only; the
	// caller hashes (see HashSecret).
	CreateEnrolToken(ctx context.Context, siteID, tokenHash string, expires time.Time) error
	// ConsumeEnrolToken atomically marks the token used and creates the agent
	// with credHash as its credential. Unknown, used or expired: ErrTokenInvalid.
	ConsumeEnrolToken(ctx context.Context, tokenHash string, a Agent, credHash string, now time.Time) (Agent, error)
	AgentByCredential(ctx context.Context, credHash string) (Agent, error)
	Agents(ctx context.Context, siteID string) ([]Agent, error)
	RevokeAgent(ctx context.Context, id string) error
	// SetAgentAddress records the public address an agent was seen
	// connecting from at a time; an unknown agent is ErrNotFound.
	SetAgentAddress(ctx context.Context, agentID, addr string, at time.Time) error

	// Ingest. WriteBatch stores a batch id and its points in one transaction;
	// a batch id seen before returns dup=true and writes nothing. It also
	// sets the agent's LastSeen and Version, and its LastAddress when the
	// batch carries an Address.
	WriteBatch(ctx context.Context, b Batch, now time.Time) (dup bool, err error)
	Points(ctx context.Context, q PointQuery) ([]point.Point, error)

	RollupStore
	EvidenceStore
	UserStore

	Stats(ctx context.Context) (Stats, error)
	Close() error
}

// HashSecret is how tokens and credentials are stored: SHA-256, hex. They are
// random 256-bit values, so a slow password hash would add nothing.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
