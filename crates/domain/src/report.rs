//! What reports compute beyond the database's counts: the periods a window is cut into (in the
//! organization's zone, so a day is a local day across daylight-saving changes) and the
//! statistics of the counts (a Wilson interval for a share, the margin of error of an NPS,
//! Pearson's r across groups). The counting itself is one SQL aggregate per report.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};

use crate::error::{DomainError, DomainResult};
use crate::organization::TimeZone;
use crate::window::TimeBound;

/// The z value of a two-sided 95 % interval.
pub const Z95: f64 = 1.959_963_984_540_054;
/// The most periods one report is cut into.
pub const MAX_PERIODS: usize = 1000;

crate::string_enum! {
    /// How a report cuts its window into periods.
    pub enum Interval ("interval") {
        /// The whole window at once.
        None = "none",
        /// Local days.
        Day = "day",
        /// Local weeks, from Monday.
        Week = "week",
        /// Local calendar months.
        Month = "month",
    }
}

crate::string_enum! {
    /// What a satisfaction report groups by.
    pub enum GroupBy ("group_by") {
        /// Nothing: one row per period.
        None = "none",
        /// The member who served the client.
        Member = "member",
        /// The team.
        Team = "team",
        /// Where the contact happened.
        Touchpoint = "touchpoint",
    }
}

/// One period of a report: from `start` (inclusive) to `end` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// The first instant in it.
    pub start: DateTime<Utc>,
    /// The first instant after it.
    pub end: DateTime<Utc>,
}

/// Cuts the window from `from` to `to` into periods of `interval` in `zone`: local days, weeks
/// from Monday or calendar months, the first and last cut to the window. `Interval::None` is the
/// window itself (open ends as far as timestamps go).
pub fn periods(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    interval: Interval,
    zone: TimeZone,
) -> DomainResult<Vec<Period>> {
    let earliest = DateTime::<Utc>::MIN_UTC;
    let latest = DateTime::<Utc>::MAX_UTC;
    if interval == Interval::None {
        return Ok(vec![Period {
            start: from.unwrap_or(earliest),
            end: to.unwrap_or(latest),
        }]);
    }
    let (Some(from), Some(to)) = (from, to) else {
        return Err(DomainError::invalid(
            "interval",
            "a report cut into periods needs both from and to",
        ));
    };
    let mut periods = Vec::new();
    let mut start = first_period_start(zone.date_at(from), interval);
    while TimeBound::Date(start).resolve(zone) < to {
        let next = next_period_start(start, interval).ok_or_else(|| {
            DomainError::invalid("to", "the window runs past the last date the calendar has")
        })?;
        let (a, b) = (
            TimeBound::Date(start).resolve(zone).max(from),
            TimeBound::Date(next).resolve(zone).min(to),
        );
        if a < b {
            periods.push(Period { start: a, end: b });
        }
        if periods.len() > MAX_PERIODS {
            return Err(DomainError::invalid(
                "interval",
                format!("the window holds more than {MAX_PERIODS} periods of this interval"),
            ));
        }
        start = next;
    }
    Ok(periods)
}

fn first_period_start(date: NaiveDate, interval: Interval) -> NaiveDate {
    match interval {
        Interval::Week => date
            .checked_sub_days(Days::new(u64::from(date.weekday().num_days_from_monday())))
            .unwrap_or(date),
        Interval::Month => date.with_day(1).unwrap_or(date),
        Interval::Day | Interval::None => date,
    }
}

fn next_period_start(start: NaiveDate, interval: Interval) -> Option<NaiveDate> {
    match interval {
        Interval::Day | Interval::None => start.checked_add_days(Days::new(1)),
        Interval::Week => start.checked_add_days(Days::new(7)),
        Interval::Month => start.checked_add_months(Months::new(1)),
    }
}

/// A share with its 95 % Wilson score interval, all in percent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Share {
    /// `hits` of `n`, in percent.
    pub pct: f64,
    /// The interval's lower bound.
    pub low: f64,
    /// The interval's upper bound.
    pub high: f64,
}

/// `hits` of `n` with its Wilson interval; `None` when `n` is 0.
pub fn wilson(hits: i64, n: i64) -> Option<Share> {
    if n <= 0 {
        return None;
    }
    #[allow(clippy::cast_precision_loss)]
    let (hits, n) = (hits as f64, n as f64);
    let p = hits / n;
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    Some(Share {
        pct: 100.0 * p,
        low: 100.0 * (centre - half).max(0.0),
        high: 100.0 * (centre + half).min(1.0),
    })
}

/// A net promoter score and its 95 % margin of error, in points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nps {
    /// % promoters minus % detractors.
    pub score: f64,
    /// The half-width of its 95 % interval.
    pub margin_of_error: f64,
}

/// The NPS of `promoters` and `detractors` among `n` answers; `None` when `n` is 0. Each
/// answer scores +1, 0 or −1, so the variance is `p + d − (p − d)²`.
pub fn nps(promoters: i64, detractors: i64, n: i64) -> Option<Nps> {
    if n <= 0 {
        return None;
    }
    #[allow(clippy::cast_precision_loss)]
    let (p, d, n) = (
        promoters as f64 / n as f64,
        detractors as f64 / n as f64,
        n as f64,
    );
    let variance = (p + d - (p - d) * (p - d)).max(0.0);
    Some(Nps {
        score: 100.0 * (p - d),
        margin_of_error: 100.0 * Z95 * (variance / n).sqrt(),
    })
}

/// Pearson's r of the pairs; `None` with fewer than 3 pairs or when either side does not vary.
pub fn pearson(pairs: &[(f64, f64)]) -> Option<f64> {
    if pairs.len() < 3 {
        return None;
    }
    #[allow(clippy::cast_precision_loss)]
    let n = pairs.len() as f64;
    let (mx, my) = pairs
        .iter()
        .fold((0.0, 0.0), |(x, y), (a, b)| (x + a / n, y + b / n));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        return None;
    }
    Some(sxy / (sxx * syy).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 0.005
    }

    #[test]
    fn eight_of_ten_satisfied_is_80_percent_between_49_and_94() {
        let share = wilson(8, 10).unwrap();
        assert!(close(share.pct, 80.0));
        assert!(close(share.low, 49.02), "{share:?}");
        assert!(close(share.high, 94.33), "{share:?}");
        assert!(wilson(0, 0).is_none());
    }

    #[test]
    fn six_promoters_two_passives_two_detractors_is_plus_40_give_or_take_49_6() {
        let score = nps(6, 2, 10).unwrap();
        assert!(close(score.score, 40.0));
        // variance 0.6 + 0.2 − 0.4² = 0.64; 1.96 · √0.064 = 0.4958
        assert!(close(score.margin_of_error, 49.58), "{score:?}");
    }

    #[test]
    fn pearson_needs_three_pairs_and_follows_the_textbook() {
        assert!(pearson(&[(1.0, 2.0), (2.0, 4.0)]).is_none());
        let r = pearson(&[(1.0, 2.0), (2.0, 3.0), (3.0, 5.0), (4.0, 4.0)]).unwrap();
        // Deviations from the means (2.5, 3.5): Σxy = 4, Σxx = 5, Σyy = 5, so r = 0.8.
        assert!(close(r, 0.8), "{r}");
    }

    #[test]
    fn a_day_across_the_autumn_change_is_25_hours_long() {
        // Madrid leaves summer time on 25 October 2026: local midnights at 22:00 UTC on the
        // 24th, 23:00 UTC on the 25th and 23:00 UTC on the 26th.
        let zone = TimeZone::parse("timezone", "Europe/Madrid").unwrap();
        let from = Utc.with_ymd_and_hms(2026, 10, 24, 22, 0, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2026, 10, 26, 23, 0, 0).unwrap();
        let days = periods(Some(from), Some(to), Interval::Day, zone).unwrap();
        let hours: Vec<i64> = days.iter().map(|d| (d.end - d.start).num_hours()).collect();
        assert_eq!(hours, [25, 24]);
        assert_eq!(
            days[1].start,
            Utc.with_ymd_and_hms(2026, 10, 25, 23, 0, 0).unwrap()
        );
        let months = periods(Some(from), Some(to), Interval::Month, zone).unwrap();
        assert_eq!(
            months,
            [Period {
                start: from,
                end: to
            }]
        );
    }
}
