-- Webhook subscriptions and the deliveries of outbox events to them. The delivery worker moves
-- each due outbox event into one delivery per subscription that wants it, in one transaction,
-- then delivers from here: claims lease a row for one attempt (FOR UPDATE SKIP LOCKED, so two
-- replicas never make the same attempt), and a lease that runs out (a server killed mid-attempt)
-- makes the row due again.
CREATE TABLE webhooks (
    org_id TEXT NOT NULL REFERENCES organizations (org_id),
    id TEXT NOT NULL,
    url TEXT NOT NULL,
    -- A JSON array of event names.
    events TEXT NOT NULL,
    description TEXT,
    enabled BOOLEAN NOT NULL,
    disabled_reason TEXT,
    -- Since when every attempt has failed; cleared by a success.
    failing_since TIMESTAMP,
    -- `whsec_…`, signing every delivery; the one rotated out keeps signing until
    -- `previous_secret_until`.
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_until TIMESTAMP,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE webhook_deliveries (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    webhook_id TEXT NOT NULL,
    -- The outbox event's id: the `webhook-id` header, the same on every attempt.
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    -- The body, byte for byte the same on every attempt.
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts INTEGER NOT NULL,
    -- While pending: when the next attempt is due, or when the running attempt's lease ends.
    next_attempt_at TIMESTAMP,
    -- Retried until then.
    retry_until TIMESTAMP NOT NULL,
    last_attempt_at TIMESTAMP,
    last_response_code INTEGER,
    last_response_excerpt TEXT,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, webhook_id, event_id),
    FOREIGN KEY (org_id, webhook_id) REFERENCES webhooks (org_id, id) ON DELETE CASCADE,
    CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL))
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (org_id, webhook_id, id);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (updated_at) WHERE status <> 'pending';
