//! Time windows for list filters: `from` (inclusive) and `to` (exclusive) are instants, or dates
//! that mean midnight in the organization's time zone.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone as _, Utc};

use crate::error::{DomainError, DomainResult};
use crate::organization::TimeZone;

/// One end of a time window as a client wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBound {
    /// An RFC 3339 timestamp.
    Instant(DateTime<Utc>),
    /// A calendar date, read in the organization's zone.
    Date(NaiveDate),
}

impl TimeBound {
    /// Reads `YYYY-MM-DD` or an RFC 3339 timestamp.
    pub fn parse(field: &str, raw: &str) -> DomainResult<Self> {
        if let Ok(date) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            return Ok(Self::Date(date));
        }
        DateTime::parse_from_rfc3339(raw)
            .map(|t| Self::Instant(t.with_timezone(&Utc)))
            .map_err(|_| {
                DomainError::invalid(
                    field,
                    "must be a date (YYYY-MM-DD) or an RFC 3339 timestamp",
                )
            })
    }

    /// The instant this bound stands for in `zone`. A midnight that a daylight-saving jump skips
    /// becomes the first instant of that day.
    pub fn resolve(self, zone: TimeZone) -> DateTime<Utc> {
        match self {
            Self::Instant(t) => t,
            Self::Date(date) => {
                let tz = zone.tz();
                let midnight = date.and_time(NaiveTime::MIN);
                match tz.from_local_datetime(&midnight).earliest() {
                    Some(t) => t.with_timezone(&Utc),
                    None => (0..24 * 4)
                        .filter_map(|quarter| {
                            let local = midnight + chrono::TimeDelta::minutes(15 * quarter);
                            tz.from_local_datetime(&local).earliest()
                        })
                        .next()
                        .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc)),
                }
            }
        }
    }

    /// Whether reading this bound needs the organization's zone.
    pub fn needs_zone(&self) -> bool {
        matches!(self, Self::Date(_))
    }
}

/// Checks that a window is not inverted.
pub fn check_window(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> DomainResult<()> {
    match (from, to) {
        (Some(from), Some(to)) if to < from => {
            Err(DomainError::invalid("to", "must not be before from"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_means_midnight_in_the_zone() {
        let madrid = TimeZone::parse("tz", "Europe/Madrid").unwrap();
        let bound = TimeBound::parse("from", "2026-11-22").unwrap();
        assert_eq!(
            bound.resolve(madrid).to_rfc3339(),
            "2026-11-21T23:00:00+00:00"
        );
    }

    #[test]
    fn a_timestamp_is_taken_as_is() {
        let utc = TimeZone::parse("tz", "UTC").unwrap();
        let bound = TimeBound::parse("from", "2026-11-22T10:00:00+02:00").unwrap();
        assert_eq!(bound.resolve(utc).to_rfc3339(), "2026-11-22T08:00:00+00:00");
    }

    #[test]
    fn a_skipped_midnight_becomes_the_first_instant_of_the_day() {
        // Santiago de Chile skips from 00:00 to 01:00 on 2026-09-06.
        let santiago = TimeZone::parse("tz", "America/Santiago").unwrap();
        let bound = TimeBound::parse("from", "2026-09-06").unwrap();
        assert_eq!(
            bound.resolve(santiago).to_rfc3339(),
            "2026-09-06T04:00:00+00:00"
        );
    }

    #[test]
    fn garbage_and_inverted_windows_are_refused() {
        assert!(TimeBound::parse("from", "yesterday").is_err());
        let t = Utc::now();
        assert!(check_window(Some(t), Some(t - chrono::TimeDelta::seconds(1))).is_err());
        assert!(check_window(Some(t), Some(t)).is_ok());
    }
}
