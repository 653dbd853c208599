//! Satisfaction scores. A score names its team as it stood when recorded (the member's team
//! then, unless the sender named one), so a member who moves later does not carry their scores
//! along. `(source, external_id)` makes a repeat a repeat: recording it again returns the first
//! record, under any concurrency (the unique key decides; `ON CONFLICT DO NOTHING` waits for the
//! other writer and then yields to it). Employee scores are written through an untraced change
//! and name no one; they are read only in aggregate (reports), never one by one.

use std::collections::{HashMap, HashSet};

mod recording;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text, Timestamp};

use circulo_domain::feedback::Touchpoint;
use circulo_domain::organization::LowScoreThresholds;
use circulo_domain::page::{Page, PageRequest};
use circulo_domain::reach::Reach;
use circulo_domain::score::{Audience, IcareScores, Instrument, Recorder, Score, ScoreFields};
use circulo_domain::{DomainError, MemberId, OrgId, ScoreId, TeamId};

use crate::conn::{DbConn, underneath};
use crate::dialect::EARLIER_RECORDS;
use crate::error::{StoreError, StoreResult, corrupt};
use crate::organizations;
use crate::rows::{after_id, id_page, parse_id, parse_opt_id, store_handles};
use crate::schema::{decisions as dc, members as m, satisfaction_scores as s, teams as t};
use crate::time::{from_db, to_db};
use crate::unnest::unnest_insert;

#[derive(Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = s, treat_none_as_default_value = false)]
struct ScoreRow {
    org_id: String,
    id: String,
    audience: String,
    instrument: String,
    score: i32,
    member_id: Option<String>,
    team_id: Option<String>,
    client_ref: Option<String>,
    touchpoint: String,
    occurred_at: NaiveDateTime,
    source: String,
    external_id: Option<String>,
    comment: Option<String>,
    icare_ideal: Option<i32>,
    icare_culture: Option<i32>,
    icare_attention: Option<i32>,
    icare_response: Option<i32>,
    icare_empathy: Option<i32>,
    decision_id: Option<String>,
    recorded_by_role: Option<String>,
    recorded_by_subject: Option<String>,
    created_at: NaiveDateTime,
}

impl ScoreRow {
    fn from_domain(org: OrgId, score: &Score) -> Self {
        let f = &score.fields;
        Self {
            org_id: org.to_string(),
            id: score.id.to_string(),
            audience: f.audience.as_str().to_owned(),
            instrument: f.instrument.as_str().to_owned(),
            score: f.score,
            member_id: f.member_id.map(|id| id.to_string()),
            team_id: f.team_id.map(|id| id.to_string()),
            client_ref: f.client_ref.clone(),
            touchpoint: f.touchpoint.as_str().to_owned(),
            occurred_at: to_db(f.occurred_at),
            source: f.source.clone(),
            external_id: f.external_id.clone(),
            comment: f.comment.clone(),
            icare_ideal: f.icare.ideal,
            icare_culture: f.icare.culture,
            icare_attention: f.icare.attention,
            icare_response: f.icare.response,
            icare_empathy: f.icare.empathy,
            decision_id: f.decision_id.map(|id| id.to_string()),
            recorded_by_role: score.recorded_by.as_ref().map(|r| r.role.clone()),
            recorded_by_subject: score.recorded_by.as_ref().map(|r| r.subject.clone()),
            created_at: to_db(score.created_at),
        }
    }

    fn into_domain(self) -> StoreResult<Score> {
        Ok(Score {
            id: parse_id("score id", &self.id)?,
            fields: ScoreFields {
                audience: Audience::parse(&self.audience)
                    .map_err(|_| corrupt("audience", &self.audience))?,
                instrument: Instrument::parse(&self.instrument)
                    .map_err(|_| corrupt("instrument", &self.instrument))?,
                score: self.score,
                member_id: parse_opt_id("member id", self.member_id.as_deref())?,
                team_id: parse_opt_id("team id", self.team_id.as_deref())?,
                client_ref: self.client_ref,
                touchpoint: Touchpoint::parse(&self.touchpoint)
                    .map_err(|_| corrupt("touchpoint", &self.touchpoint))?,
                occurred_at: from_db(self.occurred_at),
                source: self.source,
                external_id: self.external_id,
                comment: self.comment,
                icare: IcareScores {
                    ideal: self.icare_ideal,
                    culture: self.icare_culture,
                    attention: self.icare_attention,
                    response: self.icare_response,
                    empathy: self.icare_empathy,
                },
                decision_id: parse_opt_id("decision id", self.decision_id.as_deref())?,
            },
            recorded_by: match (self.recorded_by_role, self.recorded_by_subject) {
                (Some(role), Some(subject)) => Some(Recorder { role, subject }),
                _ => None,
            },
            created_at: from_db(self.created_at),
        })
    }
}

/// Whom a caller may record scores about.
#[derive(Debug, Clone)]
pub enum ScoreRecorder {
    /// An owner or an integration with `scores:write`: any member and team.
    Anyone(Recorder),
    /// A manager or staff member: employee scores for their own team; a manager also client
    /// scores about themselves, the people under them and those people's teams.
    Member {
        /// Who they are.
        recorder: Recorder,
        /// Their reach (a staff member's has no reports).
        reach: Reach,
        /// Whether they may record client scores (managers).
        records_clients: bool,
    },
}

/// Which scores a list returns (client scores only: employee scores are read in aggregate).
#[derive(Debug, Clone, Copy, Default)]
pub struct ScoreFilter {
    /// Only of this instrument.
    pub instrument: Option<Instrument>,
    /// Only about this member.
    pub member_id: Option<MemberId>,
    /// Only about this team.
    pub team_id: Option<TeamId>,
    /// Only at this touchpoint.
    pub touchpoint: Option<Touchpoint>,
    /// Contacts at or after.
    pub from: Option<DateTime<Utc>>,
    /// Contacts before.
    pub to: Option<DateTime<Utc>>,
}

/// What recording one score came to.
#[derive(Debug, Clone)]
pub enum Recorded {
    /// A new score.
    Created(Score),
    /// A repeat of `(source, external_id)`: the first record.
    Duplicate(Score),
}

impl Recorded {
    /// The score, new or first.
    pub fn score(&self) -> &Score {
        match self {
            Self::Created(score) | Self::Duplicate(score) => score,
        }
    }
}

store_handles!(scores: ScoreStore, ScoreWrites);

impl ScoreStore<'_> {
    /// Reads a client score; within `reach` when given. Employee scores are not read one by one.
    pub fn get(&self, org: OrgId, id: ScoreId, reach: Option<&Reach>) -> StoreResult<Score> {
        self.0.read(|conn| {
            let score = s::table
                .filter(s::org_id.eq(org.to_string()))
                .filter(s::id.eq(id.to_string()))
                .filter(s::audience.eq(Audience::Client.as_str()))
                .select(ScoreRow::as_select())
                .first(conn)?
                .into_domain()?;
            if let Some(reach) = reach
                && !sees(reach, &score.fields)
            {
                return Err(StoreError::NotFound);
            }
            Ok(score)
        })
    }

    /// Lists client scores matching `filter`, oldest recorded first; within `reach` when given.
    pub fn list(
        &self,
        org: OrgId,
        filter: ScoreFilter,
        reach: Option<&Reach>,
        page: PageRequest,
    ) -> StoreResult<Page<Score>> {
        self.0.read(|conn| {
            let mut query = s::table
                .filter(s::org_id.eq(org.to_string()))
                .filter(s::audience.eq(Audience::Client.as_str()))
                .into_boxed();
            if let Some(reach) = reach {
                let members: Vec<String> = reach
                    .seen_members()
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                let teams: Vec<String> =
                    reach.seen_teams().iter().map(ToString::to_string).collect();
                query = query.filter(
                    s::member_id
                        .eq_any(members)
                        .or(s::member_id.is_null().and(s::team_id.eq_any(teams))),
                );
            }
            if let Some(instrument) = filter.instrument {
                query = query.filter(s::instrument.eq(instrument.as_str()));
            }
            if let Some(member) = filter.member_id {
                query = query.filter(s::member_id.eq(member.to_string()));
            }
            if let Some(team) = filter.team_id {
                query = query.filter(s::team_id.eq(team.to_string()));
            }
            if let Some(touchpoint) = filter.touchpoint {
                query = query.filter(s::touchpoint.eq(touchpoint.as_str()));
            }
            if let Some(from) = filter.from {
                query = query.filter(s::occurred_at.ge(to_db(from)));
            }
            if let Some(to) = filter.to {
                query = query.filter(s::occurred_at.lt(to_db(to)));
            }
            let rows = after_id!(query, s::id, page)
                .select(ScoreRow::as_select())
                .load(conn)?;
            id_page(rows, page, ScoreRow::into_domain, |score| {
                score.id.as_uuid()
            })
        })
    }
}

/// Whether a manager or staff member reading sees a client score: about them or the people
/// under them, or (naming no member) about their or those people's teams.
fn sees(reach: &Reach, fields: &ScoreFields) -> bool {
    match (fields.member_id, fields.team_id) {
        (Some(member), _) => member == reach.member() || reach.manages(member),
        (None, Some(team)) => reach.is_in(team) || reach.manages_team(team),
        (None, None) => false,
    }
}

impl ScoreWrites<'_, '_> {
    /// Records one score, or finds the first record of its `(source, external_id)`. Announces
    /// `score.recorded`, and `score.detractor` when it is low by the organization's thresholds.
    /// One statement checks what the score refers to and writes it with its audit entry and
    /// events (`recording`); only a repeat reads again, for the first record.
    pub fn record(
        self,
        org: OrgId,
        fields: ScoreFields,
        by: &ScoreRecorder,
    ) -> StoreResult<Recorded> {
        let tx = self.0;
        check_may_record(by, &fields).map_err(StoreError::Rule)?;
        let mut score = new_score(tx, fields, by);
        let announced = recording::Announcements::of(tx, org, &score)?;
        let row = ScoreRow::from_domain(org, &score);
        match recording::record(tx, &row, score.fields.instrument, &announced)? {
            recording::Outcome::Created(team) => {
                score.fields.team_id = team;
                Ok(Recorded::Created(score))
            }
            recording::Outcome::Refused(refused) => Err(StoreError::Rule(refused)),
            // Recorded before, or by another request that committed meanwhile.
            recording::Outcome::Repeat => find_repeat(tx.read_conn()?, org, &score.fields)?
                .map(Recorded::Duplicate)
                .ok_or_else(|| {
                    StoreError::Conflict("the score was recorded meanwhile; retry".into())
                }),
        }
    }

    /// Records a batch in this one transaction, each item on its own: an item refused (its
    /// fields, or a reference this organization does not have) is reported and changes nothing,
    /// the others are recorded. A repeat, of an earlier record or of an earlier item of the
    /// batch, is a duplicate. A fixed number of statements whatever the batch's size: one read
    /// per kind of reference, one for earlier records, then one insert each for the scores,
    /// their audit entries and their events. Every read comes before any write, so a refused
    /// item leaves the transaction usable (a failed statement would end it on PostgreSQL).
    pub fn record_batch(
        self,
        org: OrgId,
        items: Vec<Result<ScoreFields, DomainError>>,
        by: &ScoreRecorder,
    ) -> StoreResult<Vec<Result<Recorded, DomainError>>> {
        let tx = self.0;
        let thresholds = organizations::find(tx.conn()?, org)?
            .settings
            .low_score_thresholds;
        let mut items: Vec<Result<ScoreFields, DomainError>> = items
            .into_iter()
            .map(|item| item.and_then(|fields| check_may_record(by, &fields).map(|()| fields)))
            .collect();
        resolve_references(tx.conn()?, org, &mut items)?;

        // Earlier records of the batch's (source, external_id), and repeats within it.
        let earlier = earlier_records(tx.conn()?, org, &items)?;
        let mut first_in_batch: HashMap<(String, String), usize> = HashMap::new();
        let mut outcomes: Vec<Option<Result<Recorded, DomainError>>> =
            Vec::with_capacity(items.len());
        let mut repeats: Vec<(usize, usize)> = Vec::new();
        let mut fresh: Vec<(usize, Score)> = Vec::new();
        for (index, item) in items.into_iter().enumerate() {
            let fields = match item {
                Ok(fields) => fields,
                Err(refused) => {
                    outcomes.push(Some(Err(refused)));
                    continue;
                }
            };
            if let Some(key) = natural_key(&fields) {
                if let Some(first) = earlier.get(&key) {
                    outcomes.push(Some(Ok(Recorded::Duplicate(first.clone()))));
                    continue;
                }
                if let Some(&first) = first_in_batch.get(&key) {
                    repeats.push((index, first));
                    outcomes.push(None);
                    continue;
                }
                first_in_batch.insert(key, index);
            }
            fresh.push((index, new_score(tx, fields, by)));
            outcomes.push(None);
        }

        let inserted = insert_scores(tx.conn()?, org, &fresh)?;
        let mut created = Vec::with_capacity(fresh.len());
        for (index, score) in fresh {
            if inserted.contains(&score.id.to_string()) {
                created.push((index, score));
            } else {
                // Another request recorded the same (source, external_id) and committed meanwhile.
                let first = find_repeat(tx.conn()?, org, &score.fields)?.ok_or_else(|| {
                    StoreError::Conflict("the score was recorded meanwhile; retry".into())
                })?;
                outcomes[index] = Some(Ok(Recorded::Duplicate(first)));
            }
        }
        announce(tx, org, &created, &thresholds)?;
        for (index, score) in created {
            outcomes[index] = Some(Ok(Recorded::Created(score)));
        }
        for (index, first) in repeats {
            let duplicate = match &outcomes[first] {
                Some(Ok(recorded)) => Ok(Recorded::Duplicate(recorded.score().clone())),
                _ => {
                    return Err(StoreError::Corrupt(
                        "a repeat of an item not recorded".into(),
                    ));
                }
            };
            outcomes[index] = Some(duplicate);
        }
        outcomes
            .into_iter()
            .map(|o| o.ok_or_else(|| StoreError::Corrupt("a batch item left unanswered".into())))
            .collect()
    }
}

/// Writes the audit entries of the scores just created and their events (`score.recorded`, and
/// `score.detractor` for the low ones), one statement each.
fn announce(
    tx: &mut crate::tx::WriteTx<'_>,
    org: OrgId,
    created: &[(usize, Score)],
    thresholds: &LowScoreThresholds,
) -> StoreResult<()> {
    let notices: Vec<(String, ScoreNotice<'_>)> = created
        .iter()
        .map(|(_, score)| (score.id.to_string(), ScoreNotice::of(score)))
        .collect();
    tx.record_all(org, "score.recorded", "satisfaction_score", &notices)?;
    let mut events: Vec<(&str, &ScoreNotice<'_>)> = Vec::with_capacity(notices.len() * 2);
    for ((_, score), (_, notice)) in created.iter().zip(&notices) {
        events.push(("score.recorded", notice));
        if is_detractor(score, thresholds) {
            events.push(("score.detractor", notice));
        }
    }
    tx.emit_all(org, &events)
}

/// A new score of `fields`, recorded by `by` (an employee score keeps no recorder).
fn new_score(tx: &crate::tx::WriteTx<'_>, fields: ScoreFields, by: &ScoreRecorder) -> Score {
    let recorded_by = match (fields.audience, by) {
        (Audience::Employee, _) => None,
        (_, ScoreRecorder::Anyone(r) | ScoreRecorder::Member { recorder: r, .. }) => {
            Some(r.clone())
        }
    };
    Score {
        id: ScoreId::from_uuid(tx.new_uuid()),
        fields,
        recorded_by,
        created_at: tx.now(),
    }
}

/// Whether `score` is low enough to announce `score.detractor`.
fn is_detractor(score: &Score, thresholds: &LowScoreThresholds) -> bool {
    score
        .fields
        .instrument
        .is_detractor(score.fields.score, thresholds)
}

/// `(source, external_id)`, when the score has an external id.
fn natural_key(fields: &ScoreFields) -> Option<(String, String)> {
    fields
        .external_id
        .as_ref()
        .map(|id| (fields.source.clone(), id.clone()))
}

/// The distinct ids `pick` finds among the valid items.
fn distinct(
    items: &[Result<ScoreFields, DomainError>],
    pick: impl Fn(&ScoreFields) -> Option<String>,
) -> Vec<String> {
    let mut ids: Vec<String> = items.iter().flatten().filter_map(pick).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Checks every item's member, team and decision with one read per kind, filling in a member's
/// team where none was named; an item naming one this organization does not have is refused.
fn resolve_references(
    conn: &mut DbConn,
    org: OrgId,
    items: &mut [Result<ScoreFields, DomainError>],
) -> StoreResult<()> {
    let members = distinct(items, |f| f.member_id.map(|id| id.to_string()));
    let member_teams: HashMap<String, Option<String>> = if members.is_empty() {
        HashMap::new()
    } else {
        m::table
            .filter(m::org_id.eq(org.to_string()))
            .filter(m::id.eq_any(members))
            .select((m::id, m::team_id))
            .load::<(String, Option<String>)>(conn)?
            .into_iter()
            .collect()
    };
    for item in items.iter_mut() {
        let Ok(fields) = item else { continue };
        let Some(member) = fields.member_id else {
            continue;
        };
        match member_teams.get(&member.to_string()) {
            None => {
                *item = Err(DomainError::invalid(
                    "member_id",
                    "no member with this id in the organization",
                ));
            }
            Some(team) if fields.team_id.is_none() => {
                fields.team_id = parse_opt_id("team id", team.as_deref())?;
            }
            Some(_) => {}
        }
    }
    let teams = distinct(items, |f| f.team_id.map(|id| id.to_string()));
    let known_teams: HashSet<String> = if teams.is_empty() {
        HashSet::new()
    } else {
        t::table
            .filter(t::org_id.eq(org.to_string()))
            .filter(t::id.eq_any(teams))
            .select(t::id)
            .load::<String>(conn)?
            .into_iter()
            .collect()
    };
    let decisions = distinct(items, |f| f.decision_id.map(|id| id.to_string()));
    let known_decisions: HashSet<String> = if decisions.is_empty() {
        HashSet::new()
    } else {
        dc::table
            .filter(dc::org_id.eq(org.to_string()))
            .filter(dc::id.eq_any(decisions))
            .select(dc::id)
            .load::<String>(conn)?
            .into_iter()
            .collect()
    };
    for item in items.iter_mut() {
        let Ok(fields) = item else { continue };
        if fields
            .team_id
            .is_some_and(|team| !known_teams.contains(&team.to_string()))
        {
            *item = Err(DomainError::invalid(
                "team_id",
                "no team with this id in the organization",
            ));
        } else if fields
            .decision_id
            .is_some_and(|decision| !known_decisions.contains(&decision.to_string()))
        {
            *item = Err(DomainError::invalid(
                "decision_id",
                "no decision with this id in the organization",
            ));
        }
    }
    Ok(())
}

/// The first records of the items' `(source, external_id)`, in one read. The keys go in as one
/// JSON parameter joined to the unique index, in a statement planned with them each time: a
/// prepared `IN` list would get a generic plan, made while the table was small, that later scans
/// the organization's rows for every batch.
fn earlier_records(
    conn: &mut DbConn,
    org: OrgId,
    items: &[Result<ScoreFields, DomainError>],
) -> StoreResult<HashMap<(String, String), Score>> {
    let mut keys: Vec<(String, String)> = items.iter().flatten().filter_map(natural_key).collect();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    keys.sort_unstable();
    keys.dedup();
    let keys = crate::rows::snapshot(&keys)?;
    let rows = diesel::sql_query(EARLIER_RECORDS.for_conn(conn))
        .bind::<diesel::sql_types::Text, _>(org.to_string())
        .bind::<diesel::sql_types::Text, _>(keys)
        .load::<ScoreRow>(conn)?;
    let mut found = HashMap::new();
    for row in rows {
        let score = row.into_domain()?;
        if let Some(key) = natural_key(&score.fields) {
            found.insert(key, score);
        }
    }
    Ok(found)
}

/// Inserts the scores in one statement, yielding to any row of the same `(source,
/// external_id)` committed meanwhile; returns the ids actually inserted.
fn insert_scores(
    conn: &mut DbConn,
    org: OrgId,
    scores: &[(usize, Score)],
) -> StoreResult<HashSet<String>> {
    if scores.is_empty() {
        return Ok(HashSet::new());
    }
    let rows: Vec<ScoreRow> = scores
        .iter()
        .map(|(_, score)| ScoreRow::from_domain(org, score))
        .collect();
    // One row keeps the single-row INSERT, which diesel prepares once per connection.
    let ids: Vec<String> = if let [row] = rows.as_slice() {
        let insert = diesel::insert_into(s::table)
            .values(row)
            .on_conflict((s::org_id, s::source, s::external_id))
            .do_nothing()
            .returning(s::id);
        underneath!(conn, |c| insert.get_results(c))?
    } else if let DbConn::Pg(pg) = conn {
        ScoreColumns::of(&rows).get_results(pg)?
    } else {
        let insert = diesel::insert_into(s::table)
            .values(&rows)
            .on_conflict((s::org_id, s::source, s::external_id))
            .do_nothing()
            .returning(s::id);
        underneath!(conn, |c| insert.get_results(c))?
    };
    Ok(ids.into_iter().collect())
}

unnest_insert! {
    /// A batch's scores as columns, yielding to any row of the same `(source, external_id)`.
    ScoreColumns: ScoreRow => "satisfaction_scores",
        "ON CONFLICT (org_id, source, external_id) DO NOTHING RETURNING id", {
        org_id: Text => String,
        id: Text => String,
        audience: Text => String,
        instrument: Text => String,
        score: Integer => i32,
        member_id: Nullable<Text> => Option<String>,
        team_id: Nullable<Text> => Option<String>,
        client_ref: Nullable<Text> => Option<String>,
        touchpoint: Text => String,
        occurred_at: Timestamp => NaiveDateTime,
        source: Text => String,
        external_id: Nullable<Text> => Option<String>,
        comment: Nullable<Text> => Option<String>,
        icare_ideal: Nullable<Integer> => Option<i32>,
        icare_culture: Nullable<Integer> => Option<i32>,
        icare_attention: Nullable<Integer> => Option<i32>,
        icare_response: Nullable<Integer> => Option<i32>,
        icare_empathy: Nullable<Integer> => Option<i32>,
        decision_id: Nullable<Text> => Option<String>,
        recorded_by_role: Nullable<Text> => Option<String>,
        recorded_by_subject: Nullable<Text> => Option<String>,
        created_at: Timestamp => NaiveDateTime,
    }
}

impl diesel::query_builder::Query for ScoreColumns {
    type SqlType = Text;
}

/// What the audit log and events carry of a score: all of a client score; of an employee score
/// what reports show of it (its team, instrument, score and day), never a comment.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum ScoreNotice<'a> {
    Client(&'a Score),
    Employee {
        id: ScoreId,
        audience: Audience,
        instrument: Instrument,
        score: i32,
        team_id: Option<TeamId>,
        touchpoint: Touchpoint,
        occurred_on: chrono::NaiveDate,
    },
}

impl<'a> ScoreNotice<'a> {
    fn of(score: &'a Score) -> Self {
        let f = &score.fields;
        match f.audience {
            Audience::Client => Self::Client(score),
            Audience::Employee => Self::Employee {
                id: score.id,
                audience: f.audience,
                instrument: f.instrument,
                score: f.score,
                team_id: f.team_id,
                touchpoint: f.touchpoint,
                occurred_on: f.occurred_at.date_naive(),
            },
        }
    }
}

fn check_may_record(by: &ScoreRecorder, fields: &ScoreFields) -> Result<(), DomainError> {
    let ScoreRecorder::Member {
        reach,
        records_clients,
        ..
    } = by
    else {
        return Ok(());
    };
    match fields.audience {
        Audience::Employee => match fields.team_id {
            Some(team) if reach.is_in(team) => Ok(()),
            _ => Err(DomainError::invalid(
                "team_id",
                "members record employee scores for their own team",
            )),
        },
        Audience::Client if !records_clients => Err(DomainError::Forbidden(
            "client scores are recorded by owners, managers and integrations",
        )),
        Audience::Client => {
            if let Some(member) = fields.member_id
                && !(member == reach.member() || reach.manages(member))
            {
                return Err(DomainError::invalid(
                    "member_id",
                    "managers record client scores about themselves and the people under them",
                ));
            }
            if let Some(team) = fields.team_id
                && !(reach.is_in(team) || reach.manages_team(team))
            {
                return Err(DomainError::invalid(
                    "team_id",
                    "managers record client scores about their teams and those under them",
                ));
            }
            Ok(())
        }
    }
}

/// The first record of `fields`' `(source, external_id)`, when it has an external id.
fn find_repeat(conn: &mut DbConn, org: OrgId, fields: &ScoreFields) -> StoreResult<Option<Score>> {
    let Some(external_id) = &fields.external_id else {
        return Ok(None);
    };
    s::table
        .filter(s::org_id.eq(org.to_string()))
        .filter(s::source.eq(&fields.source))
        .filter(s::external_id.eq(external_id))
        .select(ScoreRow::as_select())
        .first(conn)
        .optional()?
        .map(ScoreRow::into_domain)
        .transpose()
}
