//! Typed identifiers. Every id is a server-generated UUIDv7, so ids sort by creation time, which
//! the cursor pagination relies on.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an id that is already known to exist or to be well formed.
            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// An organization (tenant).
    OrgId
);
id_type!(
    /// A team inside an organization.
    TeamId
);
id_type!(
    /// A member (a person on the staff) of an organization.
    MemberId
);
id_type!(
    /// A goal of a member or a team.
    GoalId
);
id_type!(
    /// One progress report on a goal.
    CheckInId
);
id_type!(
    /// One piece of feedback about a member.
    FeedbackId
);
id_type!(
    /// A grant of authority.
    DelegationId
);
id_type!(
    /// A decision on the record.
    DecisionId
);
id_type!(
    /// A decision waiting for someone who may make it.
    EscalationId
);
id_type!(
    /// One satisfaction score from a client or an employee.
    ScoreId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_text_form() {
        let id = MemberId::generate();
        assert_eq!(id.to_string().parse::<MemberId>().unwrap(), id);
    }

    #[test]
    fn later_ids_sort_after_earlier_ones() {
        let a = TeamId::generate();
        let b = TeamId::generate();
        assert!(a < b);
        assert!(a.to_string() < b.to_string());
    }

    #[test]
    fn malformed_ids_are_rejected() {
        assert!("not-a-uuid".parse::<OrgId>().is_err());
    }
}
id_type!(
    /// A webhook subscription.
    WebhookId
);
id_type!(
    /// One event's delivery to one webhook subscription.
    WebhookDeliveryId
);
