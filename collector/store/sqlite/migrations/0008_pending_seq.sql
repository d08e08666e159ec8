-- 0008: a pending hour counts the writes to it, so a rollup that read the
-- hour from a snapshot (outside the writer) clears the mark only if nothing
-- was written to the hour since.
ALTER TABLE rollup_pending_hours ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
