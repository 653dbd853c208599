-- Delegated authority: grants, their use per budget period, the decisions made under them and
-- the escalations of those no grant covered.

CREATE TABLE delegations (
    org_id TEXT NOT NULL REFERENCES organizations (org_id),
    id TEXT NOT NULL,
    delegator_member_id TEXT,
    delegate_member_id TEXT,
    delegate_team_id TEXT,
    action TEXT NOT NULL,
    currency TEXT NOT NULL,
    per_decision_limit_minor BIGINT NOT NULL CHECK (per_decision_limit_minor > 0),
    budget_minor BIGINT NOT NULL CHECK (budget_minor >= per_decision_limit_minor),
    budget_period TEXT NOT NULL CHECK (budget_period IN ('day', 'week', 'month', 'total')),
    max_decisions_per_period BIGINT CHECK (max_decisions_per_period > 0),
    valid_from TIMESTAMP NOT NULL,
    valid_until TIMESTAMP CHECK (valid_until > valid_from),
    rationale TEXT NOT NULL,
    revoked_at TIMESTAMP,
    revoke_reason TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id),
    CHECK ((delegate_member_id IS NULL) <> (delegate_team_id IS NULL)),
    FOREIGN KEY (org_id, delegator_member_id) REFERENCES members (org_id, id),
    FOREIGN KEY (org_id, delegate_member_id) REFERENCES members (org_id, id),
    FOREIGN KEY (org_id, delegate_team_id) REFERENCES teams (org_id, id)
);

CREATE INDEX delegations_by_member ON delegations (org_id, delegate_member_id, action);
CREATE INDEX delegations_by_team ON delegations (org_id, delegate_team_id, action);

-- One row per grant and period in which it was used: the conditional UPDATE of this row is what
-- keeps a grant's spending within its budget under any concurrency.
CREATE TABLE delegation_usage (
    org_id TEXT NOT NULL,
    delegation_id TEXT NOT NULL,
    period_start TIMESTAMP NOT NULL,
    used_minor BIGINT NOT NULL CHECK (used_minor >= 0),
    decisions BIGINT NOT NULL CHECK (decisions >= 0),
    PRIMARY KEY (org_id, delegation_id, period_start),
    FOREIGN KEY (org_id, delegation_id) REFERENCES delegations (org_id, id)
);

CREATE TABLE decisions (
    org_id TEXT NOT NULL REFERENCES organizations (org_id),
    id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    team_id TEXT,
    action TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    currency TEXT NOT NULL,
    client_ref TEXT NOT NULL,
    touchpoint TEXT NOT NULL,
    note TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('approved', 'escalated', 'approved_by_manager', 'rejected')),
    delegation_id TEXT,
    period_start TIMESTAMP,
    escalation_id TEXT,
    voided_at TIMESTAMP,
    void_reason TEXT,
    recorded_by_role TEXT NOT NULL,
    recorded_by_subject TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, member_id) REFERENCES members (org_id, id),
    FOREIGN KEY (org_id, delegation_id) REFERENCES delegations (org_id, id)
);

CREATE INDEX decisions_by_member ON decisions (org_id, member_id, id);
CREATE INDEX decisions_by_delegation ON decisions (org_id, delegation_id, period_start);

CREATE TABLE escalations (
    org_id TEXT NOT NULL REFERENCES organizations (org_id),
    id TEXT NOT NULL,
    decision_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    assignee_member_id TEXT,
    resolution TEXT CHECK (resolution IN ('approved', 'rejected')),
    note TEXT,
    response_due_at TIMESTAMP NOT NULL,
    responded_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, decision_id) REFERENCES decisions (org_id, id),
    FOREIGN KEY (org_id, assignee_member_id) REFERENCES members (org_id, id)
);

CREATE INDEX escalations_by_assignee ON escalations (org_id, assignee_member_id, id);
