-- 0004: the public address each agent last connected from and when, so a
-- change of internet path (failover to a backup line) can be seen.

ALTER TABLE agents ADD COLUMN last_address TEXT NOT NULL DEFAULT '';            -- '': never recorded
ALTER TABLE agents ADD COLUMN last_address_at INTEGER NOT NULL DEFAULT 0;       -- 0: never recorded
