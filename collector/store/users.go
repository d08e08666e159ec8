package store

import (
	"context"
	"time"
)

// Roles a person can have in the web UI and the read API.
const (
	// RoleTrustAdmin reads, attests and reviews every school of its
	// TrustID; TrustID 0 means every trust (the collector's operator).
	RoleTrustAdmin = "trust_admin"
	// RoleSchoolViewer reads one school, SiteID, and changes nothing: a
	// governor or a headteacher.
	RoleSchoolViewer = "school_viewer"
)

// Roles lists every role, for validation and help texts.
var Roles = []string{RoleTrustAdmin, RoleSchoolViewer}

// User is a person who signs in to the web UI.
type User struct {
	ID      int64
	Name    string // unique, what they sign in with
	Role    string // one of Roles
	TrustID int64  // RoleTrustAdmin: their trust, 0 for all
	SiteID  string // RoleSchoolViewer: their school
	// PasswordHash is a PHC string (see collector/web's password
	// hashing); the store never sees a password.
	PasswordHash string
	CreatedAt    time.Time
	Disabled     bool
}

// Session is one signed-in browser. Like other secrets the token is
// stored as HashSecret only.
type Session struct {
	TokenHash string
	UserID    int64
	CSRF      string // random, sent back in every form
	Created   time.Time
	Expires   time.Time // the hard limit, whatever the activity
	LastSeen  time.Time // for the idle limit
}

// UserStore keeps users and their sessions.
type UserStore interface {
	// CreateUser stores u and returns it with its ID and CreatedAt (zero
	// means now); a name already taken is ErrExists.
	CreateUser(ctx context.Context, u User) (User, error)
	// UserByName and UserByID find a user, disabled ones too, else
	// ErrNotFound.
	UserByName(ctx context.Context, name string) (User, error)
	UserByID(ctx context.Context, id int64) (User, error)
	Users(ctx context.Context) ([]User, error) // by name
	// SetUserPassword replaces the hash and ends the user's sessions.
	SetUserPassword(ctx context.Context, name, hash string) error
	// DisableUser marks the user disabled and ends their sessions; a
	// disabled user stays listed (names appear in provenance).
	DisableUser(ctx context.Context, name string) error

	// CreateSession stores s; Session finds one by token hash, expired
	// ones too (the caller judges expiry), else ErrNotFound.
	CreateSession(ctx context.Context, s Session) error
	Session(ctx context.Context, tokenHash string) (Session, error)
	// TouchSession sets LastSeen; an unknown session is ErrNotFound.
	TouchSession(ctx context.Context, tokenHash string, at time.Time) error
	DeleteSession(ctx context.Context, tokenHash string) error // unknown: no error
	// PruneSessions deletes the sessions whose Expires is not after now
	// and returns how many.
	PruneSessions(ctx context.Context, now time.Time) (int64, error)
}
