-- Feed positions: a per-organization counter that orders the audit log (and, later, the other
-- feeds integrations follow) in commit order. A NULL position is an untraced entry that has not
-- joined the feed yet (it joins after its day, in random order).
CREATE TABLE feed_positions (
    org_id TEXT PRIMARY KEY REFERENCES organizations (org_id),
    position BIGINT NOT NULL
);

ALTER TABLE audit_events ADD COLUMN position BIGINT;

UPDATE audit_events
SET position = numbered.n
FROM (
    SELECT org_id, id, row_number() OVER (PARTITION BY org_id ORDER BY id) AS n
    FROM audit_events
) AS numbered
WHERE audit_events.org_id = numbered.org_id AND audit_events.id = numbered.id;

INSERT INTO feed_positions (org_id, position)
SELECT o.org_id, COALESCE((SELECT max(a.position) FROM audit_events a WHERE a.org_id = o.org_id), 0)
FROM organizations o;

CREATE INDEX audit_events_by_position ON audit_events (org_id, position, id);

-- Idempotency keys are scoped to the organization and the caller, and a row exists only for a
-- change that committed: it is written in that change's transaction, with its response. Keys of
-- the old shape were scoped to the organization alone and cannot be given a caller.
DROP TABLE idempotency_keys;

CREATE TABLE idempotency_keys (
    org_id TEXT NOT NULL,
    caller TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    response_status INTEGER NOT NULL,
    response_headers TEXT NOT NULL,
    response_body TEXT NOT NULL,
    PRIMARY KEY (org_id, caller, idempotency_key)
);

CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);
