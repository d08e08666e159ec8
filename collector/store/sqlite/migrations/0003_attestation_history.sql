-- 0003: attestations keep their history (a new one supersedes the current
-- one, nothing is overwritten), record the attester's role and who typed
-- them in; admin tokens authorise writes through the API.

ALTER TABLE attestations ADD COLUMN role TEXT NOT NULL DEFAULT '';
ALTER TABLE attestations ADD COLUMN recorded_by TEXT NOT NULL DEFAULT '';
ALTER TABLE attestations ADD COLUMN recorded_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attestations ADD COLUMN superseded_by INTEGER REFERENCES attestations(id); -- NULL while current
ALTER TABLE attestations ADD COLUMN superseded_at INTEGER NOT NULL DEFAULT 0;

-- Rows from before this migration: recorded when dated, and each superseded
-- by the next one of its site and requirement in recording (id) order.
UPDATE attestations SET recorded_at = at, recorded_by = 'before history';
UPDATE attestations SET
	superseded_by = (SELECT MIN(n.id) FROM attestations n
		WHERE n.site = attestations.site AND n.req_id = attestations.req_id AND n.id > attestations.id),
	superseded_at = COALESCE((SELECT n.at FROM attestations n
		WHERE n.site = attestations.site AND n.req_id = attestations.req_id AND n.id > attestations.id
		ORDER BY n.id LIMIT 1), 0);

-- At most one current attestation per site and requirement.
CREATE UNIQUE INDEX attestations_current ON attestations(site, req_id) WHERE superseded_by IS NULL;
CREATE INDEX attestations_site_req ON attestations(site, req_id, id);

CREATE TABLE admin_tokens (
	hash    TEXT PRIMARY KEY, -- store.HashSecret of the token
	name    TEXT NOT NULL,
	created INTEGER NOT NULL,
	revoked INTEGER NOT NULL DEFAULT 0 -- 0: valid
);
CREATE UNIQUE INDEX admin_tokens_name ON admin_tokens(name) WHERE revoked = 0;
