DROP TABLE idempotency_keys;
DROP TABLE audit_events;
ALTER TABLE teams DROP CONSTRAINT teams_lead_member_fkey;
DROP TABLE members;
DROP TABLE teams;
DROP TABLE organizations;
