-- 0011: a rollup series is a series (site, measurement, series key), no
-- longer each of its fields: a bucket row names its field instead. A
-- school's full SNMP mix had about 13,200 rollup series, 12,480 of them
-- from 960 ports' 13 fields, and an hour's first rollup of a new school
-- made them all in the one writer; now it makes about 1,100.
CREATE TABLE rollup_series_v11 (
	id          INTEGER PRIMARY KEY,
	site        TEXT NOT NULL,
	measurement TEXT NOT NULL,
	series      TEXT NOT NULL, -- points.series: the series key without site and agent
	tags        TEXT NOT NULL, -- JSON object of the series' tags, without site and agent
	UNIQUE (site, measurement, series)
);
INSERT INTO rollup_series_v11(site, measurement, series, tags)
	SELECT site, measurement, series, MIN(tags) FROM rollup_series
	GROUP BY site, measurement, series ORDER BY site, measurement, series;

-- Old series id to new.
CREATE TEMP TABLE rollup_sid_v11 AS
	SELECT o.id AS old, n.id AS new FROM rollup_series o
	JOIN rollup_series_v11 n ON n.site = o.site AND n.measurement = o.measurement AND n.series = o.series;

-- A series' buckets of one hour (or day) lie together, whatever the field:
-- the day's rebuild reads them by (sid, start), and a query for one field
-- passes over the others' rows on the same pages.
CREATE TABLE rollups_hourly_v11 (
	sid       INTEGER NOT NULL,
	start     INTEGER NOT NULL,
	field     TEXT NOT NULL,
	ok        INTEGER NOT NULL,
	kind      INTEGER NOT NULL,
	count     INTEGER NOT NULL,
	min       REAL NOT NULL,
	max       REAL NOT NULL,
	sum       REAL NOT NULL,
	last,
	last_time INTEGER NOT NULL,
	dist      BLOB NOT NULL,
	PRIMARY KEY (sid, start, field, ok, kind)
) WITHOUT ROWID;
CREATE TABLE rollups_daily_v11 (
	sid       INTEGER NOT NULL,
	start     INTEGER NOT NULL,
	field     TEXT NOT NULL,
	ok        INTEGER NOT NULL,
	kind      INTEGER NOT NULL,
	count     INTEGER NOT NULL,
	min       REAL NOT NULL,
	max       REAL NOT NULL,
	sum       REAL NOT NULL,
	last,
	last_time INTEGER NOT NULL,
	dist      BLOB NOT NULL,
	PRIMARY KEY (sid, start, field, ok, kind)
) WITHOUT ROWID;

INSERT INTO rollups_hourly_v11(sid, start, field, ok, kind, count, min, max, sum, last, last_time, dist)
	SELECT m.new, b.start, o.field, b.ok, b.kind, b.count, b.min, b.max, b.sum, b.last, b.last_time, b.dist
	FROM rollups_hourly b JOIN rollup_sid_v11 m ON m.old = b.sid JOIN rollup_series o ON o.id = b.sid
	ORDER BY m.new, b.start, o.field, b.ok, b.kind;
INSERT INTO rollups_daily_v11(sid, start, field, ok, kind, count, min, max, sum, last, last_time, dist)
	SELECT m.new, b.start, o.field, b.ok, b.kind, b.count, b.min, b.max, b.sum, b.last, b.last_time, b.dist
	FROM rollups_daily b JOIN rollup_sid_v11 m ON m.old = b.sid JOIN rollup_series o ON o.id = b.sid
	ORDER BY m.new, b.start, o.field, b.ok, b.kind;

CREATE TABLE rollup_pending_days_v11 (
	sid INTEGER NOT NULL,
	day INTEGER NOT NULL,
	PRIMARY KEY (day, sid)
) WITHOUT ROWID;
INSERT OR IGNORE INTO rollup_pending_days_v11(sid, day)
	SELECT m.new, p.day FROM rollup_pending_days p JOIN rollup_sid_v11 m ON m.old = p.sid;

DROP TABLE rollup_sid_v11;
DROP TABLE rollups_hourly;
DROP TABLE rollups_daily;
DROP TABLE rollup_pending_days;
DROP TABLE rollup_series;
ALTER TABLE rollup_series_v11 RENAME TO rollup_series;
ALTER TABLE rollups_hourly_v11 RENAME TO rollups_hourly;
ALTER TABLE rollups_daily_v11 RENAME TO rollups_daily;
ALTER TABLE rollup_pending_days_v11 RENAME TO rollup_pending_days;
