//! Delegations: authority with limits. A manager grants a member (or a team) the right to decide
//! an action on the spot (refund, discount, …) up to a per-decision limit and a budget per period
//! (a day, week or month in the organization's time zone, or the grant's whole life), so that
//! staff solve a client's problem instead of asking for authorization.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};

use crate::error::{DomainError, DomainResult, Validator};
use crate::ids::{DelegationId, MemberId, TeamId};
use crate::organization::{CurrencyCode, TimeZone};
use crate::text;
use crate::version::Revision;
use crate::window::TimeBound;

crate::string_enum! {
    /// How often a grant's budget starts again.
    pub enum BudgetPeriod ("budget_period") {
        /// Every day, from midnight in the organization's zone.
        Day = "day",
        /// Every week, from Monday's midnight.
        Week = "week",
        /// Every month, from the first's midnight.
        Month = "month",
        /// Never: one budget for the grant's whole life.
        Total = "total",
    }
}

crate::string_enum! {
    /// Where a grant stands now.
    pub enum DelegationStatus ("status") {
        /// Not valid yet.
        Scheduled = "scheduled",
        /// In force.
        Active = "active",
        /// Past its `valid_until`.
        Expired = "expired",
        /// Withdrawn.
        Revoked = "revoked",
    }
}

/// The largest amount, in minor units, any grant or decision may name: ten billion units of
/// the currency, far from where an `i64` sum could overflow.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000;
/// The most decisions a period may allow.
pub const MAX_DECISIONS_PER_PERIOD: i64 = 1_000_000;
/// The longest rationale or reason.
pub const MAX_RATIONALE_CHARS: usize = 1000;
/// The longest custom action name (after `custom:`).
pub const MAX_CUSTOM_ACTION_CHARS: usize = 60;

/// What a decision does for a client: one of the standard actions or `custom:<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Action(String);

const STANDARD_ACTIONS: [&str; 5] = [
    "refund",
    "discount",
    "replacement",
    "compensation",
    "goodwill_credit",
];

impl Action {
    /// `refund`, `discount`, `replacement`, `compensation`, `goodwill_credit`, or `custom:` and
    /// 1–60 lowercase letters, digits, `_` or `-`.
    pub fn parse(field: &str, raw: &str) -> DomainResult<Self> {
        let custom_ok = raw.strip_prefix("custom:").is_some_and(|name| {
            !name.is_empty()
                && name.chars().count() <= MAX_CUSTOM_ACTION_CHARS
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        });
        if STANDARD_ACTIONS.contains(&raw) || custom_ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(DomainError::invalid(
                field,
                "must be refund, discount, replacement, compensation, goodwill_credit or \
                 custom:<name> (lowercase letters, digits, _ and -)",
            ))
        }
    }

    /// The action's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An amount in minor units: more than zero, at most [`MAX_AMOUNT_MINOR`].
pub fn amount(field: &str, raw: i64) -> DomainResult<i64> {
    if (1..=MAX_AMOUNT_MINOR).contains(&raw) {
        Ok(raw)
    } else {
        Err(DomainError::invalid(
            field,
            format!("must be between 1 and {MAX_AMOUNT_MINOR} minor units"),
        ))
    }
}

/// Who a grant is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delegate {
    /// One member.
    Member(MemberId),
    /// Every member of a team.
    Team(TeamId),
}

impl Delegate {
    /// The delegate named by exactly one of the two fields.
    pub fn parse(member: Option<MemberId>, team: Option<TeamId>) -> DomainResult<Self> {
        match (member, team) {
            (Some(member), None) => Ok(Self::Member(member)),
            (None, Some(team)) => Ok(Self::Team(team)),
            _ => Err(DomainError::invalid(
                "delegate_member_id",
                "give exactly one of delegate_member_id and delegate_team_id",
            )),
        }
    }

    /// The member, for a member's grant.
    pub fn member(self) -> Option<MemberId> {
        match self {
            Self::Member(member) => Some(member),
            Self::Team(_) => None,
        }
    }

    /// The team, for a team's grant.
    pub fn team(self) -> Option<TeamId> {
        match self {
            Self::Team(team) => Some(team),
            Self::Member(_) => None,
        }
    }
}

/// A grant as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegation {
    /// Its id.
    pub id: DelegationId,
    /// Who granted it (`None` when an owner or integration that is no member did).
    pub delegator_member_id: Option<MemberId>,
    /// Who may decide.
    pub delegate: Delegate,
    /// What they may decide.
    pub action: Action,
    /// The currency of every amount (the organization's).
    pub currency: CurrencyCode,
    /// The most one decision may be.
    pub per_decision_limit_minor: i64,
    /// The most a period's decisions may add up to.
    pub budget_minor: i64,
    /// How often the budget starts again.
    pub budget_period: BudgetPeriod,
    /// The most decisions a period allows, if limited.
    pub max_decisions_per_period: Option<i64>,
    /// From when it is in force.
    pub valid_from: DateTime<Utc>,
    /// Until when (exclusive), if it ends.
    pub valid_until: Option<DateTime<Utc>>,
    /// Why it was granted.
    pub rationale: String,
    /// When it was revoked, and why.
    pub revoked: Option<(DateTime<Utc>, String)>,
    /// Its version and times.
    pub revision: Revision,
}

/// A grant's fields as a client sent them.
#[derive(Debug, Clone, Copy)]
pub struct RawDelegationFields<'a> {
    /// Delegate member.
    pub delegate_member_id: Option<MemberId>,
    /// Delegate team.
    pub delegate_team_id: Option<TeamId>,
    /// Action.
    pub action: &'a str,
    /// Currency.
    pub currency: &'a str,
    /// Per-decision limit.
    pub per_decision_limit_minor: i64,
    /// Budget.
    pub budget_minor: i64,
    /// Period.
    pub budget_period: BudgetPeriod,
    /// Decisions per period.
    pub max_decisions_per_period: Option<i64>,
    /// Valid from (default: now).
    pub valid_from: Option<DateTime<Utc>>,
    /// Valid until.
    pub valid_until: Option<DateTime<Utc>>,
    /// Rationale.
    pub rationale: &'a str,
}

/// A grant's fields, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegationFields {
    delegate: Delegate,
    action: Action,
    currency: CurrencyCode,
    per_decision_limit_minor: i64,
    budget_minor: i64,
    budget_period: BudgetPeriod,
    max_decisions_per_period: Option<i64>,
    valid_from: Option<DateTime<Utc>>,
    valid_until: Option<DateTime<Utc>>,
    rationale: String,
}

impl DelegationFields {
    /// Validates every field, reporting all failures together.
    pub fn parse(raw: RawDelegationFields<'_>) -> DomainResult<Self> {
        let mut v = Validator::new();
        let delegate = v.check(Delegate::parse(
            raw.delegate_member_id,
            raw.delegate_team_id,
        ));
        let action = v.check(Action::parse("action", raw.action));
        let currency = v.check(CurrencyCode::parse("currency", raw.currency));
        let limit = v.check(amount(
            "per_decision_limit_minor",
            raw.per_decision_limit_minor,
        ));
        let budget = v.check(amount("budget_minor", raw.budget_minor));
        if let (Some(limit), Some(budget)) = (limit, budget)
            && limit > budget
        {
            v.fail(
                "per_decision_limit_minor",
                "must not be more than budget_minor",
            );
        }
        if let Some(max) = raw.max_decisions_per_period
            && !(1..=MAX_DECISIONS_PER_PERIOD).contains(&max)
        {
            v.fail(
                "max_decisions_per_period",
                format!("must be between 1 and {MAX_DECISIONS_PER_PERIOD}"),
            );
        }
        for (field, at) in [
            ("valid_from", raw.valid_from),
            ("valid_until", raw.valid_until),
        ] {
            if let Some(at) = at {
                v.check(crate::timestamp::check_year(field, at.year()));
            }
        }
        if let (Some(from), Some(until)) = (raw.valid_from, raw.valid_until)
            && until <= from
        {
            v.fail("valid_until", "must be after valid_from");
        }
        let rationale = v.check(text::multi_line(
            "rationale",
            raw.rationale,
            MAX_RATIONALE_CHARS,
        ));
        v.build(|| {
            Some(Self {
                delegate: delegate?,
                action: action?,
                currency: currency?,
                per_decision_limit_minor: limit?,
                budget_minor: budget?,
                budget_period: raw.budget_period,
                max_decisions_per_period: raw.max_decisions_per_period,
                valid_from: raw.valid_from,
                valid_until: raw.valid_until,
                rationale: rationale?,
            })
        })
    }

    /// Who may decide.
    pub fn delegate(&self) -> Delegate {
        self.delegate
    }

    /// The currency it is in.
    pub fn currency(&self) -> &CurrencyCode {
        &self.currency
    }
}

impl Delegation {
    /// A new grant by `delegator`, in force from its `valid_from` or `at`.
    pub fn granted(
        id: DelegationId,
        fields: DelegationFields,
        delegator: Option<MemberId>,
        at: DateTime<Utc>,
    ) -> DomainResult<Self> {
        let valid_from = fields.valid_from.unwrap_or(at);
        if fields.valid_until.is_some_and(|until| until <= valid_from) {
            return Err(DomainError::invalid(
                "valid_until",
                "must be after valid_from",
            ));
        }
        Ok(Self {
            id,
            delegator_member_id: delegator,
            delegate: fields.delegate,
            action: fields.action,
            currency: fields.currency,
            per_decision_limit_minor: fields.per_decision_limit_minor,
            budget_minor: fields.budget_minor,
            budget_period: fields.budget_period,
            max_decisions_per_period: fields.max_decisions_per_period,
            valid_from,
            valid_until: fields.valid_until,
            rationale: fields.rationale,
            revoked: None,
            revision: Revision::first(at),
        })
    }

    /// Where the grant stands at `now`.
    pub fn status_at(&self, now: DateTime<Utc>) -> DelegationStatus {
        if self.revoked.is_some() {
            DelegationStatus::Revoked
        } else if now < self.valid_from {
            DelegationStatus::Scheduled
        } else if self.valid_until.is_some_and(|until| now >= until) {
            DelegationStatus::Expired
        } else {
            DelegationStatus::Active
        }
    }

    /// This grant, revoked `at` for `reason`; a grant is revoked once.
    pub fn revoked(&self, reason: String, at: DateTime<Utc>) -> Result<Self, &'static str> {
        if self.revoked.is_some() {
            return Err("the delegation is already revoked");
        }
        Ok(Self {
            revoked: Some((at, reason)),
            revision: self.revision.next(at),
            ..self.clone()
        })
    }

    /// The budget period `now` falls in, in `zone`: its first instant and the first instant
    /// after it. Local midnights are resolved in the zone, so a day that daylight saving makes
    /// 23 or 25 hours long is one period all the same.
    pub fn period_at(&self, now: DateTime<Utc>, zone: TimeZone) -> Period {
        let today = zone.date_at(now);
        let (start, end): (NaiveDate, Option<NaiveDate>) = match self.budget_period {
            BudgetPeriod::Day => (today, today.checked_add_days(Days::new(1))),
            BudgetPeriod::Week => {
                let monday = today
                    .checked_sub_days(Days::new(u64::from(today.weekday().num_days_from_monday())))
                    .unwrap_or(today);
                (monday, monday.checked_add_days(Days::new(7)))
            }
            BudgetPeriod::Month => {
                let first = today.with_day(1).unwrap_or(today);
                (first, first.checked_add_months(Months::new(1)))
            }
            BudgetPeriod::Total => {
                return Period {
                    start: self.valid_from,
                    end: self.valid_until,
                };
            }
        };
        Period {
            start: TimeBound::Date(start).resolve(zone),
            end: end.map(|end| TimeBound::Date(end).resolve(zone)),
        }
    }
}

/// One budget period: from `start` (inclusive) to `end` (exclusive; `None` for a grant without
/// end whose budget is its total).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Its first instant.
    pub start: DateTime<Utc>,
    /// The first instant after it.
    pub end: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(period: BudgetPeriod) -> Delegation {
        let fields = DelegationFields::parse(RawDelegationFields {
            delegate_member_id: Some(MemberId::generate()),
            delegate_team_id: None,
            action: "refund",
            currency: "EUR",
            per_decision_limit_minor: 2000,
            budget_minor: 5000,
            budget_period: period,
            max_decisions_per_period: None,
            valid_from: Some("2026-01-01T00:00:00Z".parse().unwrap()),
            valid_until: None,
            rationale: "Refunds at the till",
        })
        .unwrap();
        Delegation::granted(DelegationId::generate(), fields, None, Utc::now()).unwrap()
    }

    #[test]
    fn actions_are_the_standard_ones_or_a_named_custom_one() {
        for ok in ["refund", "goodwill_credit", "custom:free-coffee"] {
            assert!(Action::parse("action", ok).is_ok(), "{ok}");
        }
        for bad in ["Refund", "custom:", "custom:Free Coffee", "bribe"] {
            assert!(Action::parse("action", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_day_is_one_period_across_a_daylight_saving_change() {
        let madrid = TimeZone::parse("tz", "Europe/Madrid").unwrap();
        // 2026-03-29 is 23 hours long in Madrid.
        let period =
            grant(BudgetPeriod::Day).period_at("2026-03-29T21:30:00Z".parse().unwrap(), madrid);
        assert_eq!(period.start.to_rfc3339(), "2026-03-28T23:00:00+00:00");
        assert_eq!(
            period.end.unwrap().to_rfc3339(),
            "2026-03-29T22:00:00+00:00"
        );
        let week =
            grant(BudgetPeriod::Week).period_at("2026-12-03T12:00:00Z".parse().unwrap(), madrid);
        assert_eq!(week.start.to_rfc3339(), "2026-11-29T23:00:00+00:00");
        let month =
            grant(BudgetPeriod::Month).period_at("2026-12-31T23:30:00Z".parse().unwrap(), madrid);
        assert_eq!(
            month.start.to_rfc3339(),
            "2026-12-31T23:00:00+00:00",
            "already January there"
        );
    }

    #[test]
    fn limits_must_be_positive_and_fit_the_budget() {
        let mut raw = RawDelegationFields {
            delegate_member_id: Some(MemberId::generate()),
            delegate_team_id: None,
            action: "refund",
            currency: "EUR",
            per_decision_limit_minor: 6000,
            budget_minor: 5000,
            budget_period: BudgetPeriod::Day,
            max_decisions_per_period: Some(0),
            valid_from: None,
            valid_until: None,
            rationale: "x",
        };
        let fields: Vec<String> = DelegationFields::parse(raw)
            .unwrap_err()
            .field_errors()
            .iter()
            .map(|e| e.field.clone())
            .collect();
        assert_eq!(
            fields,
            ["per_decision_limit_minor", "max_decisions_per_period"]
        );
        raw.per_decision_limit_minor = 0;
        raw.max_decisions_per_period = None;
        assert!(DelegationFields::parse(raw).is_err());
    }
}
