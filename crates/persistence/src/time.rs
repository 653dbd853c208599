//! Time as the database keeps it: UTC without a zone, to the microsecond (PostgreSQL's precision;
//! SQLite would keep more, and the two backends must read back the same value).

use chrono::{DateTime, DurationRound, NaiveDateTime, TimeDelta, Utc};

/// The current time, truncated to what both databases store.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}

/// The start of the current UTC day: the only time an untraced change may record.
pub fn today() -> DateTime<Utc> {
    Utc::now()
        .date_naive()
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
}

/// A fresh id whose embedded time is the start of today: UUIDv7 ids otherwise carry the
/// millisecond they were made, which an untraced change must not reveal.
pub(crate) fn date_id() -> uuid::Uuid {
    let seconds = u64::try_from(today().timestamp()).unwrap_or_default();
    uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, seconds, 0))
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
    fn date_ids_carry_only_the_date() {
        let id = date_id();
        let (seconds, nanos) = id.get_timestamp().unwrap().to_unix();
        assert_eq!(seconds % 86_400, 0);
        assert_eq!(nanos, 0);
        assert_ne!(date_id(), id, "the rest of the id is random");
    }

    #[test]
    fn db_round_trip_keeps_the_instant() {
        let t = now();
        assert_eq!(from_db(to_db(t)), t);
    }
}
