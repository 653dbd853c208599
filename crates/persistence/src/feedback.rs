//! Feedback. Who may give which kind about whom needs the reporting lines, so it is decided here;
//! so is what a reader sees: the subject, the people above them and owners read feedback about
//! them (integrations: client feedback), and anonymous feedback about a subject is shown only
//! once the subject has at least the organization's `anonymity_threshold` of it in the window
//! read. Anonymous feedback is written through an untraced change, so its row, audit entry,
//! outbox event and idempotency record keep no author and no time finer than the date.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Double, Integer, Nullable, Text, Timestamp};

use circulo_domain::feedback::{
    Author, Feedback, FeedbackFields, FeedbackKind, Icare, Sentiment, Touchpoint,
};
use circulo_domain::page::{Page, PageRequest};
use circulo_domain::principal::Role;
use circulo_domain::reach::Reach;
use circulo_domain::{DomainError, FeedbackId, MemberId, OrgId};

use crate::conn::DbConn;
use crate::dialect::{ANONYMOUS_GROUPS_SHOWN, FEEDBACK_SUMMARY};
use crate::error::{StoreError, StoreResult, corrupt};
use crate::hierarchy::manages;
use crate::members::check_active_member;
use crate::organizations;
use crate::rows::{after_id, id_page, parse_id, parse_opt_id, snapshot, store_handles};
use crate::schema::{feedback as f, members as m, teams as t};
use crate::time::{from_db, to_db, today};

// `treat_none_as_default_value = false`: a `None` binds NULL instead of writing DEFAULT, so the
// INSERT's SQL is the same every time and diesel keeps it prepared.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = f, treat_none_as_default_value = false)]
struct FeedbackRow {
    org_id: String,
    id: String,
    kind: String,
    subject_member_id: String,
    author_member_id: Option<String>,
    author_role: Option<String>,
    author_subject: Option<String>,
    rating: Option<i32>,
    icare: String,
    sentiment: Option<String>,
    body: String,
    client_ref: Option<String>,
    touchpoint: Option<String>,
    anonymous: bool,
    created_at: NaiveDateTime,
}

impl FeedbackRow {
    fn from_domain(org: OrgId, feedback: &Feedback) -> StoreResult<Self> {
        let author = feedback.author.as_ref();
        Ok(Self {
            org_id: org.to_string(),
            id: feedback.id.to_string(),
            kind: feedback.kind.as_str().to_owned(),
            subject_member_id: feedback.subject_member_id.to_string(),
            author_member_id: author.and_then(|a| a.member_id).map(|id| id.to_string()),
            author_role: author.map(|a| a.role.clone()),
            author_subject: author.map(|a| a.subject.clone()),
            rating: feedback.rating,
            icare: snapshot(&feedback.icare)?,
            sentiment: feedback.sentiment.map(|s| s.as_str().to_owned()),
            body: feedback.body.clone(),
            client_ref: feedback.client_ref.clone(),
            touchpoint: feedback.touchpoint.map(|t| t.as_str().to_owned()),
            anonymous: feedback.anonymous,
            created_at: to_db(feedback.created_at),
        })
    }

    fn into_domain(self) -> StoreResult<Feedback> {
        let author = match (self.author_role, self.author_subject) {
            (Some(role), Some(subject)) => Some(Author {
                member_id: parse_opt_id("author member id", self.author_member_id.as_deref())?,
                role,
                subject,
            }),
            _ => None,
        };
        let icare: Vec<Icare> =
            serde_json::from_str(&self.icare).map_err(|_| corrupt("icare", &self.icare))?;
        Ok(Feedback {
            id: parse_id("feedback id", &self.id)?,
            kind: FeedbackKind::parse(&self.kind).map_err(|_| corrupt("kind", &self.kind))?,
            subject_member_id: parse_id("subject member id", &self.subject_member_id)?,
            author,
            rating: self.rating,
            icare,
            sentiment: self
                .sentiment
                .map(|s| Sentiment::parse(&s).map_err(|_| corrupt("sentiment", &s)))
                .transpose()?,
            body: self.body,
            client_ref: self.client_ref,
            touchpoint: self
                .touchpoint
                .map(|s| Touchpoint::parse(&s).map_err(|_| corrupt("touchpoint", &s)))
                .transpose()?,
            anonymous: self.anonymous,
            created_at: from_db(self.created_at),
        })
    }
}

/// Who gives feedback: the role they act in and who they are (the author kept on named
/// feedback; `author.member_id` is the member they are, when they are one).
#[derive(Debug, Clone)]
pub struct Giver {
    /// The role of their token.
    pub role: Role,
    /// Who they are.
    pub author: Author,
}

/// Who reads feedback, and so which of it they see.
#[derive(Debug, Clone)]
pub enum FeedbackReader {
    /// An owner: feedback about anyone.
    Everyone,
    /// An integration with `feedback:read`: client feedback about anyone.
    ClientFeedback,
    /// A manager or staff member: feedback about themselves and the people under them.
    Within(Reach),
}

impl FeedbackReader {
    fn sees(&self, kind: FeedbackKind, subject: MemberId) -> bool {
        match self {
            Self::Everyone => true,
            Self::ClientFeedback => kind == FeedbackKind::Client,
            Self::Within(reach) => subject == reach.member() || reach.manages(subject),
        }
    }
}

/// Which feedback a list or summary covers.
#[derive(Debug, Clone, Copy, Default)]
pub struct FeedbackFilter {
    /// Only about this member.
    pub subject_member_id: Option<MemberId>,
    /// Only of this kind.
    pub kind: Option<FeedbackKind>,
    /// Given at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Given before this instant.
    pub to: Option<DateTime<Utc>>,
}

/// One group of a subject's feedback: how much of it and its average rating, or, for anonymous
/// feedback under the organization's threshold, only that it is suppressed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackSummaryRow {
    /// The kind.
    pub kind: FeedbackKind,
    /// Whether this group is the anonymous feedback of that kind.
    pub anonymous: bool,
    /// How many; `None` when suppressed.
    pub count: Option<i64>,
    /// Their average rating, of those rated; `None` when suppressed or none is rated.
    pub average_rating: Option<f64>,
    /// Whether the figures are withheld because too few stand behind them.
    pub suppressed: bool,
}

store_handles!(feedback: FeedbackStore, FeedbackWrites);

impl FeedbackStore<'_> {
    /// Reads one piece of feedback the reader may see. Anonymous feedback whose subject has
    /// fewer than the threshold of it is not found.
    pub fn get(
        &self,
        org: OrgId,
        id: FeedbackId,
        reader: &FeedbackReader,
    ) -> StoreResult<Feedback> {
        self.0.read(|conn| {
            let feedback = f::table
                .filter(f::org_id.eq(org.to_string()))
                .filter(f::id.eq(id.to_string()))
                .select(FeedbackRow::as_select())
                .first(conn)?
                .into_domain()?;
            if !reader.sees(feedback.kind, feedback.subject_member_id) {
                return Err(forbidden(
                    "feedback is read by its subject, the people above them and owners",
                ));
            }
            if feedback.anonymous {
                let window = FeedbackFilter {
                    subject_member_id: Some(feedback.subject_member_id),
                    ..FeedbackFilter::default()
                };
                let group = group_key(&feedback.subject_member_id.to_string(), feedback.kind);
                if feedback.created_at >= today()
                    || !shown_groups(conn, org, &window)?.contains(&group)
                {
                    return Err(StoreError::NotFound);
                }
            }
            Ok(feedback)
        })
    }

    /// Lists the feedback the reader may see that matches `filter`, oldest first; anonymous
    /// feedback only of subjects with at least the threshold of it in the filter's window.
    pub fn list(
        &self,
        org: OrgId,
        filter: FeedbackFilter,
        reader: &FeedbackReader,
        page: PageRequest,
    ) -> StoreResult<Page<Feedback>> {
        self.0.read(|conn| {
            if let (Some(subject), FeedbackReader::Within(reach)) =
                (filter.subject_member_id, reader)
                && !(subject == reach.member() || reach.manages(subject))
            {
                return Err(forbidden(
                    "feedback is read by its subject, the people above them and owners",
                ));
            }
            if matches!(reader, FeedbackReader::ClientFeedback)
                && filter.kind.is_some_and(|kind| kind != FeedbackKind::Client)
            {
                return Err(forbidden("integrations read client feedback only"));
            }
            let shown = shown_groups(conn, org, &filter)?;
            let mut query = f::table.filter(f::org_id.eq(org.to_string())).into_boxed();
            match reader {
                FeedbackReader::Everyone => {}
                FeedbackReader::ClientFeedback => {
                    query = query.filter(f::kind.eq(FeedbackKind::Client.as_str()));
                }
                FeedbackReader::Within(reach) => {
                    let seen: Vec<String> = reach
                        .seen_members()
                        .iter()
                        .map(ToString::to_string)
                        .collect();
                    query = query.filter(f::subject_member_id.eq_any(seen));
                }
            }
            if let Some(subject) = filter.subject_member_id {
                query = query.filter(f::subject_member_id.eq(subject.to_string()));
            }
            if let Some(kind) = filter.kind {
                query = query.filter(f::kind.eq(kind.as_str()));
            }
            if let Some(from) = filter.from {
                query = query.filter(f::created_at.ge(to_db(from)));
            }
            if let Some(to) = filter.to {
                query = query.filter(f::created_at.lt(to_db(to)));
            }
            // Anonymous items only of groups at the threshold, and only once their day is over.
            query = query.filter(
                f::anonymous
                    .eq(false)
                    .or(f::created_at.lt(to_db(today())).and(
                        f::subject_member_id
                            .concat(":")
                            .concat(f::kind)
                            .eq_any(shown),
                    )),
            );
            let rows = after_id!(query, f::id, page)
                .select(FeedbackRow::as_select())
                .load(conn)?;
            id_page(rows, page, FeedbackRow::into_domain, |feedback| {
                feedback.id.as_uuid()
            })
        })
    }

    /// How much feedback `subject` has of each kind, named and anonymous apart, with average
    /// ratings, in one aggregate; anonymous groups under the threshold are suppressed.
    pub fn summary(
        &self,
        org: OrgId,
        subject: MemberId,
        filter: FeedbackFilter,
        reader: &FeedbackReader,
    ) -> StoreResult<Vec<FeedbackSummaryRow>> {
        self.0.read(|conn| {
            let kind = match (reader, filter.kind) {
                (FeedbackReader::ClientFeedback, None | Some(FeedbackKind::Client)) => {
                    Some(FeedbackKind::Client)
                }
                (FeedbackReader::ClientFeedback, Some(_)) => {
                    return Err(forbidden("integrations read client feedback only"));
                }
                (_, kind) => kind,
            };
            if let FeedbackReader::Within(reach) = reader
                && !(subject == reach.member() || reach.manages(subject))
            {
                return Err(forbidden(
                    "feedback is read by its subject, the people above them and owners",
                ));
            }
            if !crate::members::member_exists(conn, org, subject)? {
                return Err(StoreError::NotFound);
            }
            let threshold = organizations::find(conn, org)?.settings.anonymity_threshold;
            let groups = diesel::sql_query(FEEDBACK_SUMMARY.for_conn(conn))
                .bind::<Text, _>(org.to_string())
                .bind::<Text, _>(subject.to_string())
                .bind::<Nullable<Timestamp>, _>(filter.from.map(to_db))
                .bind::<Nullable<Timestamp>, _>(filter.to.map(to_db))
                .bind::<Nullable<Text>, _>(kind.map(FeedbackKind::as_str))
                .bind::<Timestamp, _>(to_db(today()))
                .load::<SummaryGroup>(conn)?;
            groups
                .into_iter()
                .map(|group| {
                    let kind = FeedbackKind::parse(&group.kind)
                        .map_err(|_| corrupt("feedback kind", &group.kind))?;
                    let suppressed = group.anonymous && group.n < i64::from(threshold);
                    Ok(FeedbackSummaryRow {
                        kind,
                        anonymous: group.anonymous,
                        count: (!suppressed).then_some(group.n),
                        average_rating: if suppressed { None } else { group.average },
                        suppressed,
                    })
                })
                .collect()
        })
    }
}

#[derive(QueryableByName)]
struct SummaryGroup {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Bool)]
    anonymous: bool,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Nullable<Double>)]
    average: Option<f64>,
}

#[derive(QueryableByName)]
struct GroupKey {
    #[diesel(sql_type = Text)]
    id: String,
}

/// The groups (subject and kind) whose anonymous feedback in `filter`'s window reaches the
/// organization's threshold, counting only items whose day is over: one aggregate. Grouping by
/// kind keeps a filter by kind from showing a lone item of that kind beside others.
fn shown_groups(
    conn: &mut DbConn,
    org: OrgId,
    filter: &FeedbackFilter,
) -> StoreResult<Vec<String>> {
    let threshold = organizations::find(conn, org)?.settings.anonymity_threshold;
    let rows = diesel::sql_query(ANONYMOUS_GROUPS_SHOWN.for_conn(conn))
        .bind::<Text, _>(org.to_string())
        .bind::<Nullable<Text>, _>(filter.subject_member_id.map(|s| s.to_string()))
        .bind::<Nullable<Timestamp>, _>(filter.from.map(to_db))
        .bind::<Nullable<Timestamp>, _>(filter.to.map(to_db))
        .bind::<Integer, _>(threshold)
        .bind::<Timestamp, _>(to_db(today()))
        .load::<GroupKey>(conn)?;
    Ok(rows.into_iter().map(|row| row.id).collect())
}

/// A group's key as [`shown_groups`] returns it.
fn group_key(subject: &str, kind: FeedbackKind) -> String {
    format!("{subject}:{}", kind.as_str())
}

impl FeedbackWrites<'_, '_> {
    /// Records feedback from `giver`, once the reporting lines allow it: client feedback from
    /// owners, integrations and the subject's managers; manager feedback from someone above the
    /// subject (or an owner); upward feedback from a member about someone above them or their
    /// team's lead; peer feedback from a member about someone else. Announces
    /// `feedback.received`; anonymous feedback is announced without its content.
    pub fn give(self, org: OrgId, fields: FeedbackFields, giver: Giver) -> StoreResult<Feedback> {
        let tx = self.0;
        let subject = fields.subject_member_id();
        check_active_member(tx.conn()?, org, subject, "subject_member_id")?;
        let me = giver.author.member_id;
        match (fields.kind(), giver.role, me) {
            (FeedbackKind::Client, Role::Owner | Role::Integration, _) => {}
            (FeedbackKind::Client, Role::Manager, Some(me))
                if manages(tx.conn()?, org, me, subject)? => {}
            (FeedbackKind::Client, ..) => {
                return Err(forbidden(
                    "client feedback is recorded by owners, integrations and the subject's managers",
                ));
            }
            (FeedbackKind::Manager, Role::Owner, _) => {}
            (FeedbackKind::Manager, Role::Manager, Some(me))
                if manages(tx.conn()?, org, me, subject)? => {}
            (FeedbackKind::Manager, ..) => {
                return Err(forbidden(
                    "manager feedback is given by a manager the subject reports to, or an owner",
                ));
            }
            (FeedbackKind::Upward | FeedbackKind::Peer, _, None) => {
                return Err(forbidden(
                    "upward and peer feedback are given by members, as themselves",
                ));
            }
            (FeedbackKind::Upward, _, Some(me)) => {
                if !(manages(tx.conn()?, org, subject, me)?
                    || leads_team_of(tx.conn()?, org, subject, me)?)
                {
                    return Err(invalid_subject(
                        "upward feedback is about someone you report to or your team's lead",
                    ));
                }
            }
            (FeedbackKind::Peer, _, Some(me)) => {
                if me == subject {
                    return Err(invalid_subject(
                        "peer feedback is about a colleague, not yourself",
                    ));
                }
                // Someone above the subject reads their feedback: as a peer they could pad the
                // count of anonymous items until a lone one shows.
                if manages(tx.conn()?, org, me, subject)? {
                    return Err(invalid_subject(
                        "you are above this member: give manager feedback instead",
                    ));
                }
            }
        }
        let feedback = fields.given(FeedbackId::from_uuid(tx.new_uuid()), giver.author, tx.now());
        diesel::insert_into(f::table)
            .values(FeedbackRow::from_domain(org, &feedback)?)
            .execute(tx.conn()?)?;
        let notice = feedback.notice();
        tx.record(
            org,
            "feedback.given",
            "feedback",
            &feedback.id.to_string(),
            &notice,
        )?;
        tx.emit(org, "feedback.received", &notice)?;
        Ok(feedback)
    }
}

fn forbidden(reason: &'static str) -> StoreError {
    StoreError::Rule(DomainError::Forbidden(reason))
}

fn invalid_subject(message: &str) -> StoreError {
    StoreError::Rule(DomainError::invalid("subject_member_id", message))
}

/// Whether `lead` leads the team `member` belongs to.
fn leads_team_of(
    conn: &mut DbConn,
    org: OrgId,
    lead: MemberId,
    member: MemberId,
) -> StoreResult<bool> {
    let n: i64 = m::table
        .inner_join(t::table.on(t::org_id.eq(m::org_id).and(t::id.nullable().eq(m::team_id))))
        .filter(m::org_id.eq(org.to_string()))
        .filter(m::id.eq(member.to_string()))
        .filter(t::lead_member_id.eq(lead.to_string()))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}
