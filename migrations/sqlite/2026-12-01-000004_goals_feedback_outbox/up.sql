-- Goals and their check-ins, feedback, and the transactional outbox every event is written to in
-- the transaction of the change that caused it (delivered by the webhooks worker later).

CREATE TABLE goals (
    org_id TEXT NOT NULL REFERENCES organizations (org_id),
    id TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('client_acquisition', 'satisfaction', 'sales', 'development', 'custom')),
    owner_member_id TEXT,
    owner_team_id TEXT,
    parent_goal_id TEXT,
    metric_name TEXT NOT NULL,
    metric_unit TEXT NOT NULL,
    metric_baseline REAL NOT NULL,
    metric_target REAL NOT NULL,
    metric_direction TEXT NOT NULL CHECK (metric_direction IN ('increase', 'decrease')),
    start_date DATE NOT NULL,
    due_date DATE NOT NULL CHECK (due_date >= start_date),
    -- 'missed' is never stored: an active goal past its due date reads as missed.
    status TEXT NOT NULL CHECK (status IN ('draft', 'active', 'achieved', 'cancelled')),
    strengths TEXT NOT NULL,
    current_value REAL,
    current_recorded_at TIMESTAMP,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id),
    CHECK ((owner_member_id IS NULL) <> (owner_team_id IS NULL)),
    CHECK (metric_target <> metric_baseline),
    FOREIGN KEY (org_id, owner_member_id) REFERENCES members (org_id, id),
    FOREIGN KEY (org_id, owner_team_id) REFERENCES teams (org_id, id),
    FOREIGN KEY (org_id, parent_goal_id) REFERENCES goals (org_id, id)
);

CREATE INDEX goals_by_owner_member ON goals (org_id, owner_member_id, id);
CREATE INDEX goals_by_owner_team ON goals (org_id, owner_team_id, id);
CREATE INDEX goals_by_parent ON goals (org_id, parent_goal_id, id);
CREATE INDEX goals_by_due ON goals (org_id, due_date, id);

CREATE TABLE goal_check_ins (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    goal_id TEXT NOT NULL,
    value REAL NOT NULL,
    note TEXT,
    recorded_at TIMESTAMP NOT NULL,
    recorded_by_role TEXT NOT NULL,
    recorded_by_subject TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, goal_id) REFERENCES goals (org_id, id)
);

CREATE INDEX goal_check_ins_by_goal ON goal_check_ins (org_id, goal_id, id);

-- Anonymous feedback keeps no author (the three author columns are NULL) and is dated to its day.
-- WITHOUT ROWID: a rowid would number rows in the order they were written, telling when.
CREATE TABLE feedback (
    org_id TEXT NOT NULL REFERENCES organizations (org_id),
    id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('client', 'manager', 'upward', 'peer')),
    subject_member_id TEXT NOT NULL,
    author_member_id TEXT,
    author_role TEXT,
    author_subject TEXT,
    rating INTEGER CHECK (rating BETWEEN 1 AND 5),
    icare TEXT NOT NULL,
    sentiment TEXT CHECK (sentiment IN ('praise', 'concern')),
    body TEXT NOT NULL,
    client_ref TEXT,
    touchpoint TEXT CHECK (touchpoint IN ('pos', 'phone', 'email', 'visit', 'web', 'other')),
    anonymous BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id),
    CHECK (NOT anonymous OR (kind IN ('upward', 'peer') AND author_member_id IS NULL
        AND author_role IS NULL AND author_subject IS NULL)),
    CHECK (client_ref IS NULL OR kind = 'client'),
    FOREIGN KEY (org_id, subject_member_id) REFERENCES members (org_id, id),
    FOREIGN KEY (org_id, author_member_id) REFERENCES members (org_id, id)
) WITHOUT ROWID;

CREATE INDEX feedback_by_subject ON feedback (org_id, subject_member_id, id);
CREATE INDEX feedback_anonymous_by_subject ON feedback (org_id, subject_member_id, created_at) WHERE anonymous = 1;

-- Events wait here until delivered. `deliver_after` holds back an untraced change's event until
-- its day is over, so its delivery time says nothing about its hour.
CREATE TABLE outbox_events (
    org_id TEXT NOT NULL REFERENCES organizations (org_id),
    id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    deliver_after TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id)
) WITHOUT ROWID;

CREATE INDEX outbox_events_by_due ON outbox_events (deliver_after, org_id, id);

-- The tables an untraced change writes to keep no rowid either: it would tell the order rows were
-- written in, and so the hour of an entry dated only to its day.
CREATE TABLE audit_events_by_key (
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
    position BIGINT,
    feed_after TIMESTAMP,
    PRIMARY KEY (org_id, id)
) WITHOUT ROWID;
INSERT INTO audit_events_by_key
    SELECT org_id, id, occurred_at, actor_role, actor_subject, action, entity_type, entity_id,
           request_id, changes, position, feed_after
    FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_by_key RENAME TO audit_events;
CREATE INDEX audit_events_by_time ON audit_events (org_id, occurred_at);
CREATE INDEX audit_events_by_entity ON audit_events (org_id, entity_type, entity_id, id);
CREATE INDEX audit_events_by_position ON audit_events (org_id, position, id);
CREATE INDEX audit_events_waiting ON audit_events (org_id, id) WHERE position IS NULL;

CREATE TABLE idempotency_keys_by_key (
    org_id TEXT NOT NULL,
    caller TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    response_status INTEGER NOT NULL,
    response_headers TEXT NOT NULL,
    response_body TEXT NOT NULL,
    PRIMARY KEY (org_id, caller, idempotency_key)
) WITHOUT ROWID;
INSERT INTO idempotency_keys_by_key
    SELECT org_id, caller, idempotency_key, fingerprint, expires_at, response_status,
           response_headers, response_body
    FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_by_key RENAME TO idempotency_keys;
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);
