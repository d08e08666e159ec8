-- 0006: people who sign in to the web UI, and their sessions.

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL UNIQUE,
	role          TEXT NOT NULL,                   -- store.RoleTrustAdmin or store.RoleSchoolViewer
	trust_id      INTEGER NOT NULL DEFAULT 0,      -- trust admins: 0 means every trust
	site_id       TEXT NOT NULL DEFAULT '',        -- school viewers: their school
	password_hash TEXT NOT NULL,                   -- PHC string, argon2id
	created       INTEGER NOT NULL,
	disabled      INTEGER NOT NULL DEFAULT 0       -- 0: active, else when disabled
);

CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,                   -- store.HashSecret of the cookie value
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	csrf       TEXT NOT NULL,
	created    INTEGER NOT NULL,
	expires    INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires);
