DROP INDEX audit_events_waiting;
ALTER TABLE audit_events DROP COLUMN feed_after;
