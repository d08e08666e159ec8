-- 0009: an hour is pending for rollup by stream (a site's measurement), not
-- as a whole: a late batch from one school makes the next rollup rebuild
-- that school's measurements of the hour, not every school's. seq counts
-- the writes, as in 0008.
CREATE TABLE rollup_pending_streams (
	hour INTEGER NOT NULL,
	gid  INTEGER NOT NULL,
	seq  INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (hour, gid)
) WITHOUT ROWID;

INSERT INTO rollup_pending_streams(hour, gid, seq)
	SELECT DISTINCT h.hour, p.gid, h.seq FROM rollup_pending_hours h
	JOIN points p ON p.time >= h.hour AND p.time < h.hour + 3600000000000;
DROP TABLE rollup_pending_hours;
