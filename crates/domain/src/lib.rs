//! Circulo's domain: the values the service accepts, always valid once constructed, and the rules
//! that decide who may do what. Nothing here performs I/O or knows about HTTP or SQL.

pub mod address;
pub mod audit;
pub mod decision;
pub mod delegation;
pub mod error;
pub mod feedback;
pub mod goal;
pub mod ids;
pub mod member;
pub mod organization;
pub mod page;
pub mod patch;
pub mod principal;
pub mod reach;
pub mod report;
pub mod score;
pub mod string_enum;
pub mod team;
pub mod text;
pub mod timestamp;
pub mod version;
pub mod webhook;
pub mod window;

pub use error::{DomainError, DomainResult};
pub use ids::{
    CheckInId, DecisionId, DelegationId, EscalationId, FeedbackId, GoalId, MemberId, OrgId,
    ScoreId, TeamId, WebhookDeliveryId, WebhookId,
};
