//! Satisfaction scores: how clients rate the service they got (CSAT, NPS, CES) and how
//! employees rate their workplace (eNPS and pulse answers). A score's range follows its
//! instrument; a low one (by the organization's thresholds) is a detractor someone should answer.

use std::ops::RangeInclusive;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::{DomainResult, Validator};
use crate::feedback::Touchpoint;
use crate::organization::{LowScoreThresholds, in_range};
use crate::{DecisionId, MemberId, ScoreId, TeamId, text, timestamp};

/// The longest `source`, `external_id` and `client_ref`.
pub const MAX_REF_CHARS: usize = 200;
/// The longest comment.
pub const MAX_COMMENT_CHARS: usize = 4000;
/// The range of each I-CARE sub-score.
pub const ICARE_SCORE: RangeInclusive<i32> = 1..=5;
/// The most items one batch takes.
pub const MAX_BATCH_ITEMS: usize = 1000;

crate::string_enum! {
    /// Who gave a score.
    pub enum Audience ("audience") {
        /// A client, about the service they got.
        Client = "client",
        /// An employee, about their workplace; kept with no trace of who answered.
        Employee = "employee",
    }
}

crate::string_enum! {
    /// What a score measures, and so its range.
    pub enum Instrument ("instrument") {
        /// Customer satisfaction, 1–5 (4 and 5 are satisfied).
        Csat = "csat",
        /// Net promoter score, 0–10 (9–10 promoters, 0–6 detractors).
        Nps = "nps",
        /// Customer effort, 1–7 (lower is easier).
        Ces = "ces",
    }
}

impl Instrument {
    /// The scores this instrument takes.
    pub fn range(self) -> RangeInclusive<i32> {
        match self {
            Self::Csat => 1..=5,
            Self::Nps => 0..=10,
            Self::Ces => 1..=7,
        }
    }

    /// Whether `score` is low enough (high enough, for effort) that someone should respond.
    pub fn is_detractor(self, score: i32, thresholds: &LowScoreThresholds) -> bool {
        let threshold = match self {
            Self::Csat => thresholds.csat_at_most,
            Self::Nps => thresholds.nps_at_most,
            Self::Ces => thresholds.ces_at_least,
        };
        match self.low_side() {
            LowSide::AtMost => score <= threshold,
            LowSide::AtLeast => score >= threshold,
        }
    }

    /// On which side of the organization's threshold for this instrument its low scores lie
    /// (for a statement that compares a score with the threshold where it is stored).
    pub fn low_side(self) -> LowSide {
        match self {
            Self::Csat | Self::Nps => LowSide::AtMost,
            Self::Ces => LowSide::AtLeast,
        }
    }
}

/// Where an instrument's low scores lie against its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LowSide {
    /// At or below it (satisfaction, likelihood to recommend).
    AtMost,
    /// At or above it (effort: more is worse).
    AtLeast,
}

/// I-CARE sub-scores, each 1–5 where given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IcareScores {
    /// The ideal the business stands for.
    pub ideal: Option<i32>,
    /// How people work together.
    pub culture: Option<i32>,
    /// Attention to the client.
    pub attention: Option<i32>,
    /// Immediate response.
    pub response: Option<i32>,
    /// Empathy.
    pub empathy: Option<i32>,
}

fn icare_or_null<S: serde::Serializer>(
    icare: &IcareScores,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    if icare.is_empty() {
        serializer.serialize_none()
    } else {
        icare.serialize(serializer)
    }
}

impl IcareScores {
    /// Whether no sub-score is given.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// I-CARE sub-scores as a client sent them.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawIcare {
    /// Ideal.
    pub ideal: Option<i64>,
    /// Culture.
    pub culture: Option<i64>,
    /// Attention.
    pub attention: Option<i64>,
    /// Response.
    pub response: Option<i64>,
    /// Empathy.
    pub empathy: Option<i64>,
}

/// A score as a client sent it.
#[derive(Debug, Clone, Copy)]
pub struct RawScore<'a> {
    /// Audience.
    pub audience: Audience,
    /// Instrument.
    pub instrument: Instrument,
    /// Score.
    pub score: i64,
    /// Member who served the client.
    pub member_id: Option<MemberId>,
    /// Team.
    pub team_id: Option<TeamId>,
    /// Client reference.
    pub client_ref: Option<&'a str>,
    /// Touchpoint.
    pub touchpoint: Touchpoint,
    /// When the contact happened.
    pub occurred_at: DateTime<Utc>,
    /// The sending system.
    pub source: &'a str,
    /// The sending system's id for it.
    pub external_id: Option<&'a str>,
    /// Comment.
    pub comment: Option<&'a str>,
    /// I-CARE sub-scores.
    pub icare: Option<RawIcare>,
    /// The decision made in that contact.
    pub decision_id: Option<DecisionId>,
    /// When the server received it: a contact may not lie ahead of it.
    pub received_at: DateTime<Utc>,
}

/// A score validated, not yet recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScoreFields {
    /// Who gave it.
    pub audience: Audience,
    /// What it measures.
    pub instrument: Instrument,
    /// The score, within the instrument's range.
    pub score: i32,
    /// The member who served the client (client scores only).
    pub member_id: Option<MemberId>,
    /// The team it is about.
    pub team_id: Option<TeamId>,
    /// The client's reference (client scores only).
    pub client_ref: Option<String>,
    /// Where the contact happened.
    pub touchpoint: Touchpoint,
    /// When; an employee score's is its day (midnight UTC).
    #[serde(serialize_with = "timestamp::rfc3339")]
    pub occurred_at: DateTime<Utc>,
    /// The sending system.
    pub source: String,
    /// The sending system's id for it: with `source`, what makes a repeat a repeat.
    pub external_id: Option<String>,
    /// What the giver said.
    pub comment: Option<String>,
    /// I-CARE sub-scores; `null` when none is given, as the API shows them.
    #[serde(serialize_with = "icare_or_null")]
    pub icare: IcareScores,
    /// The decision made in that contact (client scores only).
    pub decision_id: Option<DecisionId>,
}

impl ScoreFields {
    /// Validates every field, reporting all failures together.
    pub fn parse(raw: RawScore<'_>) -> DomainResult<Self> {
        let mut v = Validator::new();
        let score = v.check(in_range("score", raw.score, raw.instrument.range()));
        let employee = raw.audience == Audience::Employee;
        if employee {
            // Who served whom, and in which contact, would point at the person who answered.
            if raw.member_id.is_some() {
                v.fail("member_id", "an employee score names no member");
            }
            if raw.decision_id.is_some() {
                v.fail("decision_id", "an employee score names no decision");
            }
            if raw.team_id.is_none() {
                v.fail("team_id", "an employee score is about a team");
            }
        }
        let client_ref = raw.client_ref.map(|r| {
            if employee {
                v.fail("client_ref", "only client scores name a client");
            }
            v.check(text::single_line("client_ref", r, MAX_REF_CHARS))
        });
        v.check(timestamp::check_year(
            "occurred_at",
            chrono::Datelike::year(&raw.occurred_at),
        ));
        if raw.occurred_at
            > raw.received_at + chrono::TimeDelta::seconds(crate::goal::MAX_CLOCK_SKEW_SECONDS)
        {
            v.fail("occurred_at", "may not be in the future");
        }
        let source = v.check(text::single_line("source", raw.source, MAX_REF_CHARS));
        let external_id = raw
            .external_id
            .map(|e| v.check(text::single_line("external_id", e, MAX_REF_CHARS)));
        let comment = raw
            .comment
            .map(|c| v.check(text::multi_line("comment", c, MAX_COMMENT_CHARS)));
        let icare = raw.icare.unwrap_or_default();
        let mut sub = |field: &str, value: Option<i64>| {
            value.and_then(|value| v.check(in_range(field, value, ICARE_SCORE)))
        };
        let icare = IcareScores {
            ideal: sub("icare.ideal", icare.ideal),
            culture: sub("icare.culture", icare.culture),
            attention: sub("icare.attention", icare.attention),
            response: sub("icare.response", icare.response),
            empathy: sub("icare.empathy", icare.empathy),
        };
        let occurred_at = if employee {
            day_of(raw.occurred_at)
        } else {
            raw.occurred_at
        };
        v.build(|| {
            Some(Self {
                audience: raw.audience,
                instrument: raw.instrument,
                score: score?,
                member_id: raw.member_id,
                team_id: raw.team_id,
                client_ref: client_ref.map(|r| r.ok_or(())).transpose().ok()?,
                touchpoint: raw.touchpoint,
                occurred_at,
                source: source?,
                external_id: external_id.map(|e| e.ok_or(())).transpose().ok()?,
                comment: comment.map(|c| c.ok_or(())).transpose().ok()?,
                icare,
                decision_id: raw.decision_id,
            })
        })
    }
}

/// Midnight UTC of `t`'s day.
fn day_of(t: DateTime<Utc>) -> DateTime<Utc> {
    t.date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|midnight| midnight.and_utc())
        .unwrap_or(t)
}

/// Who recorded a client score (an employee score keeps none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recorder {
    /// The role of their token.
    pub role: String,
    /// Their token's subject.
    pub subject: String,
}

/// A recorded satisfaction score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Score {
    /// Its id.
    pub id: ScoreId,
    /// What was recorded.
    #[serde(flatten)]
    pub fields: ScoreFields,
    /// Who recorded it; `None` for employee scores. Not part of the score as the API and its
    /// events show it: the audit log names who recorded it.
    #[serde(skip_serializing)]
    pub recorded_by: Option<Recorder>,
    /// When it was recorded (an employee score's: its day).
    #[serde(serialize_with = "timestamp::rfc3339")]
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn raw(instrument: Instrument, score: i64) -> RawScore<'static> {
        RawScore {
            audience: Audience::Client,
            instrument,
            score,
            member_id: None,
            team_id: None,
            client_ref: None,
            touchpoint: Touchpoint::Pos,
            occurred_at: Utc.with_ymd_and_hms(2026, 11, 30, 15, 42, 7).unwrap(),
            source: "crm",
            external_id: Some("r-1"),
            comment: None,
            icare: None,
            decision_id: None,
            received_at: Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
        }
    }

    #[test]
    fn each_instrument_takes_its_own_range_and_names_the_field_otherwise() {
        for (instrument, low, high) in [
            (Instrument::Csat, 1, 5),
            (Instrument::Nps, 0, 10),
            (Instrument::Ces, 1, 7),
        ] {
            assert!(ScoreFields::parse(raw(instrument, low)).is_ok());
            assert!(ScoreFields::parse(raw(instrument, high)).is_ok());
            for bad in [low - 1, high + 1, i64::MAX, i64::MIN] {
                let err = ScoreFields::parse(raw(instrument, bad)).unwrap_err();
                assert_eq!(err.field_errors()[0].field, "score", "{instrument:?} {bad}");
            }
        }
    }

    #[test]
    fn detractors_follow_the_organization_thresholds() {
        let t = LowScoreThresholds::default();
        assert!(Instrument::Csat.is_detractor(2, &t));
        assert!(!Instrument::Csat.is_detractor(3, &t));
        assert!(Instrument::Nps.is_detractor(6, &t));
        assert!(!Instrument::Nps.is_detractor(7, &t));
        assert!(Instrument::Ces.is_detractor(5, &t));
        assert!(!Instrument::Ces.is_detractor(4, &t));
    }

    #[test]
    fn an_employee_score_keeps_only_its_day_and_names_no_one() {
        let mut employee = raw(Instrument::Nps, 9);
        employee.audience = Audience::Employee;
        employee.team_id = Some(TeamId::generate());
        let fields = ScoreFields::parse(employee).unwrap();
        assert_eq!(
            fields.occurred_at,
            Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap()
        );
        employee.member_id = Some(MemberId::generate());
        employee.client_ref = Some("C-1");
        let err = ScoreFields::parse(employee).unwrap_err();
        let fields: Vec<_> = err
            .field_errors()
            .iter()
            .map(|e| e.field.as_str())
            .collect();
        assert_eq!(fields, ["member_id", "client_ref"]);
    }
}
