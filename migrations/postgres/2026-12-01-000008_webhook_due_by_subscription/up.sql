-- Claims look for due deliveries subscription by subscription (a few of each), so that one
-- subscription's backlog, or a disabled one's, never hides another's due deliveries.
CREATE INDEX webhook_deliveries_due_by_webhook ON webhook_deliveries (org_id, webhook_id, next_attempt_at)
    WHERE status = 'pending';
