-- 0010: raw points are stored in chunks, a row for each batch's points of
-- one stream in one hour, instead of a row a point (chunks.go): the writer
-- inserts a dozen rows for a school's minute rather than a few hundred.
-- data is a line a point, "sid dt fields": series.id, the time less t0 in
-- nanoseconds, and the fields JSON that points.fields held.
CREATE TABLE chunks (
	gid   INTEGER NOT NULL, -- streams.id
	hour  INTEGER NOT NULL, -- start of the hour every point of the chunk is in, ns
	t0    INTEGER NOT NULL, -- its earliest point's time, ns
	t1    INTEGER NOT NULL, -- its latest point's time, ns
	n     INTEGER NOT NULL, -- points
	data  BLOB NOT NULL
);
-- Points reads a stream's chunks by time; rollups and pruning by hour.
CREATE INDEX chunks_gid_t0 ON chunks(gid, t0);
CREATE INDEX chunks_hour_gid ON chunks(hour, gid);

-- Existing points become a chunk a stream a minute. The hour is floored
-- for times before 1970 too.
INSERT INTO chunks(gid, hour, t0, t1, n, data)
	SELECT gid, hour, MIN(t0), MAX(time), COUNT(*),
		CAST(group_concat(sid || ' ' || (time - t0) || ' ' || fields, char(10)) || char(10) AS BLOB)
	FROM (SELECT gid, sid, time, fields,
			time - ((time % 3600000000000) + 3600000000000) % 3600000000000 AS hour,
			MIN(time) OVER (PARTITION BY gid, (time - ((time % 60000000000) + 60000000000) % 60000000000)) AS t0
		FROM points)
	GROUP BY gid, hour, t0;
DROP TABLE points;
