-- 0003: an hour is pending for rollup by site, stamped with a number from
-- a sequence on every write to it. A rollup rebuilds only the sites written
-- to (a late batch from one school: that school's hour, not every
-- school's), reads them without locking writers out of the hour, and clears
-- a mark only if its stamp is unchanged, so a batch written meanwhile is
-- counted by the next run. A sequence, not a count: a mark deleted and made
-- again must never look unchanged.
CREATE SEQUENCE rollup_pending_seq;
CREATE TABLE rollup_pending_sites (
	hour BIGINT NOT NULL,
	site TEXT NOT NULL,
	seq  BIGINT NOT NULL DEFAULT nextval('rollup_pending_seq'),
	PRIMARY KEY (hour, site)
);
INSERT INTO rollup_pending_sites(hour, site)
	SELECT DISTINCT h.hour, p.site FROM rollup_pending_hours h
	JOIN points p ON p.time >= h.hour AND p.time < h.hour + 3600000000000;
DROP TABLE rollup_pending_hours;
