//! Time as the database keeps it: UTC without a zone, to the microsecond (PostgreSQL's precision;
//! SQLite would keep more, and the two backends must read back the same value).

use chrono::{DateTime, DurationRound, NaiveDateTime, TimeDelta, Utc};

/// The current time, truncated to what both databases store.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}

pub(crate) fn to_db(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc()
}

pub(crate) fn from_db(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_has_microsecond_precision() {
        assert_eq!(now().timestamp_subsec_nanos() % 1_000, 0);
    }

    #[test]
    fn db_round_trip_keeps_the_instant() {
        let t = now();
        assert_eq!(from_db(to_db(t)), t);
    }
}
