-- Satisfaction scores from clients (CSAT, NPS, CES) and employees (eNPS and pulse answers).
-- An employee-audience score keeps no respondent: no recorder columns, its times are midnights,
-- and its external id is kept only as a keyed hash (for deduplication).

CREATE TABLE satisfaction_scores (
    org_id TEXT NOT NULL REFERENCES organizations (org_id),
    id TEXT NOT NULL,
    audience TEXT NOT NULL CHECK (audience IN ('client', 'employee')),
    instrument TEXT NOT NULL CHECK (instrument IN ('csat', 'nps', 'ces')),
    score INTEGER NOT NULL CHECK (
        (instrument = 'csat' AND score BETWEEN 1 AND 5)
        OR (instrument = 'nps' AND score BETWEEN 0 AND 10)
        OR (instrument = 'ces' AND score BETWEEN 1 AND 7)),
    member_id TEXT,
    team_id TEXT,
    client_ref TEXT,
    touchpoint TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    source TEXT NOT NULL,
    external_id TEXT,
    comment TEXT,
    icare_ideal INTEGER CHECK (icare_ideal BETWEEN 1 AND 5),
    icare_culture INTEGER CHECK (icare_culture BETWEEN 1 AND 5),
    icare_attention INTEGER CHECK (icare_attention BETWEEN 1 AND 5),
    icare_response INTEGER CHECK (icare_response BETWEEN 1 AND 5),
    icare_empathy INTEGER CHECK (icare_empathy BETWEEN 1 AND 5),
    decision_id TEXT,
    recorded_by_role TEXT,
    recorded_by_subject TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, source, external_id),
    FOREIGN KEY (org_id, member_id) REFERENCES members (org_id, id),
    FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id),
    FOREIGN KEY (org_id, decision_id) REFERENCES decisions (org_id, id)
);

-- Reports filter by organization, audience and window, and group by team or member.
CREATE INDEX satisfaction_scores_by_time ON satisfaction_scores (org_id, occurred_at);
CREATE INDEX satisfaction_scores_by_team ON satisfaction_scores (org_id, team_id, occurred_at);
CREATE INDEX satisfaction_scores_by_member ON satisfaction_scores (org_id, member_id, occurred_at);
CREATE INDEX satisfaction_scores_by_decision ON satisfaction_scores (org_id, decision_id);
