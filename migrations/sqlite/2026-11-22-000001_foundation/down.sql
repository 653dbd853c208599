-- Teams and members reference each other; check the references at commit, when both are gone.
PRAGMA defer_foreign_keys = ON;
DROP TABLE idempotency_keys;
DROP TABLE audit_events;
DROP TABLE members;
DROP TABLE teams;
DROP TABLE organizations;
