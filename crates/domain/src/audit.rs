//! The audit log: who changed what, when, and in which request.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::ids::OrgId;
use crate::principal::Principal;

/// Who made a change, as the audit log names them. Built from the principal, so it never holds
/// anything the principal did not present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The role the caller acted in.
    pub role: String,
    /// The token subject, or `None` where the author must stay unknown (anonymous feedback).
    pub subject: Option<String>,
}

impl Actor {
    /// The caller as themselves.
    pub fn of(principal: &Principal) -> Self {
        Self {
            role: principal.role().as_str().to_owned(),
            subject: Some(principal.subject().to_owned()),
        }
    }

    /// The command-line operator, for changes made with `circulo org create`.
    pub fn cli() -> Self {
        Self {
            role: "cli".to_owned(),
            subject: None,
        }
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Time-ordered id.
    pub id: Uuid,
    /// The organization the change happened in.
    pub org_id: OrgId,
    /// When it was committed.
    pub occurred_at: DateTime<Utc>,
    /// Who did it.
    pub actor: Actor,
    /// What was done, as `entity.verb` (`member.created`).
    pub action: String,
    /// The kind of thing changed (`member`).
    pub entity_type: String,
    /// The id of the thing changed.
    pub entity_id: String,
    /// The request that made the change, to find it in the logs.
    pub request_id: Option<String>,
    /// The state after the change, as JSON text.
    pub changes: Option<String>,
}
