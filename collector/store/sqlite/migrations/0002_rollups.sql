-- 0002: rollups that scoring reads on its own (see collector/rollup). The
-- buckets of 0001 had no ok classes, value counts or histograms, so they
-- are dropped; every hour that still has raw points is marked pending and
-- rebuilt by the next rollup. Hours already pruned lose their old buckets.

DROP TABLE rollups_hourly;

-- One row per site, measurement, field and series, so a bucket row carries
-- a small integer instead of its names and tags.
CREATE TABLE rollup_series (
	id          INTEGER PRIMARY KEY,
	site        TEXT NOT NULL,
	measurement TEXT NOT NULL,
	field       TEXT NOT NULL,
	series      TEXT NOT NULL, -- points.series: the series key without site and agent
	tags        TEXT NOT NULL, -- JSON object of the series' tags, without site and agent
	UNIQUE (site, measurement, field, series)
);

-- Buckets. sid is rollup_series.id (no foreign key: checking one on every
-- bucket would cost more than it protects). ok: 1 ok=true, 0 ok=false,
-- -1 the point had no bool ok field. kind: 1 number, 2 bool, 3 string.
-- min, max and sum are 0 for bools and strings. last is a REAL for
-- numbers and TEXT for bools ("true"/"false") and strings. dist is
-- rollup.AppendDist: exact values or histogram bins for numbers, value
-- counts otherwise. Scoring reads one series' buckets in a time range, so
-- the key leads with sid and start.
CREATE TABLE rollups_hourly (
	sid       INTEGER NOT NULL,
	start     INTEGER NOT NULL,
	ok        INTEGER NOT NULL,
	kind      INTEGER NOT NULL,
	count     INTEGER NOT NULL,
	min       REAL NOT NULL,
	max       REAL NOT NULL,
	sum       REAL NOT NULL,
	last,
	last_time INTEGER NOT NULL,
	dist      BLOB NOT NULL,
	PRIMARY KEY (sid, start, ok, kind)
) WITHOUT ROWID;

CREATE TABLE rollups_daily (
	sid       INTEGER NOT NULL,
	start     INTEGER NOT NULL,
	ok        INTEGER NOT NULL,
	kind      INTEGER NOT NULL,
	count     INTEGER NOT NULL,
	min       REAL NOT NULL,
	max       REAL NOT NULL,
	sum       REAL NOT NULL,
	last,
	last_time INTEGER NOT NULL,
	dist      BLOB NOT NULL,
	PRIMARY KEY (sid, start, ok, kind)
) WITHOUT ROWID;

-- Hours written since they were last rolled up (set by WriteBatch), and
-- series-days whose hourly buckets changed since their daily bucket was
-- built.
CREATE TABLE rollup_pending_hours (hour INTEGER PRIMARY KEY);
CREATE TABLE rollup_pending_days (
	sid INTEGER NOT NULL,
	day INTEGER NOT NULL,
	PRIMARY KEY (day, sid)
) WITHOUT ROWID;

-- raw: hours before it are sealed (their raw points were pruned after
-- rolling up); hourly: days before it have no hourly buckets left.
CREATE TABLE rollup_horizons (
	name TEXT PRIMARY KEY,
	at   INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO rollup_horizons(name, at) VALUES ('raw', 0), ('hourly', 0);

INSERT INTO rollup_pending_hours(hour)
	SELECT DISTINCT time - (time % 3600000000000) FROM points WHERE time >= 0;
