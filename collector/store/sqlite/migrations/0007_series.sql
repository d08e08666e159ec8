-- 0007: a point row no longer repeats its site, agent, measurement, series
-- key and tags. Each series is stored once in series, each site's
-- measurement once in streams, and a point keeps their ids, its time and
-- its fields: about a third of the bytes a point took, and two small integer
-- keys for the writer to index instead of long strings.

-- A site's measurement: points(gid, time) is the report queries' index.
CREATE TABLE streams (
	id          INTEGER PRIMARY KEY,
	site        TEXT NOT NULL,
	measurement TEXT NOT NULL,
	UNIQUE (site, measurement)
);

-- series is point.SeriesKey without the site and agent tags; tags is the
-- JSON object of all the point's tags, site and agent included.
CREATE TABLE series (
	id          INTEGER PRIMARY KEY,
	site        TEXT NOT NULL,
	agent       TEXT NOT NULL,
	measurement TEXT NOT NULL,
	series      TEXT NOT NULL,
	tags        TEXT NOT NULL,
	UNIQUE (site, agent, series)
);

INSERT INTO streams(site, measurement)
	SELECT DISTINCT site, measurement FROM points ORDER BY site, measurement;
INSERT INTO series(site, agent, measurement, series, tags)
	SELECT site, agent, measurement, series, MIN(tags) FROM points GROUP BY site, agent, series ORDER BY site, agent, series;

-- gid is streams.id and sid series.id (no foreign keys: checking them on
-- every point would cost more than they protect; neither is ever deleted).
CREATE TABLE points_v7 (
	gid    INTEGER NOT NULL,
	sid    INTEGER NOT NULL,
	time   INTEGER NOT NULL,
	fields TEXT NOT NULL
);
INSERT INTO points_v7(gid, sid, time, fields)
	SELECT st.id, se.id, p.time, p.fields FROM points p
	JOIN streams st ON st.site = p.site AND st.measurement = p.measurement
	JOIN series se ON se.site = p.site AND se.agent = p.agent AND se.series = p.series
	ORDER BY p.rowid;
DROP TABLE points;
ALTER TABLE points_v7 RENAME TO points;
CREATE INDEX points_gid_time ON points(gid, time);
-- Rollup and Prune select by time alone.
CREATE INDEX points_time ON points(time);
