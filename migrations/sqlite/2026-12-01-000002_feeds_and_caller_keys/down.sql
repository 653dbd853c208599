DROP TABLE idempotency_keys;

CREATE TABLE idempotency_keys (
    org_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    locked_at TIMESTAMP NOT NULL,
    response_status INTEGER,
    response_headers TEXT,
    response_body TEXT,
    PRIMARY KEY (org_id, idempotency_key)
);

CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

DROP INDEX audit_events_by_position;
ALTER TABLE audit_events DROP COLUMN position;
DROP TABLE feed_positions;
