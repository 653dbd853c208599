//! Organizations (tenants) and their settings.

use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::error::{DomainError, DomainResult, Validator};
use crate::ids::OrgId;
use crate::text;

/// An ISO 4217 currency code such as `EUR`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct CurrencyCode(String);

impl CurrencyCode {
    /// Accepts only codes ISO 4217 defines, in upper case.
    pub fn parse(field: &str, raw: &str) -> DomainResult<Self> {
        match iso_currency::Currency::from_code(raw) {
            Some(currency) => Ok(Self(currency.code().to_owned())),
            None => Err(DomainError::invalid(
                field,
                "must be an ISO 4217 currency code such as EUR",
            )),
        }
    }

    /// The three-letter code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IANA time zone such as `Europe/Madrid`; dates in reports mean midnight there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    /// Accepts names from the IANA time zone database.
    pub fn parse(field: &str, raw: &str) -> DomainResult<Self> {
        chrono_tz::Tz::from_str(raw).map(Self).map_err(|_| {
            DomainError::invalid(field, "must be an IANA time zone such as Europe/Madrid")
        })
    }

    /// Coordinated Universal Time.
    pub fn utc() -> Self {
        Self(chrono_tz::UTC)
    }

    /// The zone's IANA name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The zone itself, for date arithmetic.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.0
    }
}

impl serde::Serialize for TimeZone {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// Which satisfaction scores count as low enough to act on now (`score.detractor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LowScoreThresholds {
    /// A CSAT (1–5) at or below this is low. Default 2.
    pub csat_at_most: i32,
    /// An NPS answer (0–10) at or below this is low. Default 6: the detractors.
    pub nps_at_most: i32,
    /// A CES (1–7) at or above this is low. Default 5.
    pub ces_at_least: i32,
}

impl Default for LowScoreThresholds {
    fn default() -> Self {
        Self {
            csat_at_most: 2,
            nps_at_most: 6,
            ces_at_least: 5,
        }
    }
}

impl LowScoreThresholds {
    /// Checks each threshold lies inside its instrument's scale, leaving at least one score that
    /// is not low.
    pub fn parse(csat_at_most: i64, nps_at_most: i64, ces_at_least: i64) -> DomainResult<Self> {
        let mut v = Validator::new();
        let csat = v.check(in_range(
            "low_score_thresholds.csat_at_most",
            csat_at_most,
            1,
            4,
        ));
        let nps = v.check(in_range(
            "low_score_thresholds.nps_at_most",
            nps_at_most,
            0,
            9,
        ));
        let ces = v.check(in_range(
            "low_score_thresholds.ces_at_least",
            ces_at_least,
            2,
            7,
        ));
        v.build(|| {
            Some(Self {
                csat_at_most: csat?,
                nps_at_most: nps?,
                ces_at_least: ces?,
            })
        })
    }
}

/// Checks an integer setting lies in `min..=max`.
pub fn in_range(field: &str, value: i64, min: i32, max: i32) -> DomainResult<i32> {
    if (i64::from(min)..=i64::from(max)).contains(&value) {
        i32::try_from(value).map_err(|_| DomainError::invalid(field, "out of range"))
    } else {
        Err(DomainError::invalid(
            field,
            format!("must be between {min} and {max}"),
        ))
    }
}

/// How an organization runs Circulo.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OrganizationSettings {
    /// Anonymous feedback about a subject shows only once this many items exist. At least 3.
    pub anonymity_threshold: i32,
    /// How soon an escalation should be answered.
    pub escalation_response_target_minutes: i32,
    /// Which scores count as low.
    pub low_score_thresholds: LowScoreThresholds,
}

impl Default for OrganizationSettings {
    fn default() -> Self {
        Self {
            anonymity_threshold: 5,
            escalation_response_target_minutes: 60,
            low_score_thresholds: LowScoreThresholds::default(),
        }
    }
}

/// Validates an anonymity threshold: at least 3, so no single answer can be singled out.
pub fn anonymity_threshold(value: i64) -> DomainResult<i32> {
    in_range("anonymity_threshold", value, 3, 1000)
}

/// Validates the escalation response target: one minute to one week.
pub fn escalation_response_target_minutes(value: i64) -> DomainResult<i32> {
    in_range("escalation_response_target_minutes", value, 1, 10_080)
}

/// An organization as stored. It serializes as the API shows it (settings at the top level), which
/// is how the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Organization {
    /// The tenant id every other row carries.
    pub id: OrgId,
    /// Display name.
    pub name: String,
    /// The currency amounts are kept in.
    pub currency: CurrencyCode,
    /// The zone that dates are read in.
    pub timezone: TimeZone,
    /// Tunable settings.
    #[serde(flatten)]
    pub settings: OrganizationSettings,
    /// Optimistic-concurrency version, bumped by every change.
    pub version: i64,
    /// When it was created.
    #[serde(serialize_with = "crate::timestamp::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "crate::timestamp::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// A valid request to create an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrganization {
    /// Display name.
    pub name: String,
    /// The currency amounts are kept in.
    pub currency: CurrencyCode,
    /// The zone that dates are read in.
    pub timezone: TimeZone,
}

/// Validates an organization's display name.
pub fn organization_name(raw: &str) -> DomainResult<String> {
    text::single_line("name", raw, 200)
}

impl NewOrganization {
    /// Validates every field, reporting all failures together.
    pub fn parse(name: &str, currency: &str, timezone: &str) -> DomainResult<Self> {
        let mut v = Validator::new();
        let name = v.check(organization_name(name));
        let currency = v.check(CurrencyCode::parse("currency", currency));
        let timezone = v.check(TimeZone::parse("timezone", timezone));
        v.build(|| {
            Some(Self {
                name: name?,
                currency: currency?,
                timezone: timezone?,
            })
        })
    }
}

/// A validated change to an organization; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationPatch {
    /// New display name.
    pub name: Option<String>,
    /// New time zone.
    pub timezone: Option<TimeZone>,
    /// New anonymity threshold.
    pub anonymity_threshold: Option<i32>,
    /// New escalation response target.
    pub escalation_response_target_minutes: Option<i32>,
    /// New low-score thresholds.
    pub low_score_thresholds: Option<LowScoreThresholds>,
}

impl Organization {
    /// The organization with `patch` applied. The version is the store's business.
    pub fn patched(mut self, patch: OrganizationPatch) -> Self {
        if let Some(name) = patch.name {
            self.name = name;
        }
        if let Some(timezone) = patch.timezone {
            self.timezone = timezone;
        }
        let s = &mut self.settings;
        if let Some(value) = patch.anonymity_threshold {
            s.anonymity_threshold = value;
        }
        if let Some(value) = patch.escalation_response_target_minutes {
            s.escalation_response_target_minutes = value;
        }
        if let Some(value) = patch.low_score_thresholds {
            s.low_score_thresholds = value;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_organization_parses() {
        let org = NewOrganization::parse("Panadería Sol", "EUR", "Europe/Madrid").unwrap();
        assert_eq!(org.currency.as_str(), "EUR");
        assert_eq!(org.timezone.name(), "Europe/Madrid");
    }

    #[test]
    fn every_bad_field_is_reported() {
        let err = NewOrganization::parse("", "EURO", "Mars/Olympus").unwrap_err();
        let fields: Vec<&str> = err
            .field_errors()
            .iter()
            .map(|e| e.field.as_str())
            .collect();
        assert_eq!(fields, ["name", "currency", "timezone"]);
    }

    #[test]
    fn lower_case_currency_codes_are_refused() {
        assert!(CurrencyCode::parse("currency", "eur").is_err());
    }

    #[test]
    fn anonymity_threshold_is_at_least_three() {
        assert!(anonymity_threshold(2).is_err());
        assert_eq!(anonymity_threshold(3).unwrap(), 3);
    }

    #[test]
    fn escalation_target_is_bounded() {
        assert!(escalation_response_target_minutes(0).is_err());
        assert!(escalation_response_target_minutes(10_080).is_ok());
        assert!(escalation_response_target_minutes(10_081).is_err());
        assert!(escalation_response_target_minutes(i64::MAX).is_err());
    }

    #[test]
    fn low_score_thresholds_stay_inside_their_scales() {
        assert!(LowScoreThresholds::parse(2, 6, 5).is_ok());
        assert!(LowScoreThresholds::parse(5, 6, 5).is_err());
        assert!(LowScoreThresholds::parse(2, 10, 5).is_err());
        assert!(LowScoreThresholds::parse(2, 6, 1).is_err());
    }
}
