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
use circulo_persistence::{SatisfactionCounts, SatisfactionQuery};

use super::window::Window;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::openapi::problems::ListProblems;
use crate::state::{AppState, read};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(satisfaction_report);
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
    pub group_by: Option<GroupBy>,
    /// Cut the window into local `day`s, `week`s (from Monday) or `month`s, or `none` (the
    /// default). Needs `from` and `to`.
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

/// The satisfaction report.
#[derive(Debug, Serialize, ToSchema)]
pub struct SatisfactionReportView {
    /// One row per group and period with scores.
    pub items: Vec<SatisfactionRow>,
}

impl SatisfactionRow {
    fn of(counts: SatisfactionCounts, group_by: GroupBy, bucketed: bool, suppressed: bool) -> Self {
        let group = Some(counts.grp.clone());
        let period_start = bucketed.then(|| counts.period_start());
        let mut row = Self {
            period_start,
            member_id: (group_by == GroupBy::Member).then(|| group.clone().flatten()),
            team_id: (group_by == GroupBy::Team).then(|| group.clone().flatten()),
            touchpoint: (group_by == GroupBy::Touchpoint).then(|| group.flatten()),
            suppressed,
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
        if suppressed {
            return row;
        }
        let csat = report::wilson(counts.csat_satisfied, counts.csat_n);
        let nps = report::nps(counts.promoters, counts.detractors, counts.nps_n);
        let some = |n: i64, value: i64| (n > 0).then_some(value);
        row.count = Some(counts.n);
        row.csat_count = Some(counts.csat_n);
        row.csat_pct = csat.map(|s| s.pct);
        row.csat_ci = csat.map(|s| ShareView {
            pct: s.pct,
            low: s.low,
            high: s.high,
        });
        row.nps_count = Some(counts.nps_n);
        row.nps = nps.map(|n| n.score);
        row.nps_margin_of_error = nps.map(|n| n.margin_of_error);
        row.promoters = some(counts.nps_n, counts.promoters);
        row.passives = some(counts.nps_n, counts.passives);
        row.detractors = some(counts.nps_n, counts.detractors);
        row.ces_count = Some(counts.ces_n);
        row.ces_avg = counts.ces_avg;
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
    params: web::Query<SatisfactionParams>,
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
            let suppressed = audience == Audience::Employee && counts.n < threshold;
            SatisfactionRow::of(counts, group_by, interval != Interval::None, suppressed)
        })
        .collect();
    Ok(HttpResponse::Ok().json(SatisfactionReportView { items }))
}
