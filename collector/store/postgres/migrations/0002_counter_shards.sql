-- 0002: each running total is kept in 16 rows, and a writing transaction
-- adds to one of them chosen at random. With one row a total, every
-- collector's every write transaction updated the same two rows, so they
-- queued on those rows' locks until each other's commit; Stats adds the
-- rows up.
ALTER TABLE counters DROP CONSTRAINT counters_pkey;
ALTER TABLE counters ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE counters ADD PRIMARY KEY (name, shard);
INSERT INTO counters(name, shard, n)
	SELECT v.name, s, 0 FROM (VALUES ('points'), ('batches')) AS v(name), generate_series(1, 15) AS s;
