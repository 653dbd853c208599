//! Optimistic concurrency: every mutable resource carries a version, and a change may name the
//! versions it applies to (`If-Match`, RFC 9110 §13.1.1).

use chrono::{DateTime, Utc};

/// Where a stored resource is in its history: the version every change raises by one, when it
/// was created and when it last changed. Each entity flattens one into what it serializes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Revision {
    /// The version: 1 when created, one more with every change.
    pub version: i64,
    /// When the resource was created.
    #[serde(serialize_with = "crate::timestamp::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "crate::timestamp::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

impl Revision {
    /// A resource's first revision, created `at`.
    pub fn first(at: DateTime<Utc>) -> Self {
        Self {
            version: 1,
            created_at: at,
            updated_at: at,
        }
    }

    /// The revision after this one, for a change made `at`.
    pub fn next(&self, at: DateTime<Utc>) -> Self {
        Self {
            version: self.version + 1,
            updated_at: at,
            ..*self
        }
    }
}

/// What a change asks of the version of the resource it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Precondition {
    /// Nothing: the change applies to whatever version is current.
    #[default]
    None,
    /// The resource must exist, at any version (`If-Match: *`).
    Exists,
    /// The current version must be one of these (`If-Match: "3", "4"`). Empty when every tag
    /// named was one that can never match (a weak tag, or not one of ours).
    OneOf(Vec<i64>),
}

impl Precondition {
    /// Whether a resource at `current` satisfies this precondition.
    pub fn admits(&self, current: i64) -> bool {
        match self {
            Self::None | Self::Exists => true,
            Self::OneOf(versions) => versions.contains(&current),
        }
    }

    /// Whether the client asked for anything.
    pub fn is_some(&self) -> bool {
        !matches!(self, Self::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_admits_any_of_its_versions_and_an_empty_one_none() {
        assert!(Precondition::OneOf(vec![2, 3]).admits(3));
        assert!(!Precondition::OneOf(vec![2, 3]).admits(4));
        assert!(!Precondition::OneOf(vec![]).admits(1));
        assert!(Precondition::Exists.admits(7));
        assert!(Precondition::None.admits(7));
        assert!(!Precondition::None.is_some());
    }
}
