//! Satisfaction scores. A score names its team as it stood when recorded (the member's team
//! then, unless the sender named one), so a member who moves later does not carry their scores
//! along. `(source, external_id)` makes a repeat a repeat: recording it again returns the first
//! record, under any concurrency (the unique key decides; `ON CONFLICT DO NOTHING` waits for the
//! other writer and then yields to it). Employee scores are written through an untraced change
//! and name no one; they are read only in aggregate (reports), never one by one.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use circulo_domain::feedback::Touchpoint;
use circulo_domain::page::{Page, PageRequest};
use circulo_domain::reach::Reach;
use circulo_domain::score::{Audience, IcareScores, Instrument, Recorder, Score, ScoreFields};
use circulo_domain::{DecisionId, DomainError, MemberId, OrgId, ScoreId, TeamId};

use crate::conn::DbConn;
use crate::error::{StoreError, StoreResult, corrupt};
use crate::members::member_exists;
use crate::organizations;
use crate::rows::{after_id, id_page, parse_id, parse_opt_id, store_handles};
use crate::schema::{decisions as dc, members as m, satisfaction_scores as s};
use crate::teams::team_exists;
use crate::time::{from_db, to_db};

#[derive(Queryable, Selectable, Insertable)]
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
    pub fn record(
        self,
        org: OrgId,
        fields: ScoreFields,
        by: &ScoreRecorder,
    ) -> StoreResult<Recorded> {
        let tx = self.0;
        let thresholds = organizations::find(tx.conn(), org)?
            .settings
            .low_score_thresholds;
        record_one(tx, org, fields, by, &thresholds)
    }

    /// Records a batch in this one transaction, each item on its own: an item refused (its
    /// fields, or a reference this organization does not have) is reported and changes nothing,
    /// the others are recorded. A repeat, of an earlier record or of an earlier item of the
    /// batch, is a duplicate.
    pub fn record_batch(
        self,
        org: OrgId,
        items: Vec<Result<ScoreFields, DomainError>>,
        by: &ScoreRecorder,
    ) -> StoreResult<Vec<Result<Recorded, DomainError>>> {
        let tx = self.0;
        let thresholds = organizations::find(tx.conn(), org)?
            .settings
            .low_score_thresholds;
        let mut outcomes = Vec::with_capacity(items.len());
        for item in items {
            outcomes.push(match item {
                Err(refused) => Err(refused),
                Ok(fields) => match record_one(tx, org, fields, by, &thresholds) {
                    Ok(recorded) => Ok(recorded),
                    Err(StoreError::Rule(refused)) => Err(refused),
                    Err(other) => return Err(other),
                },
            });
        }
        Ok(outcomes)
    }
}

fn record_one(
    tx: &mut crate::tx::WriteTx<'_>,
    org: OrgId,
    mut fields: ScoreFields,
    by: &ScoreRecorder,
    thresholds: &circulo_domain::organization::LowScoreThresholds,
) -> StoreResult<Recorded> {
    check_may_record(by, &fields)?;
    // Every check reads before anything is written, so a refused item leaves the transaction
    // as it was (on PostgreSQL a failed statement would end it for the whole batch).
    if let Some(member) = fields.member_id {
        let team = member_team(tx.conn(), org, member)?;
        if fields.team_id.is_none() {
            fields.team_id = team;
        }
    }
    if let Some(team) = fields.team_id
        && !team_exists(tx.conn(), org, team)?
    {
        return Err(invalid(
            "team_id",
            "no team with this id in the organization",
        ));
    }
    if let Some(decision) = fields.decision_id
        && !decision_exists(tx.conn(), org, decision)?
    {
        return Err(invalid(
            "decision_id",
            "no decision with this id in the organization",
        ));
    }
    if let Some(first) = find_repeat(tx.conn(), org, &fields)? {
        return Ok(Recorded::Duplicate(first));
    }
    let recorded_by = match (fields.audience, by) {
        (Audience::Employee, _) => None,
        (_, ScoreRecorder::Anyone(r) | ScoreRecorder::Member { recorder: r, .. }) => {
            Some(r.clone())
        }
    };
    let score = Score {
        id: ScoreId::from_uuid(tx.new_uuid()),
        fields,
        recorded_by,
        created_at: tx.now(),
    };
    let row = ScoreRow::from_domain(org, &score);
    let inserted = {
        let insert = diesel::insert_into(s::table)
            .values(&row)
            .on_conflict((s::org_id, s::source, s::external_id))
            .do_nothing();
        // diesel's MultiConnection backend has no ON CONFLICT: run it on the connection below.
        match tx.conn() {
            DbConn::Pg(conn) => insert.execute(conn)?,
            DbConn::Sqlite(conn) => insert.execute(conn)?,
        }
    };
    if inserted == 0 {
        // Another request recorded the same (source, external_id) and committed meanwhile.
        return find_repeat(tx.conn(), org, &score.fields)?
            .map(Recorded::Duplicate)
            .ok_or_else(|| StoreError::Conflict("the score was recorded meanwhile; retry".into()));
    }
    let notice = ScoreNotice::of(&score);
    tx.record(
        org,
        "score.recorded",
        "satisfaction_score",
        &score.id.to_string(),
        &notice,
    )?;
    tx.emit(org, "score.recorded", &notice)?;
    if score
        .fields
        .instrument
        .is_detractor(score.fields.score, thresholds)
    {
        tx.emit(org, "score.detractor", &notice)?;
    }
    Ok(Recorded::Created(score))
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

fn check_may_record(by: &ScoreRecorder, fields: &ScoreFields) -> StoreResult<()> {
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
            _ => Err(invalid(
                "team_id",
                "members record employee scores for their own team",
            )),
        },
        Audience::Client if !records_clients => Err(StoreError::Rule(DomainError::Forbidden(
            "client scores are recorded by owners, managers and integrations",
        ))),
        Audience::Client => {
            if let Some(member) = fields.member_id
                && !(member == reach.member() || reach.manages(member))
            {
                return Err(invalid(
                    "member_id",
                    "managers record client scores about themselves and the people under them",
                ));
            }
            if let Some(team) = fields.team_id
                && !(reach.is_in(team) || reach.manages_team(team))
            {
                return Err(invalid(
                    "team_id",
                    "managers record client scores about their teams and those under them",
                ));
            }
            Ok(())
        }
    }
}

/// The team member `member` of `org` is in now; refused when there is no such member.
fn member_team(conn: &mut DbConn, org: OrgId, member: MemberId) -> StoreResult<Option<TeamId>> {
    let team: Option<Option<String>> = m::table
        .filter(m::org_id.eq(org.to_string()))
        .filter(m::id.eq(member.to_string()))
        .select(m::team_id)
        .first(conn)
        .optional()?;
    match team {
        None if !member_exists(conn, org, member)? => Err(invalid(
            "member_id",
            "no member with this id in the organization",
        )),
        team => parse_opt_id("team id", team.flatten().as_deref()),
    }
}

fn decision_exists(conn: &mut DbConn, org: OrgId, id: DecisionId) -> StoreResult<bool> {
    let found: Option<String> = dc::table
        .filter(dc::org_id.eq(org.to_string()))
        .filter(dc::id.eq(id.to_string()))
        .select(dc::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
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

fn invalid(field: &str, message: &str) -> StoreError {
    StoreError::Rule(DomainError::invalid(field, message))
}
