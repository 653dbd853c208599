//! Reports, each one aggregate in the database. The satisfaction report counts scores per group
//! and period (periods in the organization's zone); the statistics of those counts (CSAT with
//! its Wilson interval, NPS with its margin of error) are computed here from the counts.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use circulo_domain::principal::Permission;
use circulo_domain::report::{self, GroupBy, Interval};
use circulo_domain::score::{Audience, Instrument};
use circulo_persistence::{
    ByOwner, EmpowermentCounts, GoalCounts, MirrorCounts, SatisfactionCounts, SatisfactionQuery,
};

use super::window::Window;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::http::query::Query;
use crate::openapi::problems::ListProblems;
use crate::state::{AppState, read};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(satisfaction_report)
        .service(mirror_report)
        .service(empowerment_report)
        .service(goals_report);
}

/// What a satisfaction report covers.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SatisfactionParams {
    /// Whose scores: `client` (the default) or `employee` (groups under the organization's
    /// `anonymity_threshold` suppressed).
    pub audience: Option<Audience>,
    /// Only scores of this instrument.
    pub instrument: Option<Instrument>,
    /// One row per `member`, `team`, `touchpoint`, or `none` (the default).
    #[param(inline)]
    pub group_by: Option<GroupBy>,
    /// Cut the window into local `day`s, `week`s (from Monday) or `month`s, or `none` (the
    /// default). Needs `from` and `to`.
    #[param(inline)]
    pub interval: Option<Interval>,
    /// Contacts at or after this instant or date (a date is midnight in the organization's zone).
    #[param(min_length = 10, example = "2026-11-01")]
    pub from: Option<String>,
    /// Contacts before this instant or date.
    #[param(min_length = 10, example = "2026-12-01")]
    pub to: Option<String>,
}

/// A share in percent with its 95 % Wilson interval.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareView {
    /// The share, in percent.
    pub pct: f64,
    /// The interval's lower bound, in percent.
    pub low: f64,
    /// The interval's upper bound, in percent.
    pub high: f64,
}

/// I-CARE averages of the scores that give them.
#[derive(Debug, Serialize, ToSchema)]
pub struct IcareAverages {
    /// Ideal.
    pub ideal: Option<f64>,
    /// Culture.
    pub culture: Option<f64>,
    /// Attention.
    pub attention: Option<f64>,
    /// Response.
    pub response: Option<f64>,
    /// Empathy.
    pub empathy: Option<f64>,
}

/// One group and period of the satisfaction report. Figures of an instrument with no scores in
/// the group are `null`; a suppressed group shows none at all.
#[derive(Debug, Serialize, ToSchema)]
pub struct SatisfactionRow {
    /// The period's start (with `interval`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_start: Option<DateTime<Utc>>,
    /// The member (with `group_by=member`; `null` for scores naming none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_id: Option<Option<String>>,
    /// The team (with `group_by=team`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<Option<String>>,
    /// The touchpoint (with `group_by=touchpoint`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub touchpoint: Option<Option<String>>,
    /// Whether the figures are withheld: employee scores under the anonymity threshold.
    pub suppressed: bool,
    /// Scores in the group.
    pub count: Option<i64>,
    /// CSAT scores.
    pub csat_count: Option<i64>,
    /// The share of CSAT scores of 4 or 5, in percent.
    pub csat_pct: Option<f64>,
    /// Its 95 % Wilson interval.
    pub csat_ci: Option<ShareView>,
    /// NPS scores.
    pub nps_count: Option<i64>,
    /// % promoters (9–10) minus % detractors (0–6).
    pub nps: Option<f64>,
    /// The NPS's 95 % margin of error, in points.
    pub nps_margin_of_error: Option<f64>,
    /// NPS scores of 9–10.
    pub promoters: Option<i64>,
    /// NPS scores of 7–8.
    pub passives: Option<i64>,
    /// NPS scores of 0–6.
    pub detractors: Option<i64>,
    /// CES scores.
    pub ces_count: Option<i64>,
    /// Their average (1–7, lower is easier).
    pub ces_avg: Option<f64>,
    /// I-CARE averages.
    pub icare: Option<IcareAverages>,
}

/// What of an employee group is withheld: the whole row under the threshold, and within a row
/// any instrument answered by fewer (so dropping the `instrument` filter shows no small group).
#[derive(Debug, Clone, Copy)]
struct Suppression {
    threshold: i64,
    row: bool,
}

impl Suppression {
    /// `n`, or 0 when so few answers must not be shown.
    fn under(self, n: i64) -> i64 {
        if n < self.threshold { 0 } else { n }
    }
}

/// The satisfaction report.
#[derive(Debug, Serialize, ToSchema)]
pub struct SatisfactionReportView {
    /// One row per group and period with scores.
    pub items: Vec<SatisfactionRow>,
}

impl SatisfactionRow {
    fn of(
        counts: SatisfactionCounts,
        group_by: GroupBy,
        bucketed: bool,
        suppressed: Suppression,
    ) -> Self {
        let group = Some(counts.grp.clone());
        let period_start = bucketed.then(|| counts.period_start());
        let mut row = Self {
            period_start,
            member_id: (group_by == GroupBy::Member).then(|| group.clone().flatten()),
            team_id: (group_by == GroupBy::Team).then(|| group.clone().flatten()),
            touchpoint: (group_by == GroupBy::Touchpoint).then(|| group.flatten()),
            suppressed: suppressed.row,
            count: None,
            csat_count: None,
            csat_pct: None,
            csat_ci: None,
            nps_count: None,
            nps: None,
            nps_margin_of_error: None,
            promoters: None,
            passives: None,
            detractors: None,
            ces_count: None,
            ces_avg: None,
            icare: None,
        };
        if suppressed.row {
            return row;
        }
        // An instrument answered by too few in an employee group shows no figures of its own.
        let (csat_n, nps_n, ces_n) = (
            suppressed.under(counts.csat_n),
            suppressed.under(counts.nps_n),
            suppressed.under(counts.ces_n),
        );
        let csat = report::wilson(counts.csat_satisfied, csat_n);
        let nps = report::nps(counts.promoters, counts.detractors, nps_n);
        let some = |n: i64, value: i64| (n > 0).then_some(value);
        let shown = |all: i64, shown: i64| (all == 0 || shown > 0).then_some(all);
        row.count = Some(counts.n);
        row.csat_count = shown(counts.csat_n, csat_n);
        row.csat_pct = csat.map(|s| s.pct);
        row.csat_ci = csat.map(|s| ShareView {
            pct: s.pct,
            low: s.low,
            high: s.high,
        });
        row.nps_count = shown(counts.nps_n, nps_n);
        row.nps = nps.map(|n| n.score);
        row.nps_margin_of_error = nps.map(|n| n.margin_of_error);
        row.promoters = some(nps_n, counts.promoters);
        row.passives = some(nps_n, counts.passives);
        row.detractors = some(nps_n, counts.detractors);
        row.ces_count = shown(counts.ces_n, ces_n);
        row.ces_avg = counts.ces_avg.filter(|_| ces_n > 0);
        let icare = IcareAverages {
            ideal: counts.icare_ideal,
            culture: counts.icare_culture,
            attention: counts.icare_attention,
            response: counts.icare_response,
            empathy: counts.icare_empathy,
        };
        row.icare = [
            icare.ideal,
            icare.culture,
            icare.attention,
            icare.response,
            icare.empathy,
        ]
        .iter()
        .any(Option::is_some)
        .then_some(icare);
        row
    }
}

/// Satisfaction per group and period.
///
/// CSAT as the share of 4–5 with its 95 % Wilson interval, NPS (% promoters minus %
/// detractors) with its counts and 95 % margin of error, the CES average and I-CARE averages,
/// counted in one aggregate. Periods are local days, weeks or months of the organization.
#[utoipa::path(
    tag = "reports",
    params(SatisfactionParams),
    responses(ListProblems, (status = 200, description = "The report", body = SatisfactionReportView)),
)]
#[get("/reports/satisfaction")]
pub async fn satisfaction_report(
    state: web::Data<AppState>,
    caller: Caller,
    params: Query<SatisfactionParams>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadReports)?;
    let params = params.into_inner();
    let window = Window::parse(params.from.as_deref(), params.to.as_deref())?;
    let audience = params.audience.unwrap_or(Audience::Client);
    let group_by = params.group_by.unwrap_or(GroupBy::None);
    let interval = params.interval.unwrap_or(Interval::None);
    let instrument = params.instrument;
    let report = read(&state, &caller, move |db| {
        let (from, to) = window.resolve(db, org)?;
        let zone = db.organizations().get(org)?.timezone;
        let periods = report::periods(from, to, interval, zone)?;
        db.reports().satisfaction(
            org,
            &SatisfactionQuery {
                audience,
                instrument,
                group_by,
                periods,
            },
        )
    })
    .await?;
    let threshold = report.anonymity_threshold;
    let items = report
        .rows
        .into_iter()
        .map(|counts| {
            let suppressed = Suppression {
                threshold: if audience == Audience::Employee {
                    threshold
                } else {
                    0
                },
                row: audience == Audience::Employee && counts.n < threshold,
            };
            SatisfactionRow::of(counts, group_by, interval != Interval::None, suppressed)
        })
        .collect();
    Ok(HttpResponse::Ok().json(SatisfactionReportView { items }))
}

/// A window, for the reports that are not cut into periods.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WindowParams {
    /// At or after this instant or date (a date is midnight in the organization's zone).
    #[param(min_length = 10, example = "2026-11-01")]
    pub from: Option<String>,
    /// Before this instant or date.
    #[param(min_length = 10, example = "2026-12-01")]
    pub to: Option<String>,
}

/// How a team is treated: its employees' eNPS and the upward feedback about its lead.
#[derive(Debug, Serialize, ToSchema)]
pub struct TreatedView {
    /// Employee NPS answers about the team; `null` when suppressed.
    pub enps_count: Option<i64>,
    /// The team's eNPS (% promoters minus % detractors); `null` when suppressed or none.
    pub enps: Option<f64>,
    /// Whether the eNPS is withheld: fewer answers than the anonymity threshold.
    pub enps_suppressed: bool,
    /// Rated upward feedback about the team's lead; `null` when suppressed.
    pub upward_count: Option<i64>,
    /// Its average rating (1–5); `null` when suppressed or none.
    pub upward_average_rating: Option<f64>,
    /// Whether the upward figures are withheld: fewer items than the anonymity threshold.
    pub upward_suppressed: bool,
}

/// How a team treats clients: their CSAT and NPS.
#[derive(Debug, Serialize, ToSchema)]
pub struct TreatsView {
    /// Client CSAT scores.
    pub csat_count: i64,
    /// The share of 4–5, in percent; `null` without scores.
    pub csat_pct: Option<f64>,
    /// Client NPS scores.
    pub nps_count: i64,
    /// The clients' NPS; `null` without scores.
    pub nps: Option<f64>,
}

/// One team of the mirror.
#[derive(Debug, Serialize, ToSchema)]
pub struct MirrorRow {
    /// The team.
    pub team_id: String,
    /// Its lead, whom the upward feedback is about.
    pub lead_member_id: Option<String>,
    /// How the team is treated.
    pub employees: TreatedView,
    /// How it treats clients.
    pub clients: TreatsView,
}

/// Pearson's r across teams.
#[derive(Debug, Serialize, ToSchema)]
pub struct Correlation {
    /// What is correlated with what: the teams' `employees.enps` with their `clients.csat_pct`.
    pub of: String,
    /// Pearson's r; `null` with fewer than 3 teams having both (or when either side does not vary).
    pub r: Option<f64>,
    /// How many teams have both figures (eNPS not suppressed).
    pub n: usize,
}

/// The mirror report.
#[derive(Debug, Serialize, ToSchema)]
pub struct MirrorReportView {
    /// One row per team.
    pub items: Vec<MirrorRow>,
    /// Whether how teams are treated goes with how they treat clients.
    pub correlation: Correlation,
}

fn mirror_row(t: MirrorCounts, threshold: i64) -> MirrorRow {
    let enps_suppressed = t.employee_n > 0 && t.employee_n < threshold;
    let upward_suppressed = t.upward_n > 0 && t.upward_n < threshold;
    let enps = report::nps(t.employee_promoters, t.employee_detractors, t.employee_n);
    let nps = report::nps(t.nps_promoters, t.nps_detractors, t.nps_n);
    MirrorRow {
        team_id: t.team_id,
        lead_member_id: t.lead_member_id,
        employees: TreatedView {
            enps_count: (!enps_suppressed).then_some(t.employee_n),
            enps: enps.filter(|_| !enps_suppressed).map(|n| n.score),
            enps_suppressed,
            upward_count: (!upward_suppressed).then_some(t.upward_n),
            upward_average_rating: t.upward_avg.filter(|_| !upward_suppressed),
            upward_suppressed,
        },
        clients: TreatsView {
            csat_count: t.csat_n,
            csat_pct: report::wilson(t.csat_satisfied, t.csat_n).map(|s| s.pct),
            nps_count: t.nps_n,
            nps: nps.map(|n| n.score),
        },
    }
}

/// How each team is treated beside how it treats clients.
///
/// Per team: the employees' eNPS and the average rating of upward feedback about the team's
/// lead, beside the clients' CSAT and NPS for the team, in the same window; and Pearson's r of
/// eNPS against client CSAT across the teams that have both. Employee groups under the
/// organization's `anonymity_threshold` are suppressed (and left out of r). One aggregate.
#[utoipa::path(
    tag = "reports",
    params(WindowParams),
    responses(ListProblems, (status = 200, description = "The mirror", body = MirrorReportView)),
)]
#[get("/reports/mirror")]
pub async fn mirror_report(
    state: web::Data<AppState>,
    caller: Caller,
    params: Query<WindowParams>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadReports)?;
    let window = Window::parse(params.from.as_deref(), params.to.as_deref())?;
    let report = read(&state, &caller, move |db| {
        let (from, to) = window.resolve(db, org)?;
        db.reports().mirror(org, from, to)
    })
    .await?;
    let threshold = report.anonymity_threshold;
    let items: Vec<MirrorRow> = report
        .teams
        .into_iter()
        .map(|t| mirror_row(t, threshold))
        .collect();
    let pairs: Vec<(f64, f64)> = items
        .iter()
        .filter_map(|row| Some((row.employees.enps?, row.clients.csat_pct?)))
        .collect();
    Ok(HttpResponse::Ok().json(MirrorReportView {
        correlation: Correlation {
            of: "employees.enps with clients.csat_pct".to_owned(),
            r: report::pearson(&pairs),
            n: pairs.len(),
        },
        items,
    }))
}

circulo_domain::string_enum! {
    /// Whose figures a row holds.
    pub enum OwnerGroup ("group_by") {
        /// One row per member.
        Member = "member",
        /// One row per team.
        Team = "team",
    }
}

/// A report per member or team over a window.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ByOwnerParams {
    /// One row per `member` (the default) or `team`.
    #[param(inline)]
    pub group_by: Option<OwnerGroup>,
    /// At or after this instant or date (a date is midnight in the organization's zone).
    #[param(min_length = 10, example = "2026-11-01")]
    pub from: Option<String>,
    /// Before this instant or date.
    #[param(min_length = 10, example = "2026-12-01")]
    pub to: Option<String>,
}

impl ByOwnerParams {
    fn by(&self) -> ByOwner {
        match self.group_by {
            Some(OwnerGroup::Team) => ByOwner::Team,
            Some(OwnerGroup::Member) | None => ByOwner::Member,
        }
    }
}

/// Writes a group's key under the name of what it groups.
fn group_ids(by: ByOwner, key: String) -> (Option<Option<String>>, Option<Option<String>>) {
    let key = (!key.is_empty()).then_some(key);
    match by {
        ByOwner::Member => (Some(key), None),
        ByOwner::Team => (None, Some(key)),
    }
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// One member or team of the empowerment report.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmpowermentRow {
    /// The member (with `group_by=member`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_id: Option<Option<String>>,
    /// The team (with `group_by=team`; `null` for members in no team).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<Option<String>>,
    /// Decisions recorded (voided ones left out).
    pub decisions: i64,
    /// Approved on the spot, under a grant.
    pub approved: i64,
    /// Escalated to someone who may decide.
    pub escalated: i64,
    /// `approved / decisions`.
    pub empowerment_rate: Option<f64>,
    /// Minor units approved on the spot.
    pub approved_minor: i64,
    /// `approved_minor` over the budgets of the grant periods those approvals used.
    pub budget_utilisation: Option<f64>,
    /// The median time to answer an escalation, in seconds.
    pub response_p50_seconds: Option<f64>,
    /// The 90th percentile, in seconds.
    pub response_p90_seconds: Option<f64>,
    /// Escalations answered late or still open past their due time.
    pub overdue: i64,
    /// Client CSAT after decisions made on the spot (scores linked by `decision_id`).
    pub csat_after_on_the_spot: CsatView,
    /// Client CSAT after escalated decisions.
    pub csat_after_escalated: CsatView,
}

/// CSAT of a set of scores.
#[derive(Debug, Serialize, ToSchema)]
pub struct CsatView {
    /// Scores.
    pub count: i64,
    /// The share of 4–5, in percent; `null` without scores.
    pub csat_pct: Option<f64>,
}

impl EmpowermentRow {
    fn of(by: ByOwner, c: EmpowermentCounts) -> Self {
        let (member_id, team_id) = group_ids(by, c.grp);
        Self {
            member_id,
            team_id,
            decisions: c.decisions,
            approved: c.on_the_spot,
            escalated: c.escalated,
            empowerment_rate: ratio(c.on_the_spot, c.decisions),
            approved_minor: c.spent_minor,
            budget_utilisation: c.budget_minor.and_then(|b| ratio(c.spent_minor, b)),
            response_p50_seconds: c.response_p50_seconds,
            response_p90_seconds: c.response_p90_seconds,
            overdue: c.overdue,
            csat_after_on_the_spot: CsatView {
                count: c.spot_csat_n,
                csat_pct: report::wilson(c.spot_csat_satisfied, c.spot_csat_n).map(|s| s.pct),
            },
            csat_after_escalated: CsatView {
                count: c.escalated_csat_n,
                csat_pct: report::wilson(c.escalated_csat_satisfied, c.escalated_csat_n)
                    .map(|s| s.pct),
            },
        }
    }
}

/// The empowerment report.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmpowermentReportView {
    /// One row per member or team with decisions in the window.
    pub items: Vec<EmpowermentRow>,
}

/// How far staff decide on the spot, and how clients feel after.
///
/// Per member or team, decisions made in the window: approved on the spot, escalated, the
/// empowerment rate, budget utilisation, escalation response times (p50/p90, nearest rank),
/// overdue escalations, and client CSAT after on-the-spot decisions beside after escalated ones
/// (scores linked by `decision_id`). One aggregate.
#[utoipa::path(
    tag = "reports",
    params(ByOwnerParams),
    responses(ListProblems, (status = 200, description = "The report", body = EmpowermentReportView)),
)]
#[get("/reports/empowerment")]
pub async fn empowerment_report(
    state: web::Data<AppState>,
    caller: Caller,
    params: Query<ByOwnerParams>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadReports)?;
    let window = Window::parse(params.from.as_deref(), params.to.as_deref())?;
    let by = params.by();
    let rows = read(&state, &caller, move |db| {
        let (from, to) = window.resolve(db, org)?;
        db.reports().empowerment(org, by, from, to)
    })
    .await?;
    Ok(HttpResponse::Ok().json(EmpowermentReportView {
        items: rows
            .into_iter()
            .map(|c| EmpowermentRow::of(by, c))
            .collect(),
    }))
}

/// Goals of one member or team, by state.
#[derive(Debug, Serialize, ToSchema)]
pub struct GoalsByStatus {
    /// Drafts.
    pub draft: i64,
    /// Active and not yet due.
    pub active: i64,
    /// Active past their due date.
    pub missed: i64,
    /// Achieved.
    pub achieved: i64,
    /// Cancelled.
    pub cancelled: i64,
}

/// Attainment of a set of goals.
#[derive(Debug, Serialize, ToSchema)]
pub struct Attainment {
    /// Goals in the set.
    pub goals: i64,
    /// `achieved / (achieved + missed)`: of the goals whose outcome is known, the share reached.
    pub attainment_rate: Option<f64>,
}

/// One member or team of the goals report.
#[derive(Debug, Serialize, ToSchema)]
pub struct GoalsRow {
    /// The member (with `group_by=member`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_id: Option<Option<String>>,
    /// The team (with `group_by=team`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<Option<String>>,
    /// Goals due in the window.
    pub goals: i64,
    /// By state.
    pub by_status: GoalsByStatus,
    /// `achieved / (achieved + missed)`.
    pub attainment_rate: Option<f64>,
    /// The average progress (0–1) of active, missed and achieved goals.
    pub average_progress: Option<f64>,
    /// The share of member goals that use one of their owner's strengths.
    pub share_using_strengths: Option<f64>,
    /// Member goals using their owner's strengths.
    pub using_strengths: Attainment,
    /// Member goals using none of them.
    pub not_using_strengths: Attainment,
}

impl GoalsRow {
    fn of(by: ByOwner, c: GoalCounts) -> Self {
        let (member_id, team_id) = group_ids(by, c.grp);
        let member_goals = c.using_strengths + c.not_using_strengths;
        Self {
            member_id,
            team_id,
            goals: c.goals,
            by_status: GoalsByStatus {
                draft: c.draft,
                active: c.active,
                missed: c.missed,
                achieved: c.achieved,
                cancelled: c.cancelled,
            },
            attainment_rate: ratio(c.achieved, c.achieved + c.missed),
            average_progress: c.average_progress,
            share_using_strengths: ratio(c.using_strengths, member_goals),
            using_strengths: Attainment {
                goals: c.using_strengths,
                attainment_rate: ratio(c.using_achieved, c.using_achieved + c.using_missed),
            },
            not_using_strengths: Attainment {
                goals: c.not_using_strengths,
                attainment_rate: ratio(
                    c.not_using_achieved,
                    c.not_using_achieved + c.not_using_missed,
                ),
            },
        }
    }
}

/// The goals report.
#[derive(Debug, Serialize, ToSchema)]
pub struct GoalsReportView {
    /// One row per member or team with goals due in the window.
    pub items: Vec<GoalsRow>,
}

/// How goals are going, and whether building on strengths pays.
///
/// Per member or team, goals due in the window (the organization's dates): by state (missed is
/// active past its due date), attainment rate, average progress, and the attainment of member
/// goals that use their owner's strengths beside those that do not. One aggregate.
#[utoipa::path(
    tag = "reports",
    params(ByOwnerParams),
    responses(ListProblems, (status = 200, description = "The report", body = GoalsReportView)),
)]
#[get("/reports/goals")]
pub async fn goals_report(
    state: web::Data<AppState>,
    caller: Caller,
    params: Query<ByOwnerParams>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadReports)?;
    let window = Window::parse(params.from.as_deref(), params.to.as_deref())?;
    let by = params.by();
    let rows = read(&state, &caller, move |db| {
        let (from, to) = window.resolve(db, org)?;
        db.reports().goals(org, by, from, to)
    })
    .await?;
    Ok(HttpResponse::Ok().json(GoalsReportView {
        items: rows.into_iter().map(|c| GoalsRow::of(by, c)).collect(),
    }))
}
