-- 0005: the reviewer's own findings of an annual IT support review (IT-7),
-- entered in the web UI and kept with the period they are about. Never
-- changed: a correction is a later finding.

CREATE TABLE review_findings (
    id          INTEGER PRIMARY KEY,
    site        TEXT NOT NULL REFERENCES sites(id),
    period_from INTEGER NOT NULL,           -- unix ns, the review's period
    period_to   INTEGER NOT NULL,
    text        TEXT NOT NULL,
    by_name     TEXT NOT NULL,
    at          INTEGER NOT NULL            -- unix ns, when it was recorded
);
CREATE INDEX review_findings_site ON review_findings(site, period_to);
