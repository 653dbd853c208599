//! Reports: each one SQL aggregate over the organization's rows, never rows loaded to count in
//! Rust. A report cut into periods joins its rows to the periods' bounds, computed in the
//! organization's zone (`domain::report::periods`) and passed as one JSON parameter, so local
//! days and months come out the same on both databases and across daylight-saving changes.

use chrono::{DateTime, NaiveDateTime, TimeZone as _, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text, Timestamp};

use circulo_domain::OrgId;
use circulo_domain::report::{GroupBy, Period};
use circulo_domain::score::{Audience, Instrument};

use crate::conn::DbConn;
use crate::error::StoreResult;
use crate::organizations;
use crate::time::{from_db, to_db};

/// What a satisfaction report covers.
#[derive(Debug, Clone)]
pub struct SatisfactionQuery {
    /// Whose scores.
    pub audience: Audience,
    /// Only of this instrument.
    pub instrument: Option<Instrument>,
    /// What each row groups.
    pub group_by: GroupBy,
    /// The periods, in order.
    pub periods: Vec<Period>,
}

/// One group and period of a satisfaction report: the database's counts.
#[derive(Debug, Clone, QueryableByName)]
pub struct SatisfactionCounts {
    /// The period's start.
    #[diesel(sql_type = Timestamp)]
    pub period_start: NaiveDateTime,
    /// The group's key (member id, team id or touchpoint); `None` for no group or no value.
    #[diesel(sql_type = Nullable<Text>)]
    pub grp: Option<String>,
    /// Scores.
    #[diesel(sql_type = BigInt)]
    pub n: i64,
    /// CSAT scores.
    #[diesel(sql_type = BigInt)]
    pub csat_n: i64,
    /// CSAT scores of 4 or 5.
    #[diesel(sql_type = BigInt)]
    pub csat_satisfied: i64,
    /// NPS scores.
    #[diesel(sql_type = BigInt)]
    pub nps_n: i64,
    /// NPS scores of 9 or 10.
    #[diesel(sql_type = BigInt)]
    pub promoters: i64,
    /// NPS scores of 7 or 8.
    #[diesel(sql_type = BigInt)]
    pub passives: i64,
    /// NPS scores from 0 to 6.
    #[diesel(sql_type = BigInt)]
    pub detractors: i64,
    /// CES scores.
    #[diesel(sql_type = BigInt)]
    pub ces_n: i64,
    /// Their average.
    #[diesel(sql_type = Nullable<Double>)]
    pub ces_avg: Option<f64>,
    /// I-CARE averages, of the scores that give them.
    #[diesel(sql_type = Nullable<Double>)]
    pub icare_ideal: Option<f64>,
    /// Culture.
    #[diesel(sql_type = Nullable<Double>)]
    pub icare_culture: Option<f64>,
    /// Attention.
    #[diesel(sql_type = Nullable<Double>)]
    pub icare_attention: Option<f64>,
    /// Response.
    #[diesel(sql_type = Nullable<Double>)]
    pub icare_response: Option<f64>,
    /// Empathy.
    #[diesel(sql_type = Nullable<Double>)]
    pub icare_empathy: Option<f64>,
}

impl SatisfactionCounts {
    /// The period's start as an instant.
    pub fn period_start(&self) -> DateTime<Utc> {
        from_db(self.period_start)
    }
}

/// A satisfaction report's rows and the organization's anonymity threshold (employee groups
/// under it are to be suppressed).
#[derive(Debug, Clone)]
pub struct SatisfactionReport {
    /// One row per group and period that has scores, in period then group order.
    pub rows: Vec<SatisfactionCounts>,
    /// The organization's `anonymity_threshold`.
    pub anonymity_threshold: i64,
}

/// Reading reports.
pub struct Reports<'a>(&'a crate::db::Db);

impl crate::db::Db {
    /// The reports.
    pub fn reports(&self) -> Reports<'_> {
        Reports(self)
    }
}

impl Reports<'_> {
    /// Counts `query`'s scores per group and period in one aggregate.
    pub fn satisfaction(
        &self,
        org: OrgId,
        query: &SatisfactionQuery,
    ) -> StoreResult<SatisfactionReport> {
        self.0.read(|conn| {
            let threshold = organizations::find(conn, org)?.settings.anonymity_threshold;
            let (Some(first), Some(last)) = (query.periods.first(), query.periods.last()) else {
                return Ok(SatisfactionReport {
                    rows: Vec::new(),
                    anonymity_threshold: i64::from(threshold),
                });
            };
            let bounds: Vec<[String; 2]> = query
                .periods
                .iter()
                .map(|p| [db_text(p.start), db_text(p.end)])
                .collect();
            let bounds = crate::rows::snapshot(&bounds)?;
            let rows = diesel::sql_query(satisfaction_sql(conn, query.group_by))
                .bind::<Text, _>(org.to_string())
                .bind::<Text, _>(bounds)
                .bind::<Text, _>(query.audience.as_str())
                .bind::<Nullable<Text>, _>(query.instrument.map(Instrument::as_str))
                .bind::<Timestamp, _>(to_db(clamp(first.start)))
                .bind::<Timestamp, _>(to_db(clamp(last.end)))
                .load::<SatisfactionCounts>(conn)?;
            Ok(SatisfactionReport {
                rows,
                anonymity_threshold: i64::from(threshold),
            })
        })
    }
}

/// Keeps an open window's ends within the years both databases store (1 to 9999).
fn clamp(t: DateTime<Utc>) -> DateTime<Utc> {
    let low = Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).single();
    let high = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).single();
    match (low, high) {
        (Some(low), Some(high)) => t.clamp(low, high),
        _ => t,
    }
}

/// An instant as both databases compare it with a stored timestamp (diesel writes SQLite's as
/// this text; PostgreSQL casts it).
fn db_text(t: DateTime<Utc>) -> String {
    to_db(clamp(t)).format("%F %T%.f").to_string()
}

/// The satisfaction aggregate for `group_by`: `$1` the organization, `$2` the periods as a JSON
/// array of `[start, end]`, `$3` the audience, `$4` the instrument (any when NULL), `$5`/`$6`
/// the whole window (so the index on `(org_id, occurred_at)` narrows the rows first).
fn satisfaction_sql(conn: &DbConn, group_by: GroupBy) -> String {
    // A closed set of column names, never a client's text.
    let group = match group_by {
        GroupBy::None => "CAST(NULL AS TEXT)",
        GroupBy::Member => "s.member_id",
        GroupBy::Team => "s.team_id",
        GroupBy::Touchpoint => "s.touchpoint",
    };
    let (periods, real, p) = match conn {
        DbConn::Pg(_) => (
            "SELECT (e->>0)::timestamp AS start, (e->>1)::timestamp AS stop \
             FROM jsonb_array_elements(CAST($2 AS jsonb)) AS e",
            "DOUBLE PRECISION",
            ["$1", "$3", "$4", "$5", "$6"],
        ),
        DbConn::Sqlite(_) => (
            "SELECT json_extract(value, '$[0]') AS start, json_extract(value, '$[1]') AS stop \
             FROM json_each(?2)",
            "REAL",
            ["?1", "?3", "?4", "?5", "?6"],
        ),
    };
    let [org, audience, instrument, from, to] = p;
    let avg = |column: &str| format!("AVG(CAST(s.{column} AS {real})) AS {column}");
    format!(
        "WITH periods AS ({periods}) \
         SELECT p.start AS period_start, {group} AS grp, COUNT(*) AS n, \
           SUM(CASE WHEN s.instrument = 'csat' THEN 1 ELSE 0 END) AS csat_n, \
           SUM(CASE WHEN s.instrument = 'csat' AND s.score >= 4 THEN 1 ELSE 0 END) AS csat_satisfied, \
           SUM(CASE WHEN s.instrument = 'nps' THEN 1 ELSE 0 END) AS nps_n, \
           SUM(CASE WHEN s.instrument = 'nps' AND s.score >= 9 THEN 1 ELSE 0 END) AS promoters, \
           SUM(CASE WHEN s.instrument = 'nps' AND s.score IN (7, 8) THEN 1 ELSE 0 END) AS passives, \
           SUM(CASE WHEN s.instrument = 'nps' AND s.score <= 6 THEN 1 ELSE 0 END) AS detractors, \
           SUM(CASE WHEN s.instrument = 'ces' THEN 1 ELSE 0 END) AS ces_n, \
           AVG(CASE WHEN s.instrument = 'ces' THEN CAST(s.score AS {real}) END) AS ces_avg, \
           {ideal}, {culture}, {attention}, {response}, {empathy} \
         FROM satisfaction_scores s \
         JOIN periods p ON s.occurred_at >= p.start AND s.occurred_at < p.stop \
         WHERE s.org_id = {org} AND s.audience = {audience} \
           AND ({instrument} IS NULL OR s.instrument = {instrument}) \
           AND s.occurred_at >= {from} AND s.occurred_at < {to} \
         GROUP BY p.start, {group} ORDER BY p.start, {group}",
        ideal = avg("icare_ideal"),
        culture = avg("icare_culture"),
        attention = avg("icare_attention"),
        response = avg("icare_response"),
        empathy = avg("icare_empathy"),
    )
}
