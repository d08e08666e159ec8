-- 0001: the initial schema. Times are unix nanoseconds (INTEGER, UTC);
-- secrets are SHA-256 hex hashes (store.HashSecret), never the secret itself.

CREATE TABLE trusts (
	id      INTEGER PRIMARY KEY,
	name    TEXT NOT NULL UNIQUE,
	created INTEGER NOT NULL
);

CREATE TABLE sites (
	id       TEXT PRIMARY KEY,
	trust_id INTEGER NOT NULL REFERENCES trusts(id),
	name     TEXT NOT NULL,
	urn      TEXT NOT NULL DEFAULT '',
	phase    TEXT NOT NULL,
	created  INTEGER NOT NULL
);
-- A URN is optional, but two sites never share one.
CREATE UNIQUE INDEX sites_urn ON sites(urn) WHERE urn <> '';

CREATE TABLE agents (
	id        TEXT PRIMARY KEY,
	site_id   TEXT NOT NULL REFERENCES sites(id),
	hostname  TEXT NOT NULL DEFAULT '',
	version   TEXT NOT NULL DEFAULT '',
	cred_hash TEXT NOT NULL UNIQUE,
	created   INTEGER NOT NULL,
	last_seen INTEGER NOT NULL DEFAULT 0, -- 0: never written
	revoked   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX agents_site ON agents(site_id);

CREATE TABLE enrol_tokens (
	hash    TEXT PRIMARY KEY,
	site_id TEXT NOT NULL REFERENCES sites(id),
	expires INTEGER NOT NULL,
	used_at INTEGER -- NULL until consumed
);

-- Accepted batch ids, so a retried batch is stored once.
CREATE TABLE batches (
	id       TEXT PRIMARY KEY,
	agent_id TEXT NOT NULL REFERENCES agents(id),
	at       INTEGER NOT NULL,
	points   INTEGER NOT NULL
);
CREATE INDEX batches_at ON batches(at);

-- Raw points. series is point.SeriesKey without the site and agent tags;
-- tags is a JSON object of strings (all tags, site and agent included);
-- fields is a JSON object whose values keep their Go type: a number is a
-- float64, true/false a bool, a string a string, {"i":n} an int64 and
-- {"u":n} a uint64.
CREATE TABLE points (
	site        TEXT NOT NULL,
	agent       TEXT NOT NULL,
	measurement TEXT NOT NULL,
	series      TEXT NOT NULL,
	tags        TEXT NOT NULL,
	fields      TEXT NOT NULL,
	time        INTEGER NOT NULL
);
CREATE INDEX points_site_measurement_time ON points(site, measurement, time);
-- Rollup and Prune select by time alone.
CREATE INDEX points_time ON points(time);

CREATE TABLE rollups_hourly (
	site        TEXT NOT NULL,
	measurement TEXT NOT NULL,
	series      TEXT NOT NULL,
	field       TEXT NOT NULL,
	hour        INTEGER NOT NULL, -- hour start
	count       INTEGER NOT NULL,
	min         REAL NOT NULL,
	max         REAL NOT NULL,
	sum         REAL NOT NULL,
	PRIMARY KEY (site, measurement, series, field, hour)
) WITHOUT ROWID;
CREATE INDEX rollups_hourly_hour ON rollups_hourly(hour);
-- Scoring reads one field of every series of a measurement.
CREATE INDEX rollups_hourly_field ON rollups_hourly(site, measurement, field, hour);

-- Running totals for Stats, kept in the writing transactions so /metrics
-- never counts millions of rows.
CREATE TABLE counters (
	name TEXT PRIMARY KEY,
	n    INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters(name, n) VALUES ('points', 0), ('batches', 0);

CREATE TABLE verdicts (
	site         TEXT NOT NULL REFERENCES sites(id),
	req_id       TEXT NOT NULL,
	state        TEXT NOT NULL,
	summary      TEXT NOT NULL,
	evidence     BLOB,
	catalogue    TEXT NOT NULL,
	evaluated_at INTEGER NOT NULL,
	PRIMARY KEY (site, req_id)
) WITHOUT ROWID;

CREATE TABLE verdict_history (
	id           INTEGER PRIMARY KEY,
	site         TEXT NOT NULL REFERENCES sites(id),
	req_id       TEXT NOT NULL,
	state        TEXT NOT NULL,
	summary      TEXT NOT NULL,
	evidence     BLOB,
	catalogue    TEXT NOT NULL,
	evaluated_at INTEGER NOT NULL
);
CREATE INDEX verdict_history_site_req ON verdict_history(site, req_id, evaluated_at);

CREATE TABLE attestations (
	id      INTEGER PRIMARY KEY,
	site    TEXT NOT NULL REFERENCES sites(id),
	req_id  TEXT NOT NULL,
	by_name TEXT NOT NULL,
	note    TEXT NOT NULL DEFAULT '',
	link    TEXT NOT NULL DEFAULT '',
	at      INTEGER NOT NULL,
	expires INTEGER NOT NULL
);
CREATE INDEX attestations_site_at ON attestations(site, at);
