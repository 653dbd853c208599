//! Feedback in every direction: clients about staff, managers about their people, staff about
//! their managers and about each other. Upward and peer feedback may be anonymous, and then it
//! keeps no trace of its author: not here (no [`Author`]), and, through the untraced write path,
//! nowhere else either. Rules that need the reporting lines (who may give which kind about whom)
//! are the store's.

use std::ops::RangeInclusive;

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::{DomainResult, Validator};
use crate::ids::{FeedbackId, MemberId};
use crate::text;

crate::string_enum! {
    /// Who gives the feedback to whom.
    pub enum FeedbackKind ("kind") {
        /// A client about the member who served them.
        Client = "client",
        /// A manager about someone who reports to them.
        Manager = "manager",
        /// A member about someone they report to.
        Upward = "upward",
        /// A member about a colleague.
        Peer = "peer",
    }
}

crate::string_enum! {
    /// The I-CARE dimensions of service a piece of feedback speaks to.
    pub enum Icare ("icare") {
        /// The ideal the business stands for.
        Ideal = "ideal",
        /// How people work together.
        Culture = "culture",
        /// Attention to the client.
        Attention = "attention",
        /// Immediate response.
        Response = "response",
        /// Empathy.
        Empathy = "empathy",
    }
}

crate::string_enum! {
    /// Whether the feedback praises or raises a concern.
    pub enum Sentiment ("sentiment") {
        /// Something done well.
        Praise = "praise",
        /// Something to improve.
        Concern = "concern",
    }
}

crate::string_enum! {
    /// Where a contact with a client happened.
    pub enum Touchpoint ("touchpoint") {
        /// At the till.
        Pos = "pos",
        /// On the phone.
        Phone = "phone",
        /// By email.
        Email = "email",
        /// A visit.
        Visit = "visit",
        /// On the web.
        Web = "web",
        /// Anywhere else.
        Other = "other",
    }
}

/// The ratings a piece of feedback may carry.
pub const RATING: RangeInclusive<i32> = 1..=5;
/// The longest body.
pub const MAX_BODY_CHARS: usize = 4000;
/// The longest client reference.
pub const MAX_CLIENT_REF_CHARS: usize = 255;

/// Who gave named feedback.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Author {
    /// The member, when the author is one.
    pub member_id: Option<MemberId>,
    /// The role they gave it in.
    pub role: String,
    /// Their token's subject (an integration's name, a member's id).
    pub subject: String,
}

/// A piece of feedback as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Feedback {
    /// Its id; for anonymous feedback, one that embeds only the date.
    pub id: FeedbackId,
    /// Who gives it to whom.
    pub kind: FeedbackKind,
    /// The member it is about.
    pub subject_member_id: MemberId,
    /// Who gave it; `None` when anonymous.
    pub author: Option<Author>,
    /// From 1 to 5.
    pub rating: Option<i32>,
    /// The I-CARE dimensions it speaks to.
    pub icare: Vec<Icare>,
    /// Praise or concern.
    pub sentiment: Option<Sentiment>,
    /// What was said.
    pub body: String,
    /// The client's reference in the CRM (client feedback only).
    pub client_ref: Option<String>,
    /// Where the contact happened.
    pub touchpoint: Option<Touchpoint>,
    /// Whether it keeps no trace of its author.
    pub anonymous: bool,
    /// When it was given: midnight (UTC) of its day when anonymous.
    #[serde(serialize_with = "crate::timestamp::rfc3339")]
    pub created_at: DateTime<Utc>,
}

/// What may be told of a piece of feedback to those who cannot yet read it (the audit log, the
/// `feedback.received` event): named feedback whole; anonymous feedback only that it exists,
/// about whom, and its date, since its content is shown only once enough of it has arrived.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub enum FeedbackNotice<'a> {
    /// Named feedback, as it is, with its date as the API shows it.
    Named {
        /// The feedback.
        #[serde(flatten)]
        feedback: &'a Feedback,
        /// Its date.
        created_on: NaiveDate,
    },
    /// Anonymous feedback, without its content.
    Anonymous {
        /// Its id.
        id: FeedbackId,
        /// Its kind.
        kind: FeedbackKind,
        /// Whom it is about.
        subject_member_id: MemberId,
        /// Always true.
        anonymous: bool,
        /// Its date.
        created_on: NaiveDate,
    },
}

impl Feedback {
    /// What may be told of it to those who cannot yet read it.
    pub fn notice(&self) -> FeedbackNotice<'_> {
        if self.anonymous {
            FeedbackNotice::Anonymous {
                id: self.id,
                kind: self.kind,
                subject_member_id: self.subject_member_id,
                anonymous: true,
                created_on: self.created_at.date_naive(),
            }
        } else {
            FeedbackNotice::Named {
                feedback: self,
                created_on: self.created_at.date_naive(),
            }
        }
    }
}

/// Feedback as a client sent it.
#[derive(Debug, Clone, Copy)]
pub struct RawFeedback<'a> {
    /// Kind.
    pub kind: FeedbackKind,
    /// Subject.
    pub subject_member_id: MemberId,
    /// Rating.
    pub rating: Option<i64>,
    /// I-CARE tags.
    pub icare: &'a [Icare],
    /// Sentiment.
    pub sentiment: Option<Sentiment>,
    /// Body.
    pub body: &'a str,
    /// Client reference.
    pub client_ref: Option<&'a str>,
    /// Touchpoint.
    pub touchpoint: Option<Touchpoint>,
    /// Anonymous.
    pub anonymous: bool,
}

/// Feedback validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackFields {
    kind: FeedbackKind,
    subject_member_id: MemberId,
    rating: Option<i32>,
    icare: Vec<Icare>,
    sentiment: Option<Sentiment>,
    body: String,
    client_ref: Option<String>,
    touchpoint: Option<Touchpoint>,
    anonymous: bool,
}

impl FeedbackFields {
    /// Validates every field, reporting all failures together.
    pub fn parse(raw: RawFeedback<'_>) -> DomainResult<Self> {
        let mut v = Validator::new();
        let rating = raw
            .rating
            .map(|r| v.check(crate::organization::in_range("rating", r, RATING)));
        let mut icare = Vec::with_capacity(raw.icare.len());
        for (i, tag) in raw.icare.iter().enumerate() {
            if icare.contains(tag) {
                v.fail(format!("icare[{i}]"), "repeats an earlier tag");
            } else {
                icare.push(*tag);
            }
        }
        let body = v.check(text::multi_line("body", raw.body, MAX_BODY_CHARS));
        let client_ref = raw.client_ref.map(|r| {
            if raw.kind != FeedbackKind::Client {
                v.fail("client_ref", "only client feedback names a client");
            }
            v.check(text::single_line("client_ref", r, MAX_CLIENT_REF_CHARS))
        });
        if raw.anonymous && !matches!(raw.kind, FeedbackKind::Upward | FeedbackKind::Peer) {
            v.fail(
                "anonymous",
                "only upward and peer feedback may be anonymous",
            );
        }
        // Anonymous feedback keeps what is shown of it: where or in what mood it was given
        // could tell who gave it.
        if raw.anonymous {
            if raw.sentiment.is_some() {
                v.fail(
                    "sentiment",
                    "anonymous feedback keeps only its body, rating and I-CARE tags",
                );
            }
            if raw.touchpoint.is_some() {
                v.fail(
                    "touchpoint",
                    "anonymous feedback keeps only its body, rating and I-CARE tags",
                );
            }
        }
        v.build(|| {
            Some(Self {
                kind: raw.kind,
                subject_member_id: raw.subject_member_id,
                rating: rating.map(|r| r.ok_or(())).transpose().ok()?,
                icare,
                sentiment: raw.sentiment,
                body: body?,
                client_ref: client_ref.map(|r| r.ok_or(())).transpose().ok()?,
                touchpoint: raw.touchpoint,
                anonymous: raw.anonymous,
            })
        })
    }

    /// Who gives it to whom.
    pub fn kind(&self) -> FeedbackKind {
        self.kind
    }

    /// The member it is about.
    pub fn subject_member_id(&self) -> MemberId {
        self.subject_member_id
    }

    /// Whether it must keep no trace of its author.
    pub fn anonymous(&self) -> bool {
        self.anonymous
    }

    /// The feedback these fields make, given `at` by `author` (dropped when anonymous).
    pub fn given(self, id: FeedbackId, author: Author, at: DateTime<Utc>) -> Feedback {
        Feedback {
            id,
            kind: self.kind,
            subject_member_id: self.subject_member_id,
            author: (!self.anonymous).then_some(author),
            rating: self.rating,
            icare: self.icare,
            sentiment: self.sentiment,
            body: self.body,
            client_ref: self.client_ref,
            touchpoint: self.touchpoint,
            anonymous: self.anonymous,
            created_at: at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(kind: FeedbackKind) -> RawFeedback<'static> {
        RawFeedback {
            kind,
            subject_member_id: MemberId::generate(),
            rating: Some(4),
            icare: &[Icare::Attention],
            sentiment: None,
            body: "Listened and fixed it on the spot.",
            client_ref: None,
            touchpoint: None,
            anonymous: false,
        }
    }

    fn refused_fields(raw: RawFeedback<'_>) -> Vec<String> {
        FeedbackFields::parse(raw)
            .unwrap_err()
            .field_errors()
            .iter()
            .map(|e| e.field.clone())
            .collect()
    }

    #[test]
    fn only_upward_and_peer_feedback_may_be_anonymous() {
        for kind in [FeedbackKind::Upward, FeedbackKind::Peer] {
            let mut anonymous = raw(kind);
            anonymous.anonymous = true;
            assert!(FeedbackFields::parse(anonymous).is_ok());
        }
        for kind in [FeedbackKind::Client, FeedbackKind::Manager] {
            let mut anonymous = raw(kind);
            anonymous.anonymous = true;
            assert_eq!(refused_fields(anonymous), ["anonymous"]);
        }
    }

    #[test]
    fn ratings_tags_and_client_refs_are_checked() {
        let mut bad = raw(FeedbackKind::Peer);
        bad.rating = Some(6);
        bad.icare = &[Icare::Empathy, Icare::Empathy];
        bad.client_ref = Some("C-1");
        assert_eq!(refused_fields(bad), ["rating", "icare[1]", "client_ref"]);
        let mut client = raw(FeedbackKind::Client);
        client.client_ref = Some("C-1");
        assert!(FeedbackFields::parse(client).is_ok());
    }

    #[test]
    fn anonymous_feedback_keeps_no_author_and_its_notice_no_content() {
        let mut raw = raw(FeedbackKind::Upward);
        raw.anonymous = true;
        let author = Author {
            member_id: Some(MemberId::generate()),
            role: "staff".into(),
            subject: "someone".into(),
        };
        let given =
            FeedbackFields::parse(raw)
                .unwrap()
                .given(FeedbackId::generate(), author, Utc::now());
        assert_eq!(given.author, None);
        let notice = serde_json::to_value(given.notice()).unwrap();
        assert!(
            notice.get("body").is_none() && notice.get("rating").is_none(),
            "{notice}"
        );
        assert_eq!(notice["anonymous"], true);
    }
}
