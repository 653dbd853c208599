//! Decisions and escalations: the accountability log. A decision a grant covers is approved on
//! the spot and consumes the grant's budget; one no grant covers is escalated to someone who may
//! decide it, who is expected to answer within the organization's response target.

use chrono::{DateTime, TimeDelta, Utc};

use crate::delegation::{Action, amount};
use crate::error::{DomainResult, Validator};
use crate::feedback::Touchpoint;
use crate::ids::{DecisionId, DelegationId, EscalationId, MemberId, TeamId};
use crate::organization::CurrencyCode;
use crate::text;

crate::string_enum! {
    /// How a decision ended.
    pub enum Outcome ("outcome") {
        /// Decided on the spot, within a grant.
        Approved = "approved",
        /// No grant covered it: waiting for someone who may decide.
        Escalated = "escalated",
        /// Escalated, then approved.
        ApprovedByManager = "approved_by_manager",
        /// Escalated, then refused.
        Rejected = "rejected",
    }
}

crate::string_enum! {
    /// How an escalation was answered.
    pub enum Resolution ("resolution") {
        /// The decision may go ahead.
        Approved = "approved",
        /// It may not.
        Rejected = "rejected",
    }
}

/// The longest client reference.
pub const MAX_CLIENT_REF_CHARS: usize = 255;
/// The longest note.
pub const MAX_NOTE_CHARS: usize = 2000;

/// A decision as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Decision {
    /// Its id.
    pub id: DecisionId,
    /// Who decided (or asked).
    pub member_id: MemberId,
    /// Their team when they decided.
    pub team_id: Option<TeamId>,
    /// What for.
    pub action: Action,
    /// How much.
    pub amount_minor: i64,
    /// In what.
    pub currency: CurrencyCode,
    /// The client, as the CRM or POS knows them.
    pub client_ref: String,
    /// Where.
    pub touchpoint: Touchpoint,
    /// Anything else.
    pub note: Option<String>,
    /// How it ended (so far).
    pub outcome: Outcome,
    /// The grant that covered it.
    pub delegation_id: Option<DelegationId>,
    /// The start of the budget period it was counted in.
    #[serde(skip)]
    pub period_start: Option<DateTime<Utc>>,
    /// The escalation it raised.
    pub escalation_id: Option<EscalationId>,
    /// When it was voided, and why.
    #[serde(skip)]
    pub voided: Option<(DateTime<Utc>, String)>,
    /// When it was recorded.
    #[serde(serialize_with = "crate::timestamp::rfc3339")]
    pub created_at: DateTime<Utc>,
}

/// A decision as a client sent it.
#[derive(Debug, Clone, Copy)]
pub struct RawDecision<'a> {
    /// Member.
    pub member_id: MemberId,
    /// Action.
    pub action: &'a str,
    /// Amount.
    pub amount_minor: i64,
    /// Currency.
    pub currency: &'a str,
    /// Client.
    pub client_ref: &'a str,
    /// Touchpoint.
    pub touchpoint: Touchpoint,
    /// Note.
    pub note: Option<&'a str>,
}

/// A decision's fields, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionFields {
    /// Member.
    pub member_id: MemberId,
    /// Action.
    pub action: Action,
    /// Amount.
    pub amount_minor: i64,
    /// Currency.
    pub currency: CurrencyCode,
    /// Client.
    pub client_ref: String,
    /// Touchpoint.
    pub touchpoint: Touchpoint,
    /// Note.
    pub note: Option<String>,
}

impl DecisionFields {
    /// Validates every field, reporting all failures together.
    pub fn parse(raw: RawDecision<'_>) -> DomainResult<Self> {
        let mut v = Validator::new();
        let action = v.check(Action::parse("action", raw.action));
        let amount = v.check(amount("amount_minor", raw.amount_minor));
        let currency = v.check(CurrencyCode::parse("currency", raw.currency));
        let client_ref = v.check(text::single_line(
            "client_ref",
            raw.client_ref,
            MAX_CLIENT_REF_CHARS,
        ));
        let note = raw
            .note
            .map(|n| v.check(text::multi_line("note", n, MAX_NOTE_CHARS)));
        v.build(|| {
            Some(Self {
                member_id: raw.member_id,
                action: action?,
                amount_minor: amount?,
                currency: currency?,
                client_ref: client_ref?,
                touchpoint: raw.touchpoint,
                note: note.map(|n| n.ok_or(())).transpose().ok()?,
            })
        })
    }
}

/// An escalation as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Escalation {
    /// Its id.
    pub id: EscalationId,
    /// The decision waiting on it.
    pub decision_id: DecisionId,
    /// Who asked.
    pub member_id: MemberId,
    /// Who is to answer: the member's manager, else their team's lead, else an owner.
    pub assignee_member_id: Option<MemberId>,
    /// How it was answered, once it was.
    pub resolution: Option<Resolution>,
    /// What the answer said.
    pub note: Option<String>,
    /// When an answer is due (the organization's response target after it was raised).
    #[serde(serialize_with = "crate::timestamp::rfc3339")]
    pub response_due_at: DateTime<Utc>,
    /// When it was answered.
    #[serde(serialize_with = "crate::timestamp::rfc3339_opt")]
    pub responded_at: Option<DateTime<Utc>>,
    /// When it was raised.
    #[serde(serialize_with = "crate::timestamp::rfc3339")]
    pub created_at: DateTime<Utc>,
}

impl Escalation {
    /// `open` until it is resolved, then `resolved`.
    pub fn status(&self) -> &'static str {
        if self.resolution.is_some() {
            "resolved"
        } else {
            "open"
        }
    }

    /// How long the answer took, once given.
    pub fn response_seconds(&self) -> Option<i64> {
        self.responded_at
            .map(|at| (at - self.created_at).num_seconds())
    }

    /// Whether the answer came (or is still to come) after it was due.
    pub fn overdue_at(&self, now: DateTime<Utc>) -> bool {
        self.responded_at.unwrap_or(now) > self.response_due_at
    }

    /// When an escalation raised `at` is due, with a target of `minutes`.
    pub fn due(at: DateTime<Utc>, minutes: i32) -> DateTime<Utc> {
        at + TimeDelta::minutes(i64::from(minutes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_positive_and_bounded_and_actions_known() {
        let raw = RawDecision {
            member_id: MemberId::generate(),
            action: "refund",
            amount_minor: 0,
            currency: "EUR",
            client_ref: "C-1",
            touchpoint: Touchpoint::Pos,
            note: None,
        };
        assert_eq!(
            DecisionFields::parse(raw).unwrap_err().field_errors()[0].field,
            "amount_minor"
        );
        let huge = RawDecision {
            amount_minor: i64::MAX,
            action: "teleport",
            ..raw
        };
        assert_eq!(
            DecisionFields::parse(huge)
                .unwrap_err()
                .field_errors()
                .len(),
            2
        );
    }

    #[test]
    fn an_escalation_is_overdue_once_its_answer_is_late() {
        let raised: DateTime<Utc> = "2026-12-01T10:00:00Z".parse().unwrap();
        let mut escalation = Escalation {
            id: EscalationId::generate(),
            decision_id: DecisionId::generate(),
            member_id: MemberId::generate(),
            assignee_member_id: None,
            resolution: None,
            note: None,
            response_due_at: Escalation::due(raised, 60),
            responded_at: None,
            created_at: raised,
        };
        assert!(!escalation.overdue_at(raised + TimeDelta::minutes(59)));
        assert!(escalation.overdue_at(raised + TimeDelta::minutes(61)));
        escalation.responded_at = Some(raised + TimeDelta::minutes(30));
        assert!(!escalation.overdue_at(raised + TimeDelta::days(1)));
        assert_eq!(escalation.response_seconds(), Some(1800));
    }
}
