//! One score as one statement on PostgreSQL. The statement reads what the score refers to (the
//! organization's thresholds, the member and their team, the team, the decision), inserts the
//! score only when every reference it names belongs to the organization (yielding to a record
//! of the same `(source, external_id)`), and writes its audit entry, its `score.recorded` event
//! and, when the score is low by the organization's thresholds, its `score.detractor` event,
//! each reading the insert's `RETURNING`, so they are written exactly when the score is.
//! Outside a transaction it commits on its own: a score POST is one round trip.
//!
//! The score's team may be its member's, known only to the statement, and its audit entry and
//! events show it. They are serialized here with no team, split around that `null`, and the
//! statement writes the team the insert chose between the two halves: the view stays defined
//! once (serde), with no JSON built in SQL.
//!
//! SQLite, in process, runs the same steps as separate statements in its transaction.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Bool, Integer, Nullable, Text, Timestamp};

use circulo_domain::organization::LowScoreThresholds;
use circulo_domain::score::{Instrument, LowSide, Score};
use circulo_domain::{DomainError, OrgId, TeamId};

use super::{ScoreNotice, ScoreRow};
use crate::announced::{Spliced, push_audit_from, push_event_from};
use crate::conn::DbConn;
use crate::error::{StoreError, StoreResult};
use crate::organizations::OrganizationRow;
use crate::rows::parse_opt_id;
use crate::schema::{
    decisions as dc, members as m, organizations as o, satisfaction_scores as s, teams as t,
};
use crate::tx::{NewAuditRow, NewOutboxRow, WriteTx, insert_audit_entries, insert_outbox_entries};

/// What recording one score writes beside its row, each with its JSON split around the team.
pub(super) struct Announcements {
    audit: NewAuditRow,
    audit_changes: Halves,
    recorded: NewOutboxRow,
    recorded_payload: Halves,
    detractor: NewOutboxRow,
    detractor_payload: Halves,
}

impl Announcements {
    /// The audit entry and both events `score` may need, written as if it had no team.
    pub(super) fn of(tx: &WriteTx<'_>, org: OrgId, score: &Score) -> StoreResult<Self> {
        let mut teamless = score.clone();
        teamless.fields.team_id = None;
        let notice = ScoreNotice::of(&teamless);
        let id = score.id.to_string();
        let audit = tx.audit_entry(org, "score.recorded", "satisfaction_score", &id, &notice)?;
        let recorded = tx.outbox_entry(org, "score.recorded", &notice)?;
        let detractor = tx.outbox_entry(org, "score.detractor", &notice)?;
        Ok(Self {
            audit_changes: Halves::around_team(audit.changes.as_deref().unwrap_or_default())?,
            recorded_payload: Halves::around_team(&recorded.payload)?,
            detractor_payload: Halves::around_team(&detractor.payload)?,
            audit,
            recorded,
            detractor,
        })
    }
}

/// A JSON text without its team's value: what comes before it and after it.
struct Halves {
    before: String,
    after: String,
}

/// The team as serde writes it when there is none. In compact JSON this text can only be the
/// key itself followed by its value: inside a string every `"` is escaped, so the closing quote
/// after `team_id` and the colon cannot come from one, and the notice has no map with keys of
/// its sender's choosing.
const NO_TEAM: &str = "\"team_id\":null";

impl Halves {
    fn around_team(json: &str) -> StoreResult<Self> {
        let (before, after) = json
            .split_once(NO_TEAM)
            .ok_or_else(|| StoreError::Corrupt("a score's notice without its team".into()))?;
        Ok(Self {
            before: format!("{before}\"team_id\":"),
            after: after.to_owned(),
        })
    }

    /// The whole text with `team` in its place (what the statement does on PostgreSQL).
    fn with(&self, team: Option<&str>) -> String {
        let value = team.map_or_else(|| "null".to_owned(), |id| format!("\"{id}\""));
        format!("{}{value}{}", self.before, self.after)
    }
}

/// What recording came to.
pub(super) enum Outcome {
    /// Written, about this team (as named, or the member's).
    Created(Option<TeamId>),
    /// A reference the organization does not have: nothing written.
    Refused(DomainError),
    /// Nothing written: a score of the same `(source, external_id)` is already recorded.
    Repeat,
}

/// Which of the score's references the organization has.
#[derive(Clone, Copy)]
struct Found {
    member: bool,
    team: bool,
    decision: bool,
}

impl Found {
    /// The first reference `row` names that was not found, refused as a batch item's would be.
    fn refusal(self, row: &ScoreRow) -> Option<DomainError> {
        let missing = if row.member_id.is_some() && !self.member {
            ("member_id", "no member with this id in the organization")
        } else if row.team_id.is_some() && !self.team {
            ("team_id", "no team with this id in the organization")
        } else if row.decision_id.is_some() && !self.decision {
            (
                "decision_id",
                "no decision with this id in the organization",
            )
        } else {
            return None;
        };
        Some(DomainError::invalid(missing.0, missing.1))
    }
}

/// Records `row` (its team as named, or its member's) with `announced`, in `tx`: one statement
/// on PostgreSQL, which commits on its own when no transaction is open.
pub(super) fn record(
    tx: &mut WriteTx<'_>,
    row: &ScoreRow,
    instrument: Instrument,
    announced: &Announcements,
) -> StoreResult<Outcome> {
    let mut outcome = None;
    tx.sole_statement(|conn| {
        let recorded = match conn {
            DbConn::Pg(pg) => record_pg(pg, row, instrument, announced)?,
            DbConn::Sqlite(_) => record_in_steps(conn, row, instrument, announced)?,
        };
        let written = matches!(recorded, Outcome::Created(_)).then_some(());
        outcome = Some(recorded);
        Ok(written)
    })?;
    outcome.ok_or_else(|| StoreError::Corrupt("a score recorded without an outcome".into()))
}

fn record_pg(
    pg: &mut diesel::PgConnection,
    row: &ScoreRow,
    instrument: Instrument,
    announced: &Announcements,
) -> StoreResult<Outcome> {
    let statement = Record {
        row,
        instrument: instrument.as_str(),
        low_at_most: instrument.low_side() == LowSide::AtMost,
        announced,
    };
    let Some((member, team, decision, created, team_id)) = statement
        .get_result::<(bool, bool, bool, bool, Option<String>)>(pg)
        .optional()?
    else {
        return Err(StoreError::NotFound);
    };
    outcome(
        row,
        Found {
            member,
            team,
            decision,
        },
        created,
        team_id,
    )
}

fn outcome(
    row: &ScoreRow,
    found: Found,
    created: bool,
    team: Option<String>,
) -> StoreResult<Outcome> {
    if let Some(refused) = found.refusal(row) {
        return Ok(Outcome::Refused(refused));
    }
    if created {
        return Ok(Outcome::Created(parse_opt_id("team id", team.as_deref())?));
    }
    Ok(Outcome::Repeat)
}

/// The same on SQLite: the references, then the score, then what announces it.
fn record_in_steps(
    conn: &mut DbConn,
    row: &ScoreRow,
    instrument: Instrument,
    announced: &Announcements,
) -> StoreResult<Outcome> {
    let (thresholds, found, member_team) = references(conn, row)?;
    if let Some(refused) = found.refusal(row) {
        return Ok(Outcome::Refused(refused));
    }
    let team = row.team_id.clone().or(member_team);
    let teamed = ScoreRow {
        team_id: team.clone(),
        ..row.clone()
    };
    let inserted = crate::conn::underneath!(conn, |c| diesel::insert_into(s::table)
        .values(&teamed)
        .on_conflict((s::org_id, s::source, s::external_id))
        .do_nothing()
        .returning(s::id)
        .get_results::<String>(c))?;
    if inserted.is_empty() {
        return Ok(Outcome::Repeat);
    }
    let team = team.as_deref();
    let audit = NewAuditRow {
        changes: Some(announced.audit_changes.with(team)),
        ..announced.audit.clone()
    };
    insert_audit_entries(conn, std::slice::from_ref(&audit))?;
    let mut events = vec![NewOutboxRow {
        payload: announced.recorded_payload.with(team),
        ..announced.recorded.clone()
    }];
    if instrument.is_detractor(row.score, &thresholds) {
        events.push(NewOutboxRow {
            payload: announced.detractor_payload.with(team),
            ..announced.detractor.clone()
        });
    }
    insert_outbox_entries(conn, &events)?;
    Ok(Outcome::Created(parse_opt_id("team id", team)?))
}

/// The organization's thresholds, which of `row`'s references it has, and the member's team,
/// in one read: the organization left-joined with one row of each, matched by id (an absent id
/// binds NULL, which matches nothing), so the query has one shape and is prepared once.
fn references(
    conn: &mut DbConn,
    row: &ScoreRow,
) -> StoreResult<(LowScoreThresholds, Found, Option<String>)> {
    let found: Option<ReferencesRow> = o::table
        .left_join(
            m::table.on(m::org_id
                .eq(o::org_id)
                .and(m::id.nullable().eq(row.member_id.clone()))),
        )
        .left_join(
            t::table.on(t::org_id
                .eq(o::org_id)
                .and(t::id.nullable().eq(row.team_id.clone()))),
        )
        .left_join(
            dc::table.on(dc::org_id
                .eq(o::org_id)
                .and(dc::id.nullable().eq(row.decision_id.clone()))),
        )
        .filter(o::org_id.eq(row.org_id.clone()))
        .select((
            OrganizationRow::as_select(),
            m::id.nullable(),
            m::team_id.nullable(),
            t::id.nullable(),
            dc::id.nullable(),
        ))
        .first(conn)
        .optional()?;
    let Some((organization, member, member_team, team, decision)) = found else {
        return Err(StoreError::NotFound);
    };
    let found = Found {
        member: member.is_some(),
        team: team.is_some(),
        decision: decision.is_some(),
    };
    let thresholds = organization.into_domain()?.settings.low_score_thresholds;
    Ok((thresholds, found, member_team))
}

/// The organization, then the member, their team, the team and the decision where found.
type ReferencesRow = (
    OrganizationRow,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

struct Record<'a> {
    row: &'a ScoreRow,
    instrument: &'static str,
    low_at_most: bool,
    announced: &'a Announcements,
}

/// The statement's identity for diesel's prepared-statement cache: its text never changes.
struct RecordStatement;

impl QueryId for Record<'_> {
    type QueryId = RecordStatement;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for Record<'_> {
    type SqlType = (Bool, Bool, Bool, Bool, Nullable<Text>);
}

impl<Conn> RunQueryDsl<Conn> for Record<'_> {}

/// The team the insert chose, as a JSON value (ids are UUIDs: nothing to escape).
const TEAM_JSON: &str = "COALESCE('\"' || inserted.team_id || '\"', 'null')";

impl QueryFragment<Pg> for Record<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let r = self.row;
        let a = self.announced;
        out.push_sql(
            "WITH context AS (SELECT o.low_score_csat_at_most, o.low_score_nps_at_most, \
             o.low_score_ces_at_least, m.id AS member_found, m.team_id AS member_team, \
             t.id AS team_found, dc.id AS decision_found FROM organizations o \
             LEFT JOIN members m ON m.org_id = o.org_id AND m.id = ",
        );
        out.push_bind_param::<Nullable<Text>, _>(&r.member_id)?;
        out.push_sql(" LEFT JOIN teams t ON t.org_id = o.org_id AND t.id = ");
        out.push_bind_param::<Nullable<Text>, _>(&r.team_id)?;
        out.push_sql(" LEFT JOIN decisions dc ON dc.org_id = o.org_id AND dc.id = ");
        out.push_bind_param::<Nullable<Text>, _>(&r.decision_id)?;
        out.push_sql(" WHERE o.org_id = ");
        out.push_bind_param::<Text, _>(&r.org_id)?;
        out.push_sql(
            "), inserted AS (INSERT INTO satisfaction_scores (org_id, id, audience, instrument, \
             score, member_id, team_id, client_ref, touchpoint, occurred_at, source, external_id, \
             comment, icare_ideal, icare_culture, icare_attention, icare_response, icare_empathy, \
             decision_id, recorded_by_role, recorded_by_subject, created_at) SELECT ",
        );
        out.push_bind_param::<Text, _>(&r.org_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&r.id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&r.audience)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&r.instrument)?;
        out.push_sql(", ");
        out.push_bind_param::<Integer, _>(&r.score)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&r.member_id)?;
        out.push_sql(", COALESCE(");
        out.push_bind_param::<Nullable<Text>, _>(&r.team_id)?;
        out.push_sql(", context.member_team), ");
        out.push_bind_param::<Nullable<Text>, _>(&r.client_ref)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&r.touchpoint)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&r.occurred_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&r.source)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&r.external_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&r.comment)?;
        for icare in [
            &r.icare_ideal,
            &r.icare_culture,
            &r.icare_attention,
            &r.icare_response,
            &r.icare_empathy,
        ] {
            out.push_sql(", ");
            out.push_bind_param::<Nullable<Integer>, _>(icare)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&r.decision_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&r.recorded_by_role)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&r.recorded_by_subject)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&r.created_at)?;
        // Each reference named must be the organization's (a NULL one names nothing).
        out.push_sql(" FROM context WHERE (context.member_found IS NOT NULL OR ");
        out.push_bind_param::<Nullable<Text>, _>(&r.member_id)?;
        out.push_sql(" IS NULL) AND (context.team_found IS NOT NULL OR ");
        out.push_bind_param::<Nullable<Text>, _>(&r.team_id)?;
        out.push_sql(" IS NULL) AND (context.decision_found IS NOT NULL OR ");
        out.push_bind_param::<Nullable<Text>, _>(&r.decision_id)?;
        out.push_sql(
            " IS NULL) ON CONFLICT (org_id, source, external_id) DO NOTHING \
             RETURNING id, team_id), audit AS (",
        );
        let changes = Spliced {
            before: &a.audit_changes.before,
            value: TEAM_JSON,
            after: &a.audit_changes.after,
        };
        push_audit_from(out.reborrow(), &a.audit, Some(changes), "inserted")?;
        out.push_sql("), recorded AS (");
        let recorded = Spliced {
            before: &a.recorded_payload.before,
            value: TEAM_JSON,
            after: &a.recorded_payload.after,
        };
        push_event_from(out.reborrow(), &a.recorded, Some(recorded), "inserted")?;
        out.push_sql("), detractor AS (");
        let detractor = Spliced {
            before: &a.detractor_payload.before,
            value: TEAM_JSON,
            after: &a.detractor_payload.after,
        };
        push_event_from(
            out.reborrow(),
            &a.detractor,
            Some(detractor),
            "inserted, context",
        )?;
        // Low by the organization's threshold for the instrument, on the instrument's side of
        // it (`Instrument::low_side`; `Instrument::is_detractor` on SQLite).
        out.push_sql(" WHERE CASE WHEN ");
        out.push_bind_param::<Bool, _>(&self.low_at_most)?;
        out.push_sql(" THEN ");
        out.push_bind_param::<Integer, _>(&r.score)?;
        out.push_sql(" <= ");
        self.push_threshold(out.reborrow())?;
        out.push_sql(" ELSE ");
        out.push_bind_param::<Integer, _>(&r.score)?;
        out.push_sql(" >= ");
        self.push_threshold(out.reborrow())?;
        out.push_sql(
            " END) SELECT context.member_found IS NOT NULL, context.team_found IS NOT NULL, \
             context.decision_found IS NOT NULL, inserted.id IS NOT NULL, inserted.team_id \
             FROM context LEFT JOIN inserted ON true",
        );
        Ok(())
    }
}

impl Record<'_> {
    /// The organization's threshold for the score's instrument, where it is stored.
    fn push_threshold<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("CASE ");
        out.push_bind_param::<Text, _>(&self.instrument)?;
        for instrument in Instrument::ALL {
            out.push_sql(" WHEN '");
            out.push_sql(instrument.as_str());
            out.push_sql("' THEN context.");
            out.push_sql(threshold_column(instrument));
        }
        out.push_sql(" END");
        Ok(())
    }
}

/// The `organizations` column holding the threshold for `instrument`.
fn threshold_column(instrument: Instrument) -> &'static str {
    match instrument {
        Instrument::Csat => "low_score_csat_at_most",
        Instrument::Nps => "low_score_nps_at_most",
        Instrument::Ces => "low_score_ces_at_least",
    }
}
