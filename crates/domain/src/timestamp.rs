//! Timestamps as Circulo writes them, in the API and in the audit log's snapshots alike: RFC 3339
//! in UTC with microseconds (`2026-11-22T10:00:00.123456Z`), the precision both databases keep.
//! Written digit by digit: a page of members holds a hundred of them, and chrono's general
//! formatter spent a tenth of such a request's time on them.

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use serde::Serializer;

/// Serializes `t` (for `#[serde(serialize_with = "…")]`).
pub fn rfc3339<S: Serializer>(t: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    let mut buffer = [0_u8; 27];
    match write(t, &mut buffer) {
        Some(text) => serializer.serialize_str(text),
        None => serializer.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Micros, true)),
    }
}

/// `t` as text, as [`rfc3339`] writes it: for values built by hand (a snapshot's JSON).
pub fn rfc3339_text(t: &DateTime<Utc>) -> String {
    let mut buffer = [0_u8; 27];
    match write(t, &mut buffer) {
        Some(text) => text.to_owned(),
        None => t.to_rfc3339_opts(SecondsFormat::Micros, true),
    }
}

/// Serializes an optional timestamp: `null`, or as [`rfc3339`] does.
pub fn rfc3339_opt<S: Serializer>(
    t: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => rfc3339(t, serializer),
        None => serializer.serialize_none(),
    }
}

/// `t` into `buffer`, for years 0 to 9999 (the rest take the slow path).
fn write<'a>(t: &DateTime<Utc>, buffer: &'a mut [u8; 27]) -> Option<&'a str> {
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let micros = t.nanosecond() / 1000 % 1_000_000;
    let mut put = |at: usize, value: u32, digits: usize| {
        let mut value = value;
        for i in (0..digits).rev() {
            buffer[at + i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, year, 4);
    put(5, t.month(), 2);
    put(8, t.day(), 2);
    put(11, t.hour(), 2);
    put(14, t.minute(), 2);
    put(17, t.second(), 2);
    put(20, micros, 6);
    for (at, separator) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (26, b'Z'),
    ] {
        buffer[at] = separator;
    }
    std::str::from_utf8(buffer).ok()
}

/// The latest year a client may name: both databases must order the instants they keep, and
/// SQLite orders them as text, which a fifth digit breaks.
pub const MAX_YEAR: i32 = 9999;

/// Refuses an instant or date outside years 1 to [`MAX_YEAR`].
pub fn check_year(field: &str, year: i32) -> crate::DomainResult<()> {
    if (1..=MAX_YEAR).contains(&year) {
        Ok(())
    } else {
        Err(crate::DomainError::invalid(
            field,
            format!("must be in the years 1 to {MAX_YEAR}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn shown(t: DateTime<Utc>) -> String {
        let mut buffer = [0_u8; 27];
        write(&t, &mut buffer).unwrap().to_owned()
    }

    #[test]
    fn timestamps_are_written_as_chrono_writes_them_with_microseconds() {
        let t = Utc.with_ymd_and_hms(2026, 3, 9, 7, 5, 3).unwrap()
            + chrono::TimeDelta::microseconds(42);
        assert_eq!(shown(t), "2026-03-09T07:05:03.000042Z");
        assert_eq!(shown(t), t.to_rfc3339_opts(SecondsFormat::Micros, true));
        let now = Utc::now();
        assert_eq!(shown(now), now.to_rfc3339_opts(SecondsFormat::Micros, true));
        let leap = Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 59).unwrap();
        assert_eq!(shown(leap), "2024-02-29T23:59:59.000000Z");
    }
}
