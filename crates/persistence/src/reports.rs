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
use crate::dialect::for_backend;
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

/// The satisfaction figures of the scores `s` in each group, in both dialects. A filtered count
/// tests its condition and counts, where a summed `CASE` builds a 0 or 1 and adds it for every
/// row (a few per cent of the report's time over a year of a million scores).
const FIGURES: &str = "\
    COUNT(*) AS n, \
    COUNT(*) FILTER (WHERE s.instrument = 'csat') AS csat_n, \
    COUNT(*) FILTER (WHERE s.instrument = 'csat' AND s.score >= 4) AS csat_satisfied, \
    COUNT(*) FILTER (WHERE s.instrument = 'nps') AS nps_n, \
    COUNT(*) FILTER (WHERE s.instrument = 'nps' AND s.score >= 9) AS promoters, \
    COUNT(*) FILTER (WHERE s.instrument = 'nps' AND s.score IN (7, 8)) AS passives, \
    COUNT(*) FILTER (WHERE s.instrument = 'nps' AND s.score <= 6) AS detractors, \
    COUNT(*) FILTER (WHERE s.instrument = 'ces') AS ces_n, \
    AVG(CAST(s.score AS {real})) FILTER (WHERE s.instrument = 'ces') AS ces_avg, \
    AVG(CAST(s.icare_ideal AS {real})) AS icare_ideal, \
    AVG(CAST(s.icare_culture AS {real})) AS icare_culture, \
    AVG(CAST(s.icare_attention AS {real})) AS icare_attention, \
    AVG(CAST(s.icare_response AS {real})) AS icare_response, \
    AVG(CAST(s.icare_empathy AS {real})) AS icare_empathy";

/// The scores a satisfaction report counts: `$1` the organization, `$3` the audience, `$4` the
/// instrument (any when NULL), `$5`/`$6` the whole window.
const IN_WINDOW: &str = "s.org_id = $1 AND s.audience = $3 AND ($4 IS NULL OR s.instrument = $4) \
    AND s.occurred_at >= $5 AND s.occurred_at < $6";

/// The satisfaction aggregate on PostgreSQL, grouped by `{group}`; `$2` holds the periods as a
/// JSON array of `[start, end]`. The periods tile the window (each ends where the next starts,
/// `report::periods`), so a score's period is the last one starting at or before it:
/// `width_bucket` finds it by binary search over the starts, in one parallel pass over the
/// window's scores. Joining the periods to the scores instead read the window one index range
/// per period, a heap fetch per row: 7.3 s for a year of two million scores, where this takes
/// 0.75 s for a year of one million. The periods are a function scan, not a CTE, so the
/// planner expects few groups and hashes them instead of sorting a million rows to disk.
/// Grouping by the period's number and joining only the groups to their starts would save the
/// join's cost per score, but the planner then estimates a group per distinct `occurred_at` and
/// sorts the million rows (to disk, at the default `work_mem`): slower, not faster.
const SATISFACTION_PG: &str = "\
SELECT p.start AS period_start, {group} AS grp, {figures} \
FROM satisfaction_scores s \
JOIN ( \
    SELECT CAST(e->>0 AS timestamp) AS start, i \
    FROM jsonb_array_elements(CAST($2 AS jsonb)) WITH ORDINALITY AS periods(e, i)) p \
  ON p.i = width_bucket(s.occurred_at, ARRAY( \
    SELECT CAST(e->>0 AS timestamp) \
    FROM jsonb_array_elements(CAST($2 AS jsonb)) WITH ORDINALITY AS starts(e, i) ORDER BY i)) \
WHERE {window} \
GROUP BY p.start, {group} ORDER BY p.start, {group}";

/// The satisfaction aggregate on SQLite, grouped by `{group}`; `$2` holds the periods as a JSON
/// array of `[start, end]`, each joined to its range of the index on `(org_id, occurred_at)`.
const SATISFACTION_SQLITE: &str = "\
WITH periods AS MATERIALIZED ( \
    SELECT json_extract(value, '$[0]') AS start, json_extract(value, '$[1]') AS stop \
    FROM json_each($2)) \
SELECT p.start AS period_start, {group} AS grp, {figures} \
FROM periods p \
JOIN satisfaction_scores s ON s.occurred_at >= p.start AND s.occurred_at < p.stop \
WHERE {window} \
GROUP BY p.start, {group} ORDER BY p.start, {group}";

/// The satisfaction aggregate for `conn`'s database and `group_by`.
fn satisfaction_sql(conn: &DbConn, group_by: GroupBy) -> String {
    // A closed set of column names, never a client's text.
    let group = match group_by {
        GroupBy::None => "CAST(NULL AS TEXT)",
        GroupBy::Member => "s.member_id",
        GroupBy::Team => "s.team_id",
        GroupBy::Touchpoint => "s.touchpoint",
    };
    let statement = match conn {
        DbConn::Pg(_) => SATISFACTION_PG,
        DbConn::Sqlite(_) => SATISFACTION_SQLITE,
    };
    let statement = statement
        .replace("{figures}", FIGURES)
        .replace("{window}", IN_WINDOW);
    for_backend(conn, &statement).replace("{group}", group)
}

/// One team of the mirror report: how it is treated beside how it treats clients.
#[derive(Debug, Clone, QueryableByName)]
pub struct MirrorCounts {
    /// The team.
    #[diesel(sql_type = Text)]
    pub team_id: String,
    /// Its lead, whose upward feedback is counted.
    #[diesel(sql_type = Nullable<Text>)]
    pub lead_member_id: Option<String>,
    /// Employee NPS answers about the team.
    #[diesel(sql_type = BigInt)]
    pub employee_n: i64,
    /// Of them, 9–10.
    #[diesel(sql_type = BigInt)]
    pub employee_promoters: i64,
    /// Of them, 0–6.
    #[diesel(sql_type = BigInt)]
    pub employee_detractors: i64,
    /// Rated upward feedback about the lead.
    #[diesel(sql_type = BigInt)]
    pub upward_n: i64,
    /// Its average rating.
    #[diesel(sql_type = Nullable<Double>)]
    pub upward_avg: Option<f64>,
    /// Client CSAT scores of the team.
    #[diesel(sql_type = BigInt)]
    pub csat_n: i64,
    /// Of them, 4–5.
    #[diesel(sql_type = BigInt)]
    pub csat_satisfied: i64,
    /// Client NPS scores of the team.
    #[diesel(sql_type = BigInt)]
    pub nps_n: i64,
    /// Of them, 9–10.
    #[diesel(sql_type = BigInt)]
    pub nps_promoters: i64,
    /// Of them, 0–6.
    #[diesel(sql_type = BigInt)]
    pub nps_detractors: i64,
}

/// The mirror: every team, in one aggregate over employee scores, upward feedback about each
/// team's lead (anonymous items only once their day is over, as they show elsewhere) and client
/// scores, in the window `$2` to `$3`.
const MIRROR: &str = "\
WITH employee AS ( \
    SELECT team_id, COUNT(*) AS n, \
        COUNT(*) FILTER (WHERE score >= 9) AS promoters, \
        COUNT(*) FILTER (WHERE score <= 6) AS detractors \
    FROM satisfaction_scores \
    WHERE org_id = $1 AND audience = 'employee' AND instrument = 'nps' \
      AND occurred_at >= $2 AND occurred_at < $3 \
    GROUP BY team_id), \
client AS ( \
    SELECT team_id, \
        COUNT(*) FILTER (WHERE instrument = 'csat') AS csat_n, \
        COUNT(*) FILTER (WHERE instrument = 'csat' AND score >= 4) AS csat_satisfied, \
        COUNT(*) FILTER (WHERE instrument = 'nps') AS nps_n, \
        COUNT(*) FILTER (WHERE instrument = 'nps' AND score >= 9) AS nps_promoters, \
        COUNT(*) FILTER (WHERE instrument = 'nps' AND score <= 6) AS nps_detractors \
    FROM satisfaction_scores \
    WHERE org_id = $1 AND audience = 'client' AND occurred_at >= $2 AND occurred_at < $3 \
    GROUP BY team_id), \
upward AS ( \
    SELECT subject_member_id, COUNT(rating) AS n, AVG(CAST(rating AS {real})) AS average \
    FROM feedback \
    WHERE org_id = $1 AND kind = 'upward' AND rating IS NOT NULL \
      AND created_at >= $2 AND created_at < $3 AND (anonymous = FALSE OR created_at < $4) \
    GROUP BY subject_member_id) \
SELECT t.id AS team_id, t.lead_member_id, \
    COALESCE(e.n, 0) AS employee_n, COALESCE(e.promoters, 0) AS employee_promoters, \
    COALESCE(e.detractors, 0) AS employee_detractors, \
    COALESCE(u.n, 0) AS upward_n, u.average AS upward_avg, \
    COALESCE(c.csat_n, 0) AS csat_n, COALESCE(c.csat_satisfied, 0) AS csat_satisfied, \
    COALESCE(c.nps_n, 0) AS nps_n, COALESCE(c.nps_promoters, 0) AS nps_promoters, \
    COALESCE(c.nps_detractors, 0) AS nps_detractors \
FROM teams t \
LEFT JOIN employee e ON e.team_id = t.id \
LEFT JOIN client c ON c.team_id = t.id \
LEFT JOIN upward u ON u.subject_member_id = t.lead_member_id \
WHERE t.org_id = $1 \
ORDER BY t.id";

/// The mirror report's teams and the organization's anonymity threshold.
#[derive(Debug, Clone)]
pub struct MirrorReport {
    /// One row per team.
    pub teams: Vec<MirrorCounts>,
    /// The organization's `anonymity_threshold`.
    pub anonymity_threshold: i64,
}

impl Reports<'_> {
    /// Counts the mirror for every team in the window `from` to `to` (open when `None`).
    pub fn mirror(
        &self,
        org: OrgId,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> StoreResult<MirrorReport> {
        self.0.read(|conn| {
            let threshold = organizations::find(conn, org)?.settings.anonymity_threshold;
            let teams = diesel::sql_query(for_backend(conn, MIRROR))
                .bind::<Text, _>(org.to_string())
                .bind::<Timestamp, _>(to_db(clamp(from.unwrap_or(DateTime::<Utc>::MIN_UTC))))
                .bind::<Timestamp, _>(to_db(clamp(to.unwrap_or(DateTime::<Utc>::MAX_UTC))))
                .bind::<Timestamp, _>(to_db(crate::time::today()))
                .load::<MirrorCounts>(conn)?;
            Ok(MirrorReport {
                teams,
                anonymity_threshold: i64::from(threshold),
            })
        })
    }
}

/// What the empowerment and goals reports group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByOwner {
    /// The member.
    Member,
    /// The team.
    Team,
}

/// One member or team of the empowerment report.
#[derive(Debug, Clone, QueryableByName)]
pub struct EmpowermentCounts {
    /// The member or team (empty for decisions of members in no team).
    #[diesel(sql_type = Text)]
    pub grp: String,
    /// Decisions made (voided ones not counted).
    #[diesel(sql_type = BigInt)]
    pub decisions: i64,
    /// Of them, approved on the spot under a grant.
    #[diesel(sql_type = BigInt)]
    pub on_the_spot: i64,
    /// Of them, escalated.
    #[diesel(sql_type = BigInt)]
    pub escalated: i64,
    /// Minor units approved on the spot.
    #[diesel(sql_type = BigInt)]
    pub spent_minor: i64,
    /// The budgets of the grant periods those approvals were counted in.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub budget_minor: Option<i64>,
    /// The median time to answer an escalation, in seconds (nearest rank).
    #[diesel(sql_type = Nullable<Double>)]
    pub response_p50_seconds: Option<f64>,
    /// The 90th percentile.
    #[diesel(sql_type = Nullable<Double>)]
    pub response_p90_seconds: Option<f64>,
    /// Escalations answered late, or still open past their due time.
    #[diesel(sql_type = BigInt)]
    pub overdue: i64,
    /// Client CSAT scores linked to decisions made on the spot.
    #[diesel(sql_type = BigInt)]
    pub spot_csat_n: i64,
    /// Of them, 4–5.
    #[diesel(sql_type = BigInt)]
    pub spot_csat_satisfied: i64,
    /// Client CSAT scores linked to escalated decisions.
    #[diesel(sql_type = BigInt)]
    pub escalated_csat_n: i64,
    /// Of them, 4–5.
    #[diesel(sql_type = BigInt)]
    pub escalated_csat_satisfied: i64,
}

/// The empowerment report, one aggregate (sums of BIGINT cast back, since PostgreSQL widens them
/// to NUMERIC): decisions in the window `$2` to `$3` (not voided),
/// grouped by `{group}`, with the budgets of the grant periods they used, the escalations'
/// response times (nearest-rank percentiles, so both databases agree), those overdue as of `$4`,
/// and the client CSAT linked to each kind of decision.
const EMPOWERMENT: &str = "\
WITH d AS ( \
    SELECT COALESCE({group}, '') AS grp, id, outcome, amount_minor, delegation_id, period_start, \
        escalation_id \
    FROM decisions \
    WHERE org_id = $1 AND created_at >= $2 AND created_at < $3 AND voided_at IS NULL), \
totals AS ( \
    SELECT grp, COUNT(*) AS decisions, \
        SUM(CASE WHEN outcome = 'approved' THEN 1 ELSE 0 END) AS on_the_spot, \
        SUM(CASE WHEN escalation_id IS NOT NULL THEN 1 ELSE 0 END) AS escalated, \
        CAST(SUM(CASE WHEN outcome = 'approved' THEN amount_minor ELSE 0 END) AS BIGINT) AS spent_minor \
    FROM d GROUP BY grp), \
budgets AS ( \
    SELECT grp, CAST(SUM(budget_minor) AS BIGINT) AS budget_minor FROM ( \
        SELECT DISTINCT d.grp, d.delegation_id, d.period_start, g.budget_minor \
        FROM d JOIN delegations g ON g.org_id = $1 AND g.id = d.delegation_id \
        WHERE d.outcome = 'approved') AS used \
    GROUP BY grp), \
answered AS ( \
    SELECT d.grp, {response_seconds} AS seconds \
    FROM d JOIN escalations e ON e.org_id = $1 AND e.id = d.escalation_id \
    WHERE e.responded_at IS NOT NULL), \
ranked AS ( \
    SELECT grp, seconds, \
        ROW_NUMBER() OVER (PARTITION BY grp ORDER BY seconds) AS rn, \
        COUNT(*) OVER (PARTITION BY grp) AS cnt \
    FROM answered), \
percentiles AS ( \
    SELECT grp, MIN(CASE WHEN rn * 100 >= 50 * cnt THEN seconds END) AS p50, \
        MIN(CASE WHEN rn * 100 >= 90 * cnt THEN seconds END) AS p90 \
    FROM ranked GROUP BY grp), \
late AS ( \
    SELECT d.grp, COUNT(*) AS n \
    FROM d JOIN escalations e ON e.org_id = $1 AND e.id = d.escalation_id \
    WHERE (e.responded_at IS NULL AND e.response_due_at < $4) OR e.responded_at > e.response_due_at \
    GROUP BY d.grp), \
csat AS ( \
    SELECT d.grp, \
        SUM(CASE WHEN d.escalation_id IS NULL THEN 1 ELSE 0 END) AS spot_n, \
        SUM(CASE WHEN d.escalation_id IS NULL AND s.score >= 4 THEN 1 ELSE 0 END) AS spot_satisfied, \
        SUM(CASE WHEN d.escalation_id IS NOT NULL THEN 1 ELSE 0 END) AS escalated_n, \
        SUM(CASE WHEN d.escalation_id IS NOT NULL AND s.score >= 4 THEN 1 ELSE 0 END) AS escalated_satisfied \
    FROM d JOIN satisfaction_scores s ON s.org_id = $1 AND s.decision_id = d.id \
    WHERE s.audience = 'client' AND s.instrument = 'csat' \
    GROUP BY d.grp) \
SELECT t.grp, t.decisions, t.on_the_spot, t.escalated, t.spent_minor, b.budget_minor, \
    p.p50 AS response_p50_seconds, p.p90 AS response_p90_seconds, COALESCE(l.n, 0) AS overdue, \
    COALESCE(c.spot_n, 0) AS spot_csat_n, COALESCE(c.spot_satisfied, 0) AS spot_csat_satisfied, \
    COALESCE(c.escalated_n, 0) AS escalated_csat_n, \
    COALESCE(c.escalated_satisfied, 0) AS escalated_csat_satisfied \
FROM totals t \
LEFT JOIN budgets b ON b.grp = t.grp \
LEFT JOIN percentiles p ON p.grp = t.grp \
LEFT JOIN late l ON l.grp = t.grp \
LEFT JOIN csat c ON c.grp = t.grp \
ORDER BY t.grp";

/// One member or team of the goals report.
#[derive(Debug, Clone, QueryableByName)]
pub struct GoalCounts {
    /// The member or team owning the goals.
    #[diesel(sql_type = Text)]
    pub grp: String,
    /// Goals in all.
    #[diesel(sql_type = BigInt)]
    pub goals: i64,
    /// Drafts.
    #[diesel(sql_type = BigInt)]
    pub draft: i64,
    /// Active and not yet due.
    #[diesel(sql_type = BigInt)]
    pub active: i64,
    /// Active past their due date.
    #[diesel(sql_type = BigInt)]
    pub missed: i64,
    /// Achieved.
    #[diesel(sql_type = BigInt)]
    pub achieved: i64,
    /// Cancelled.
    #[diesel(sql_type = BigInt)]
    pub cancelled: i64,
    /// The average progress (0–1) of goals that are active, missed or achieved.
    #[diesel(sql_type = Nullable<Double>)]
    pub average_progress: Option<f64>,
    /// Member goals using one of their owner's strengths.
    #[diesel(sql_type = BigInt)]
    pub using_strengths: i64,
    /// Of them, achieved.
    #[diesel(sql_type = BigInt)]
    pub using_achieved: i64,
    /// Of them, missed.
    #[diesel(sql_type = BigInt)]
    pub using_missed: i64,
    /// Member goals using none of their owner's strengths.
    #[diesel(sql_type = BigInt)]
    pub not_using_strengths: i64,
    /// Of them, achieved.
    #[diesel(sql_type = BigInt)]
    pub not_using_achieved: i64,
    /// Of them, missed.
    #[diesel(sql_type = BigInt)]
    pub not_using_missed: i64,
}

/// The goals report, one aggregate over goals due from `$2` to before `$3` (the organization's
/// dates), grouped by `{group}`; missed is active past its due date on `$4` (today there).
/// Progress is the share of the way from baseline to target the current value has come,
/// clamped to 0–1, as the API reads it; a member goal uses its owner's strengths when one of its
/// strengths is one of theirs, ignoring case and surrounding spaces.
const GOALS: &str = "\
WITH g AS ( \
    SELECT {group} AS grp, g.status, g.due_date, \
        CASE WHEN g.status = 'active' AND g.due_date < $4 THEN 'missed' ELSE g.status END AS state, \
        CASE WHEN g.metric_direction = 'increase' \
            THEN (COALESCE(g.current_value, g.metric_baseline) - g.metric_baseline) / NULLIF(g.metric_target - g.metric_baseline, 0) \
            ELSE (g.metric_baseline - COALESCE(g.current_value, g.metric_baseline)) / NULLIF(g.metric_baseline - g.metric_target, 0) \
        END AS raw_progress, \
        CASE WHEN g.owner_member_id IS NULL THEN NULL \
            WHEN EXISTS (SELECT 1 FROM {goal_strengths} JOIN {member_strengths} \
                         ON lower(trim(a.v)) = lower(trim(b.v))) THEN 1 ELSE 0 END AS uses \
    FROM goals g LEFT JOIN members m ON m.org_id = g.org_id AND m.id = g.owner_member_id \
    WHERE g.org_id = $1 AND g.due_date >= $2 AND g.due_date < $3 AND {group} IS NOT NULL) \
SELECT grp, COUNT(*) AS goals, \
    SUM(CASE WHEN state = 'draft' THEN 1 ELSE 0 END) AS draft, \
    SUM(CASE WHEN state = 'active' THEN 1 ELSE 0 END) AS active, \
    SUM(CASE WHEN state = 'missed' THEN 1 ELSE 0 END) AS missed, \
    SUM(CASE WHEN state = 'achieved' THEN 1 ELSE 0 END) AS achieved, \
    SUM(CASE WHEN state = 'cancelled' THEN 1 ELSE 0 END) AS cancelled, \
    AVG(CASE WHEN state IN ('active', 'missed', 'achieved') THEN \
        CASE WHEN state = 'achieved' OR raw_progress > 1 THEN 1.0 WHEN raw_progress < 0 THEN 0.0 \
             ELSE CAST(raw_progress AS {real}) END END) AS average_progress, \
    SUM(CASE WHEN uses = 1 THEN 1 ELSE 0 END) AS using_strengths, \
    SUM(CASE WHEN uses = 1 AND state = 'achieved' THEN 1 ELSE 0 END) AS using_achieved, \
    SUM(CASE WHEN uses = 1 AND state = 'missed' THEN 1 ELSE 0 END) AS using_missed, \
    SUM(CASE WHEN uses = 0 THEN 1 ELSE 0 END) AS not_using_strengths, \
    SUM(CASE WHEN uses = 0 AND state = 'achieved' THEN 1 ELSE 0 END) AS not_using_achieved, \
    SUM(CASE WHEN uses = 0 AND state = 'missed' THEN 1 ELSE 0 END) AS not_using_missed \
FROM g GROUP BY grp ORDER BY grp";

impl Reports<'_> {
    /// Counts decisions, escalations and the scores that followed them per member or team, in
    /// the window `from` to `to` (open when `None`).
    pub fn empowerment(
        &self,
        org: OrgId,
        by: ByOwner,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> StoreResult<Vec<EmpowermentCounts>> {
        self.0.read(|conn| {
            let group = match by {
                ByOwner::Member => "member_id",
                ByOwner::Team => "team_id",
            };
            let seconds = match conn {
                DbConn::Pg(_) => {
                    "CAST(EXTRACT(EPOCH FROM (e.responded_at - e.created_at)) AS DOUBLE PRECISION)"
                }
                DbConn::Sqlite(_) => {
                    "(julianday(e.responded_at) - julianday(e.created_at)) * 86400.0"
                }
            };
            let sql = for_backend(conn, EMPOWERMENT)
                .replace("{group}", group)
                .replace("{response_seconds}", seconds);
            Ok(diesel::sql_query(sql)
                .bind::<Text, _>(org.to_string())
                .bind::<Timestamp, _>(to_db(clamp(from.unwrap_or(DateTime::<Utc>::MIN_UTC))))
                .bind::<Timestamp, _>(to_db(clamp(to.unwrap_or(DateTime::<Utc>::MAX_UTC))))
                .bind::<Timestamp, _>(to_db(crate::time::now()))
                .load::<EmpowermentCounts>(conn)?)
        })
    }

    /// Counts goals by state, progress and use of strengths per member or team, for goals due
    /// in the window `from` to `to` (the organization's dates; open when `None`).
    pub fn goals(
        &self,
        org: OrgId,
        by: ByOwner,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> StoreResult<Vec<GoalCounts>> {
        self.0.read(|conn| {
            let zone = organizations::find(conn, org)?.timezone;
            let group = match by {
                ByOwner::Member => "g.owner_member_id",
                ByOwner::Team => "g.owner_team_id",
            };
            let (goal_strengths, member_strengths) = match conn {
                DbConn::Pg(_) => (
                    "jsonb_array_elements_text(CAST(g.strengths AS jsonb)) AS a(v)",
                    "jsonb_array_elements_text(CAST(m.strengths AS jsonb)) AS b(v)",
                ),
                DbConn::Sqlite(_) => (
                    "(SELECT value AS v FROM json_each(g.strengths)) AS a",
                    "(SELECT value AS v FROM json_each(m.strengths)) AS b",
                ),
            };
            let sql = for_backend(conn, GOALS)
                .replace("{group}", group)
                .replace("{goal_strengths}", goal_strengths)
                .replace("{member_strengths}", member_strengths);
            let first = chrono::NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or_default();
            let last = chrono::NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default();
            Ok(diesel::sql_query(sql)
                .bind::<Text, _>(org.to_string())
                .bind::<diesel::sql_types::Date, _>(from.map_or(first, |f| zone.date_at(f)))
                .bind::<diesel::sql_types::Date, _>(to.map_or(last, |t| zone.date_at(t)))
                .bind::<diesel::sql_types::Date, _>(zone.date_at(crate::time::now()))
                .load::<GoalCounts>(conn)?)
        })
    }
}
