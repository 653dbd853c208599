//! Organizations (tenants) and their settings.

use std::ops::RangeInclusive;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::error::{DomainError, DomainResult, Validator};
use crate::ids::OrgId;
use crate::text;
use crate::version::Revision;

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

    /// The date it is in this zone at `now`.
    pub fn date_at(&self, now: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
        now.with_timezone(&self.0).date_naive()
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

/// The CSAT thresholds (on its 1–5 scale) that leave some score not low.
pub const CSAT_AT_MOST: RangeInclusive<i32> = 1..=4;
/// The NPS thresholds (on its 0–10 scale) that leave some answer not low.
pub const NPS_AT_MOST: RangeInclusive<i32> = 0..=9;
/// The CES thresholds (on its 1–7 scale) that leave some score not low.
pub const CES_AT_LEAST: RangeInclusive<i32> = 2..=7;

impl LowScoreThresholds {
    /// Checks each threshold lies inside its instrument's scale, leaving at least one score that
    /// is not low.
    pub fn parse(csat_at_most: i64, nps_at_most: i64, ces_at_least: i64) -> DomainResult<Self> {
        let mut v = Validator::new();
        let csat = v.check(in_range(
            "low_score_thresholds.csat_at_most",
            csat_at_most,
            CSAT_AT_MOST,
        ));
        let nps = v.check(in_range(
            "low_score_thresholds.nps_at_most",
            nps_at_most,
            NPS_AT_MOST,
        ));
        let ces = v.check(in_range(
            "low_score_thresholds.ces_at_least",
            ces_at_least,
            CES_AT_LEAST,
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

/// Checks an integer setting lies in `range`.
pub fn in_range(field: &str, value: i64, range: RangeInclusive<i32>) -> DomainResult<i32> {
    match i32::try_from(value) {
        Ok(value) if range.contains(&value) => Ok(value),
        _ => Err(DomainError::invalid(
            field,
            format!("must be between {} and {}", range.start(), range.end()),
        )),
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

/// The anonymity thresholds an organization may choose: at least 3, so no single answer can
/// be singled out.
pub const ANONYMITY_THRESHOLD: RangeInclusive<i32> = 3..=1000;

/// The escalation response targets an organization may choose: one minute to one week.
pub const ESCALATION_RESPONSE_TARGET_MINUTES: RangeInclusive<i32> = 1..=10_080;

fn anonymity_threshold(value: i64) -> DomainResult<i32> {
    in_range("anonymity_threshold", value, ANONYMITY_THRESHOLD)
}

fn escalation_response_target_minutes(value: i64) -> DomainResult<i32> {
    in_range(
        "escalation_response_target_minutes",
        value,
        ESCALATION_RESPONSE_TARGET_MINUTES,
    )
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
    /// Its version and when it was created and last changed.
    #[serde(flatten)]
    pub revision: Revision,
}

/// An organization's fields as a client sent them: the body that creates one.
#[derive(Debug, Clone, Copy)]
pub struct RawOrganizationFields<'a> {
    /// Display name.
    pub name: &'a str,
    /// ISO 4217 currency code.
    pub currency: &'a str,
    /// IANA time zone.
    pub timezone: &'a str,
}

/// Every field of an organization, validated. A new organization starts with default settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationFields {
    name: String,
    currency: CurrencyCode,
    timezone: TimeZone,
    settings: OrganizationSettings,
}

/// The longest organization name.
pub const MAX_NAME_CHARS: usize = 200;

/// Validates an organization's display name.
fn organization_name(raw: &str) -> DomainResult<String> {
    text::single_line("name", raw, MAX_NAME_CHARS)
}

impl OrganizationFields {
    /// Validates every field, reporting all failures together.
    pub fn parse(raw: RawOrganizationFields<'_>) -> DomainResult<Self> {
        let mut v = Validator::new();
        let name = v.check(organization_name(raw.name));
        let currency = v.check(CurrencyCode::parse("currency", raw.currency));
        let timezone = v.check(TimeZone::parse("timezone", raw.timezone));
        v.build(|| {
            Some(Self {
                name: name?,
                currency: currency?,
                timezone: timezone?,
                settings: OrganizationSettings::default(),
            })
        })
    }

    /// These fields with `patch` applied. The currency is fixed at creation: amounts recorded
    /// in it would change meaning.
    pub fn patched(mut self, patch: OrganizationPatch) -> Self {
        crate::apply_patch!(self, patch; name, timezone);
        crate::apply_patch!(
            self.settings, patch;
            anonymity_threshold, escalation_response_target_minutes, low_score_thresholds,
        );
        self
    }
}

/// Low-score thresholds as a client sent them.
#[derive(Debug, Clone, Copy)]
pub struct RawLowScoreThresholds {
    /// A CSAT at or below this is low.
    pub csat_at_most: i64,
    /// An NPS answer at or below this is low.
    pub nps_at_most: i64,
    /// A CES at or above this is low.
    pub ces_at_least: i64,
}

/// A change to an organization as a client sent it; `None` leaves a field as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawOrganizationPatch<'a> {
    /// New display name.
    pub name: Option<&'a str>,
    /// New time zone.
    pub timezone: Option<&'a str>,
    /// New anonymity threshold.
    pub anonymity_threshold: Option<i64>,
    /// New escalation response target.
    pub escalation_response_target_minutes: Option<i64>,
    /// New low-score thresholds.
    pub low_score_thresholds: Option<RawLowScoreThresholds>,
}

/// A validated change to an organization.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationPatch {
    name: Option<String>,
    timezone: Option<TimeZone>,
    anonymity_threshold: Option<i32>,
    escalation_response_target_minutes: Option<i32>,
    low_score_thresholds: Option<LowScoreThresholds>,
}

impl OrganizationPatch {
    /// Validates every field given, reporting all failures together.
    pub fn parse(raw: RawOrganizationPatch<'_>) -> DomainResult<Self> {
        let mut v = Validator::new();
        let patch = Self {
            name: raw.name.and_then(|n| v.check(organization_name(n))),
            timezone: raw
                .timezone
                .and_then(|t| v.check(TimeZone::parse("timezone", t))),
            anonymity_threshold: raw
                .anonymity_threshold
                .and_then(|n| v.check(anonymity_threshold(n))),
            escalation_response_target_minutes: raw
                .escalation_response_target_minutes
                .and_then(|n| v.check(escalation_response_target_minutes(n))),
            low_score_thresholds: raw.low_score_thresholds.and_then(|t| {
                v.check(LowScoreThresholds::parse(
                    t.csat_at_most,
                    t.nps_at_most,
                    t.ces_at_least,
                ))
            }),
        };
        v.finish().map(|()| patch)
    }
}

impl Organization {
    /// A new organization, at version 1.
    pub fn created(id: OrgId, fields: OrganizationFields, at: DateTime<Utc>) -> Self {
        Self {
            id,
            name: fields.name,
            currency: fields.currency,
            timezone: fields.timezone,
            settings: fields.settings,
            revision: Revision::first(at),
        }
    }

    /// The fields a client may change (and the currency, which none may).
    pub fn fields(&self) -> OrganizationFields {
        OrganizationFields {
            name: self.name.clone(),
            currency: self.currency.clone(),
            timezone: self.timezone,
            settings: self.settings.clone(),
        }
    }

    /// This organization with `fields` set, at the next version.
    pub fn replaced(&self, fields: OrganizationFields, at: DateTime<Utc>) -> Self {
        Self {
            name: fields.name,
            timezone: fields.timezone,
            settings: fields.settings,
            revision: self.revision.next(at),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw<'a>(name: &'a str, currency: &'a str, timezone: &'a str) -> RawOrganizationFields<'a> {
        RawOrganizationFields {
            name,
            currency,
            timezone,
        }
    }

    #[test]
    fn a_valid_organization_parses_with_default_settings() {
        let org = OrganizationFields::parse(raw("Panadería Sol", "EUR", "Europe/Madrid")).unwrap();
        assert_eq!(org.currency.as_str(), "EUR");
        assert_eq!(org.timezone.name(), "Europe/Madrid");
        assert_eq!(org.settings, OrganizationSettings::default());
    }

    #[test]
    fn a_patch_changes_settings_but_never_the_currency() {
        let fields = OrganizationFields::parse(raw("Sol", "EUR", "UTC")).unwrap();
        let org = Organization::created(OrgId::generate(), fields, Utc::now());
        let patch = OrganizationPatch::parse(RawOrganizationPatch {
            anonymity_threshold: Some(7),
            ..RawOrganizationPatch::default()
        })
        .unwrap();
        let next = org.replaced(org.fields().patched(patch), Utc::now());
        assert_eq!(next.settings.anonymity_threshold, 7);
        assert_eq!((next.currency.as_str(), next.revision.version), ("EUR", 2));
    }

    #[test]
    fn every_bad_field_is_reported() {
        let err = OrganizationFields::parse(raw("", "EURO", "Mars/Olympus")).unwrap_err();
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
