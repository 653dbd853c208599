-- Feed rows are written without a position and placed when the feed is read: under the
-- organization's counter lock, every committed row still waiting gets the next positions. Writers
-- no longer take the counter at all, so they do not wait for each other's commits. A row joins the
-- feed from `feed_after` on: at once, or, for an untraced change, after the day it was made.
ALTER TABLE audit_events ADD COLUMN feed_after TIMESTAMP;
UPDATE audit_events SET feed_after = occurred_at WHERE position IS NOT NULL;
-- Entries still waiting are untraced ones, dated to their day: they join after it.
UPDATE audit_events SET feed_after = datetime(occurred_at, '+1 day') WHERE position IS NULL;
CREATE INDEX audit_events_waiting ON audit_events (org_id, id) WHERE position IS NULL;
