-- Foundation: organizations, teams, members, the audit log and idempotency keys.
-- Every table carries org_id first in its primary key, unique constraints and foreign keys, so
-- two tenants' rows can never reference each other and the schema distributes by org_id as is.
-- Ids are UUIDv7 text (the type both backends share under diesel's MultiConnection).

CREATE TABLE organizations (
    org_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    timezone TEXT NOT NULL,
    anonymity_threshold INTEGER NOT NULL CHECK (anonymity_threshold >= 3),
    escalation_response_target_minutes INTEGER NOT NULL CHECK (escalation_response_target_minutes > 0),
    low_score_csat_at_most INTEGER NOT NULL,
    low_score_nps_at_most INTEGER NOT NULL,
    low_score_ces_at_least INTEGER NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE teams (
    org_id TEXT NOT NULL REFERENCES organizations (org_id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    lead_member_id TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, name)
);

CREATE TABLE members (
    org_id TEXT NOT NULL REFERENCES organizations (org_id),
    id TEXT NOT NULL,
    external_id TEXT,
    display_name TEXT NOT NULL,
    email TEXT,
    role TEXT NOT NULL CHECK (role IN ('owner', 'manager', 'staff')),
    team_id TEXT,
    manager_id TEXT,
    strengths TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, external_id),
    FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id),
    FOREIGN KEY (org_id, manager_id) REFERENCES members (org_id, id)
);

ALTER TABLE teams
    ADD CONSTRAINT teams_lead_member_fkey FOREIGN KEY (org_id, lead_member_id) REFERENCES members (org_id, id);

CREATE INDEX members_by_team ON members (org_id, team_id, id);
CREATE INDEX members_by_manager ON members (org_id, manager_id, id);
CREATE INDEX teams_by_lead ON teams (org_id, lead_member_id);

CREATE TABLE audit_events (
    org_id TEXT NOT NULL REFERENCES organizations (org_id),
    id TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    actor_role TEXT NOT NULL,
    actor_subject TEXT,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    request_id TEXT,
    changes TEXT,
    PRIMARY KEY (org_id, id)
);

CREATE INDEX audit_events_by_time ON audit_events (org_id, occurred_at);
CREATE INDEX audit_events_by_entity ON audit_events (org_id, entity_type, entity_id, id);

-- Keys are scoped to an organization; requests of a platform admin, who has none, use the
-- caller's subject as scope. No foreign key: a key is reserved before the organization it
-- creates exists.
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
