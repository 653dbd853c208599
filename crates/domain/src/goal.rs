//! Goals: clear, measurable objectives for a member or a team, aligned to the goals above them
//! (the vision cascades). Shaped like every resource (see `team.rs`): `GoalFields::parse` and
//! `GoalPatch::parse` validate what a client sent, `Goal::created` and `Goal::replaced` make the
//! next stored state, and check-ins move the goal towards its target. A goal is only accepted
//! when it can be measured: a finite baseline and a different finite target, in the direction
//! the metric moves, and a due date not before its start.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::ser::{SerializeMap, Serializer};

use crate::audit::Actor;
use crate::error::{DomainError, DomainResult, Validator};
use crate::ids::{CheckInId, GoalId, MemberId, TeamId};
use crate::member::strengths;
use crate::organization::TimeZone;
use crate::text;
use crate::version::Revision;

crate::string_enum! {
    /// What a goal is about.
    pub enum GoalKind ("kind") {
        /// Winning new clients.
        ClientAcquisition = "client_acquisition",
        /// Making clients happier.
        Satisfaction = "satisfaction",
        /// Selling more.
        Sales = "sales",
        /// Growing the person or the team.
        Development = "development",
        /// Anything else.
        Custom = "custom",
    }
}

crate::string_enum! {
    /// Which way a metric moves when the goal is being met.
    pub enum Direction ("metric.direction") {
        /// Higher is better: the target is above the baseline.
        Increase = "increase",
        /// Lower is better: the target is below the baseline.
        Decrease = "decrease",
    }
}

crate::string_enum! {
    /// Where a goal stands.
    pub enum GoalStatus ("status") {
        /// Being written; not yet pursued, no check-ins.
        Draft = "draft",
        /// Being pursued.
        Active = "active",
        /// Its target was reached.
        Achieved = "achieved",
        /// Its due date passed (in the organization's time zone) before its target was reached.
        Missed = "missed",
        /// Given up; kept on record.
        Cancelled = "cancelled",
    }
}

/// The longest title.
pub const MAX_TITLE_CHARS: usize = 200;
/// The longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
/// The longest metric name.
pub const MAX_METRIC_NAME_CHARS: usize = 100;
/// The longest metric unit.
pub const MAX_UNIT_CHARS: usize = 40;
/// The longest check-in note.
pub const MAX_NOTE_CHARS: usize = 2000;
/// The largest magnitude of a metric value: beyond it a double no longer counts every unit.
pub const MAX_ABS_VALUE: f64 = 1e15;
/// How far ahead of the server's clock a check-in's `recorded_at` may be (clocks drift).
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 300;

/// Whose goal it is: one member's or one team's, never both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoalOwner {
    /// A member's own goal.
    Member(MemberId),
    /// A team's shared goal.
    Team(TeamId),
}

impl GoalOwner {
    /// The owner named by exactly one of the two fields.
    pub fn parse(member: Option<MemberId>, team: Option<TeamId>) -> DomainResult<Self> {
        match (member, team) {
            (Some(member), None) => Ok(Self::Member(member)),
            (None, Some(team)) => Ok(Self::Team(team)),
            _ => Err(DomainError::invalid(
                "owner_member_id",
                "give exactly one of owner_member_id and owner_team_id",
            )),
        }
    }

    /// The owning member, for a member's goal.
    pub fn member(self) -> Option<MemberId> {
        match self {
            Self::Member(member) => Some(member),
            Self::Team(_) => None,
        }
    }

    /// The owning team, for a team's goal.
    pub fn team(self) -> Option<TeamId> {
        match self {
            Self::Team(team) => Some(team),
            Self::Member(_) => None,
        }
    }
}

/// Serialized as the API shows it: both owner fields, one of them `null`.
impl serde::Serialize for GoalOwner {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("owner_member_id", &self.member())?;
        map.serialize_entry("owner_team_id", &self.team())?;
        map.end()
    }
}

/// What a goal measures and where it must get to.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Metric {
    /// What is counted (`new clients`).
    pub name: String,
    /// In what (`clients`, `%`, `EUR`).
    pub unit: String,
    /// Where it starts.
    pub baseline: f64,
    /// Where it must get to; never the baseline.
    pub target: f64,
    /// Which way is better.
    pub direction: Direction,
}

/// A metric as a client sent it.
#[derive(Debug, Clone, Copy)]
pub struct RawMetric<'a> {
    /// Name.
    pub name: &'a str,
    /// Unit.
    pub unit: &'a str,
    /// Baseline.
    pub baseline: f64,
    /// Target.
    pub target: f64,
    /// Direction.
    pub direction: Direction,
}

impl Metric {
    /// Validates a metric: named, with a unit, and measurable (finite numbers, a target that
    /// differs from the baseline in the direction the metric moves).
    pub fn parse(raw: RawMetric<'_>) -> DomainResult<Self> {
        let mut v = Validator::new();
        let name = v.check(text::single_line(
            "metric.name",
            raw.name,
            MAX_METRIC_NAME_CHARS,
        ));
        let unit = v.check(text::single_line("metric.unit", raw.unit, MAX_UNIT_CHARS));
        let baseline = v.check(value("metric.baseline", raw.baseline));
        let target = v.check(value("metric.target", raw.target));
        if let (Some(baseline), Some(target)) = (baseline, target) {
            if target == baseline {
                v.fail(
                    "metric.target",
                    "must differ from the baseline: a goal that starts at its target measures nothing",
                );
            } else if raw.direction == Direction::Increase && target < baseline {
                v.fail(
                    "metric.direction",
                    "an increase needs a target above the baseline",
                );
            } else if raw.direction == Direction::Decrease && target > baseline {
                v.fail(
                    "metric.direction",
                    "a decrease needs a target below the baseline",
                );
            }
        }
        v.build(|| {
            Some(Self {
                name: name?,
                unit: unit?,
                baseline: baseline?,
                target: target?,
                direction: raw.direction,
            })
        })
    }

    /// How far `current` has come from the baseline towards the target, from 0 to 1. The ratio
    /// holds for either direction, since the target's side of the baseline gives its sign.
    pub fn progress(&self, current: Option<f64>) -> f64 {
        current.map_or(0.0, |current| {
            ((current - self.baseline) / (self.target - self.baseline)).clamp(0.0, 1.0)
        })
    }

    /// Whether `value` is at or beyond the target.
    pub fn reached_by(&self, value: f64) -> bool {
        match self.direction {
            Direction::Increase => value >= self.target,
            Direction::Decrease => value <= self.target,
        }
    }
}

/// A metric value: finite and within [`MAX_ABS_VALUE`].
pub fn value(field: &str, raw: f64) -> DomainResult<f64> {
    if raw.is_finite() && raw.abs() <= MAX_ABS_VALUE {
        Ok(raw)
    } else {
        Err(DomainError::invalid(
            field,
            format!("must be a finite number between -{MAX_ABS_VALUE:e} and {MAX_ABS_VALUE:e}"),
        ))
    }
}

/// A goal as stored. What the API shows is a [`GoalReading`]: this with its status as of a day
/// and what is computed from it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Goal {
    /// The goal's id.
    pub id: GoalId,
    /// What the goal is, in one line.
    pub title: String,
    /// More about it.
    pub description: Option<String>,
    /// What it is about.
    pub kind: GoalKind,
    /// Whose goal it is.
    #[serde(flatten)]
    pub owner: GoalOwner,
    /// The higher goal this one serves.
    pub parent_goal_id: Option<GoalId>,
    /// What is measured.
    pub metric: Metric,
    /// When work on it starts.
    pub start_date: NaiveDate,
    /// When it must be reached.
    pub due_date: NaiveDate,
    /// The status as stored; `missed` is read, never stored ([`Goal::status_on`]).
    #[serde(skip)]
    pub stored_status: GoalStatus,
    /// The strengths the work draws on.
    pub strengths: Vec<String>,
    /// The latest check-in's value (by `recorded_at`), if any.
    pub current_value: Option<f64>,
    /// When that check-in was recorded.
    #[serde(skip)]
    pub current_recorded_at: Option<DateTime<Utc>>,
    /// Its version and when it was created and last changed.
    #[serde(flatten)]
    pub revision: Revision,
}

/// A goal's fields as a client sent them.
#[derive(Debug, Clone, Copy)]
pub struct RawGoalFields<'a> {
    /// Title.
    pub title: &'a str,
    /// Description.
    pub description: Option<&'a str>,
    /// Kind.
    pub kind: GoalKind,
    /// Owning member.
    pub owner_member_id: Option<MemberId>,
    /// Owning team.
    pub owner_team_id: Option<TeamId>,
    /// Parent goal.
    pub parent_goal_id: Option<GoalId>,
    /// Metric.
    pub metric: RawMetric<'a>,
    /// Start.
    pub start_date: NaiveDate,
    /// Due.
    pub due_date: NaiveDate,
    /// `draft` or `active` (the default).
    pub status: Option<GoalStatus>,
    /// Strengths the work draws on.
    pub strengths: &'a [String],
}

/// The fields a client sets on a goal, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct GoalFields {
    title: String,
    description: Option<String>,
    kind: GoalKind,
    owner: GoalOwner,
    parent_goal_id: Option<GoalId>,
    metric: Metric,
    start_date: NaiveDate,
    due_date: NaiveDate,
    status: GoalStatus,
    strengths: Vec<String>,
}

impl GoalFields {
    /// Validates every field, reporting all failures together.
    pub fn parse(raw: RawGoalFields<'_>) -> DomainResult<Self> {
        let mut v = Validator::new();
        let title = v.check(title(raw.title));
        let description = raw.description.map(|d| v.check(description(d)));
        let owner = v.check(GoalOwner::parse(raw.owner_member_id, raw.owner_team_id));
        let metric = v.check(Metric::parse(raw.metric));
        let status = v.check(settable_status(raw.status.unwrap_or(GoalStatus::Active)));
        let strengths = v.check(strengths(raw.strengths));
        v.check(dates(raw.start_date, raw.due_date));
        v.build(|| {
            Some(Self {
                title: title?,
                description: description.map(|d| d.ok_or(())).transpose().ok()?,
                kind: raw.kind,
                owner: owner?,
                parent_goal_id: raw.parent_goal_id,
                metric: metric?,
                start_date: raw.start_date,
                due_date: raw.due_date,
                status: status?,
                strengths: strengths?,
            })
        })
    }

    /// Whose goal it is.
    pub fn owner(&self) -> GoalOwner {
        self.owner
    }

    /// The parent goal.
    pub fn parent_goal_id(&self) -> Option<GoalId> {
        self.parent_goal_id
    }

    /// These fields with `patch` applied; the dates are checked again together.
    pub fn patched(mut self, patch: GoalPatch) -> DomainResult<Self> {
        crate::apply_patch!(
            self, patch;
            title, description, kind, owner, parent_goal_id, metric, start_date, due_date,
            status, strengths,
        );
        dates(self.start_date, self.due_date)?;
        Ok(self)
    }
}

/// A change to a goal as a client sent it: `None` leaves a field as it is; `Some(None)` clears
/// the description or the parent. Naming an owner (member or team) moves the goal to them.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawGoalPatch<'a> {
    /// Title.
    pub title: Option<&'a str>,
    /// Description, or none.
    pub description: Option<Option<&'a str>>,
    /// Kind.
    pub kind: Option<GoalKind>,
    /// A new owning member.
    pub owner_member_id: Option<MemberId>,
    /// A new owning team.
    pub owner_team_id: Option<TeamId>,
    /// Parent goal, or none.
    pub parent_goal_id: Option<Option<GoalId>>,
    /// The whole metric, replaced.
    pub metric: Option<RawMetric<'a>>,
    /// Start.
    pub start_date: Option<NaiveDate>,
    /// Due.
    pub due_date: Option<NaiveDate>,
    /// `draft` or `active`.
    pub status: Option<GoalStatus>,
    /// Strengths, replacing the list.
    pub strengths: Option<&'a [String]>,
}

/// A validated change to a goal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GoalPatch {
    title: Option<String>,
    description: Option<Option<String>>,
    kind: Option<GoalKind>,
    owner: Option<GoalOwner>,
    parent_goal_id: Option<Option<GoalId>>,
    metric: Option<Metric>,
    start_date: Option<NaiveDate>,
    due_date: Option<NaiveDate>,
    status: Option<GoalStatus>,
    strengths: Option<Vec<String>>,
}

impl GoalPatch {
    /// Validates every field given, reporting all failures together.
    pub fn parse(raw: RawGoalPatch<'_>) -> DomainResult<Self> {
        let mut v = Validator::new();
        let owner = match (raw.owner_member_id, raw.owner_team_id) {
            (None, None) => None,
            (member, team) => v.check(GoalOwner::parse(member, team)),
        };
        let patch = Self {
            title: raw.title.and_then(|t| v.check(title(t))),
            description: raw
                .description
                .map(|d| d.and_then(|d| v.check(description(d)))),
            kind: raw.kind,
            owner,
            parent_goal_id: raw.parent_goal_id,
            metric: raw.metric.and_then(|m| v.check(Metric::parse(m))),
            start_date: raw.start_date,
            due_date: raw.due_date,
            status: raw.status.and_then(|s| v.check(settable_status(s))),
            strengths: raw.strengths.and_then(|s| v.check(strengths(s))),
        };
        v.finish().map(|()| patch)
    }

    /// The owner this patch moves the goal to, if any.
    pub fn owner(&self) -> Option<GoalOwner> {
        self.owner
    }
}

fn title(raw: &str) -> DomainResult<String> {
    text::single_line("title", raw, MAX_TITLE_CHARS)
}

fn description(raw: &str) -> DomainResult<String> {
    text::multi_line("description", raw, MAX_DESCRIPTION_CHARS)
}

/// A client sets `draft` or `active`; the other statuses follow from what happens to the goal.
fn settable_status(status: GoalStatus) -> DomainResult<GoalStatus> {
    match status {
        GoalStatus::Draft | GoalStatus::Active => Ok(status),
        _ => Err(DomainError::invalid(
            "status",
            "must be draft or active: a goal is achieved by its check-ins, missed by its due \
             date and cancelled with POST /v1/goals/{id}/cancel",
        )),
    }
}

fn dates(start: NaiveDate, due: NaiveDate) -> DomainResult<()> {
    use chrono::Datelike;
    crate::timestamp::check_year("start_date", start.year())?;
    crate::timestamp::check_year("due_date", due.year())?;
    if due < start {
        Err(DomainError::invalid(
            "due_date",
            "must not be before start_date",
        ))
    } else {
        Ok(())
    }
}

/// A goal after a change, and whether that change reached its target.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    /// The goal as it is now.
    pub goal: Goal,
    /// Whether this change achieved it (and so announces `goal.achieved`).
    pub achieved_now: bool,
}

impl Goal {
    /// A new goal, at version 1.
    pub fn created(id: GoalId, fields: GoalFields, at: DateTime<Utc>) -> Self {
        Self {
            id,
            title: fields.title,
            description: fields.description,
            kind: fields.kind,
            owner: fields.owner,
            parent_goal_id: fields.parent_goal_id,
            metric: fields.metric,
            start_date: fields.start_date,
            due_date: fields.due_date,
            stored_status: fields.status,
            strengths: fields.strengths,
            current_value: None,
            current_recorded_at: None,
            revision: Revision::first(at),
        }
    }

    /// The fields a client may change.
    pub fn fields(&self) -> GoalFields {
        GoalFields {
            title: self.title.clone(),
            description: self.description.clone(),
            kind: self.kind,
            owner: self.owner,
            parent_goal_id: self.parent_goal_id,
            metric: self.metric.clone(),
            start_date: self.start_date,
            due_date: self.due_date,
            status: self.stored_status,
            strengths: self.strengths.clone(),
        }
    }

    /// Why this goal can no longer change, if it cannot.
    pub fn closed(&self) -> Option<&'static str> {
        (self.stored_status == GoalStatus::Cancelled)
            .then_some("the goal is cancelled; a cancelled goal stays on record as it was")
    }

    /// This goal with `fields` set on `today`, at the next version; an active goal whose
    /// current value now meets its (new) target, before its due date has passed, is achieved.
    /// An achieved goal keeps its status and what it was measured by.
    pub fn replaced(
        &self,
        fields: GoalFields,
        at: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Settled, &'static str> {
        if let Some(reason) = self.closed() {
            return Err(reason);
        }
        let status = match self.stored_status {
            GoalStatus::Achieved if fields.status != GoalStatus::Achieved => {
                return Err("the goal is achieved; its status no longer changes");
            }
            GoalStatus::Achieved
                if fields.metric != self.metric || fields.due_date != self.due_date =>
            {
                return Err("the goal is achieved; what it was measured by no longer changes");
            }
            _ => fields.status,
        };
        let next = Self {
            title: fields.title,
            description: fields.description,
            kind: fields.kind,
            owner: fields.owner,
            parent_goal_id: fields.parent_goal_id,
            metric: fields.metric,
            start_date: fields.start_date,
            due_date: fields.due_date,
            stored_status: status,
            strengths: fields.strengths,
            revision: self.revision.next(at),
            ..self.clone()
        };
        Ok(next.settled(today))
    }

    /// This goal with a check-in applied. A check-in recorded before the latest one is history
    /// only: the current value is the latest by `recorded_at`. The target counts as reached
    /// only by a value recorded by the due date (in `zone`, the organization's).
    pub fn checked_in(
        &self,
        check_in: &CheckInFields,
        at: DateTime<Utc>,
        zone: TimeZone,
    ) -> Result<Settled, &'static str> {
        if let Some(reason) = self.closed() {
            return Err(reason);
        }
        if self.stored_status == GoalStatus::Draft {
            return Err("the goal is a draft; make it active before checking in");
        }
        let mut next = Self {
            revision: self.revision.next(at),
            ..self.clone()
        };
        let recorded_at = check_in.recorded_at.unwrap_or(at);
        if self
            .current_recorded_at
            .is_none_or(|latest| recorded_at >= latest)
        {
            next.current_value = Some(check_in.value);
            next.current_recorded_at = Some(recorded_at);
        }
        let reached_on = zone.date_at(next.current_recorded_at.unwrap_or(recorded_at));
        Ok(next.settled(reached_on))
    }

    /// This goal, cancelled.
    pub fn cancelled(&self, at: DateTime<Utc>) -> Result<Self, &'static str> {
        match self.stored_status {
            GoalStatus::Cancelled => Err("the goal is already cancelled"),
            GoalStatus::Achieved => Err("the goal is achieved; an achieved goal stays on record"),
            _ => Ok(Self {
                stored_status: GoalStatus::Cancelled,
                revision: self.revision.next(at),
                ..self.clone()
            }),
        }
    }

    /// Achieves an active goal whose current value meets the target, as of `reached_on`, unless
    /// its due date had passed by then (it was missed).
    fn settled(mut self, reached_on: NaiveDate) -> Settled {
        let reached = self
            .current_value
            .is_some_and(|value| self.metric.reached_by(value));
        let achieved_now =
            self.stored_status == GoalStatus::Active && reached && reached_on <= self.due_date;
        if achieved_now {
            self.stored_status = GoalStatus::Achieved;
        }
        Settled {
            goal: self,
            achieved_now,
        }
    }

    /// The status as of `today` (in the organization's zone): an active goal whose due date has
    /// passed has been missed.
    pub fn status_on(&self, today: NaiveDate) -> GoalStatus {
        match self.stored_status {
            GoalStatus::Active if self.due_date < today => GoalStatus::Missed,
            status => status,
        }
    }

    /// Whether a member's goal draws on what its owner is strong at (`owner_strengths`),
    /// matched without regard to case or surrounding spaces; `None` for a team's goal.
    pub fn uses_owner_strengths(&self, owner_strengths: &[String]) -> Option<bool> {
        self.owner.member()?;
        let owner: Vec<String> = owner_strengths.iter().map(|s| normalized(s)).collect();
        Some(
            self.strengths
                .iter()
                .any(|s| owner.contains(&normalized(s))),
        )
    }

    /// This goal as read on `today`, with its owner's strengths (for a member's goal).
    pub fn read(self, today: NaiveDate, owner_strengths: &[String]) -> GoalReading {
        GoalReading {
            status: self.status_on(today),
            progress: self.metric.progress(self.current_value),
            uses_owner_strengths: self.uses_owner_strengths(owner_strengths),
            goal: self,
        }
    }
}

fn normalized(strength: &str) -> String {
    strength.trim().to_lowercase()
}

/// A goal as the API shows it on a given day: stored fields and what follows from them. The
/// audit log and the `goal.achieved` event carry this too.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GoalReading {
    /// The goal.
    #[serde(flatten)]
    pub goal: Goal,
    /// Its status that day.
    pub status: GoalStatus,
    /// From 0 (at the baseline or short of it) to 1 (at the target or beyond).
    pub progress: f64,
    /// For a member's goal, whether it draws on the member's strengths.
    pub uses_owner_strengths: Option<bool>,
}

/// A check-in as stored: one progress report on a goal.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CheckIn {
    /// The check-in's id.
    pub id: CheckInId,
    /// The goal it reports on.
    pub goal_id: GoalId,
    /// The metric's value.
    pub value: f64,
    /// What happened.
    pub note: Option<String>,
    /// When the value was true.
    #[serde(serialize_with = "crate::timestamp::rfc3339")]
    pub recorded_at: DateTime<Utc>,
    /// Who reported it.
    #[serde(skip)]
    pub recorded_by: Actor,
    /// When it was reported.
    #[serde(serialize_with = "crate::timestamp::rfc3339")]
    pub created_at: DateTime<Utc>,
}

/// A check-in as a client sent it.
#[derive(Debug, Clone, Copy)]
pub struct RawCheckIn<'a> {
    /// Value.
    pub value: f64,
    /// Note.
    pub note: Option<&'a str>,
    /// When the value was true (default: now).
    pub recorded_at: Option<DateTime<Utc>>,
}

/// A validated check-in.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckInFields {
    value: f64,
    note: Option<String>,
    recorded_at: Option<DateTime<Utc>>,
}

impl CheckInFields {
    /// Validates a check-in sent at `now`: a finite value, and a time not in the future.
    pub fn parse(raw: RawCheckIn<'_>, now: DateTime<Utc>) -> DomainResult<Self> {
        let mut v = Validator::new();
        let value = v.check(value("value", raw.value));
        let note = raw
            .note
            .map(|n| v.check(text::multi_line("note", n, MAX_NOTE_CHARS)));
        if let Some(at) = raw.recorded_at {
            use chrono::Datelike;
            v.check(crate::timestamp::check_year("recorded_at", at.year()));
        }
        if raw
            .recorded_at
            .is_some_and(|t| t > now + TimeDelta::seconds(MAX_CLOCK_SKEW_SECONDS))
        {
            v.fail("recorded_at", "must not be in the future");
        }
        v.build(|| {
            Some(Self {
                value: value?,
                note: note.map(|n| n.ok_or(())).transpose().ok()?,
                recorded_at: raw.recorded_at,
            })
        })
    }

    /// The check-in of `goal` these fields make, reported `at` by `by`.
    pub fn into_check_in(
        self,
        id: CheckInId,
        goal: GoalId,
        by: Actor,
        at: DateTime<Utc>,
    ) -> CheckIn {
        CheckIn {
            id,
            goal_id: goal,
            value: self.value,
            note: self.note,
            recorded_at: self.recorded_at.unwrap_or(at),
            recorded_by: by,
            created_at: at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(baseline: f64, target: f64, direction: Direction) -> DomainResult<Metric> {
        Metric::parse(RawMetric {
            name: "new clients",
            unit: "clients",
            baseline,
            target,
            direction,
        })
    }

    fn raw_goal<'a>(metric: RawMetric<'a>, start: &str, due: &str) -> RawGoalFields<'a> {
        RawGoalFields {
            title: "Win clients",
            description: None,
            kind: GoalKind::ClientAcquisition,
            owner_member_id: Some(MemberId::generate()),
            owner_team_id: None,
            parent_goal_id: None,
            metric,
            start_date: start.parse().unwrap(),
            due_date: due.parse().unwrap(),
            status: None,
            strengths: &[],
        }
    }

    fn raw_metric(baseline: f64, target: f64) -> RawMetric<'static> {
        RawMetric {
            name: "new clients",
            unit: "clients",
            baseline,
            target,
            direction: Direction::Increase,
        }
    }

    fn fields(metric: &[&str]) -> Vec<String> {
        metric.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn what_cannot_be_measured_is_refused_naming_the_field() {
        let same = metric(10.0, 10.0, Direction::Increase).unwrap_err();
        assert_eq!(same.field_errors()[0].field, "metric.target");
        let backwards = metric(10.0, 5.0, Direction::Increase).unwrap_err();
        assert_eq!(backwards.field_errors()[0].field, "metric.direction");
        assert!(metric(10.0, 5.0, Direction::Decrease).is_ok());
        for bad in [f64::NAN, f64::INFINITY, 1e16] {
            let refused = metric(bad, 5.0, Direction::Decrease).unwrap_err();
            assert_eq!(refused.field_errors()[0].field, "metric.baseline");
        }
        let early = GoalFields::parse(raw_goal(raw_metric(0.0, 5.0), "2026-12-10", "2026-12-01"))
            .unwrap_err();
        assert_eq!(early.field_errors()[0].field, "due_date");
        let mut both = raw_goal(raw_metric(0.0, 5.0), "2026-12-01", "2026-12-31");
        both.owner_team_id = Some(TeamId::generate());
        let refused = GoalFields::parse(both).unwrap_err();
        assert_eq!(refused.field_errors()[0].field, "owner_member_id");
        let mut neither = both;
        neither.owner_member_id = None;
        neither.owner_team_id = None;
        assert!(GoalFields::parse(neither).is_err());
    }

    #[test]
    fn progress_is_clamped_and_honours_the_direction() {
        let up = metric(10.0, 20.0, Direction::Increase).unwrap();
        assert_eq!(up.progress(None), 0.0);
        assert_eq!(up.progress(Some(15.0)), 0.5);
        assert_eq!(up.progress(Some(5.0)), 0.0);
        assert_eq!(up.progress(Some(30.0)), 1.0);
        let down = metric(120.0, 60.0, Direction::Decrease).unwrap();
        assert_eq!(down.progress(Some(90.0)), 0.5);
        assert_eq!(down.progress(Some(150.0)), 0.0);
        assert!(down.reached_by(60.0) && down.reached_by(50.0) && !down.reached_by(61.0));
    }

    #[test]
    fn reaching_the_target_achieves_once_and_a_late_report_is_history_only() {
        let goal = Goal::created(
            GoalId::generate(),
            GoalFields::parse(raw_goal(raw_metric(0.0, 3.0), "2026-12-01", "2026-12-31")).unwrap(),
            Utc::now(),
        );
        let now = Utc::now();
        let check = |value: f64, at: Option<DateTime<Utc>>| {
            CheckInFields::parse(
                RawCheckIn {
                    value,
                    note: None,
                    recorded_at: at,
                },
                now,
            )
            .unwrap()
        };
        let utc = TimeZone::utc();
        let first = goal.checked_in(&check(2.0, None), now, utc).unwrap();
        assert!(!first.achieved_now);
        let earlier = now - TimeDelta::hours(1);
        let late = first
            .goal
            .checked_in(&check(9.0, Some(earlier)), now, utc)
            .unwrap();
        assert_eq!(
            late.goal.current_value,
            Some(2.0),
            "an older report is history"
        );
        let done = late.goal.checked_in(&check(3.0, None), now, utc).unwrap();
        assert!(done.achieved_now);
        assert_eq!(done.goal.stored_status, GoalStatus::Achieved);
        let again = done.goal.checked_in(&check(4.0, None), now, utc).unwrap();
        assert!(!again.achieved_now, "achieved once");
        let future = CheckInFields::parse(
            RawCheckIn {
                value: 1.0,
                note: None,
                recorded_at: Some(now + TimeDelta::hours(1)),
            },
            now,
        );
        assert_eq!(future.unwrap_err().field_errors()[0].field, "recorded_at");
    }

    #[test]
    fn a_target_reached_after_the_due_date_does_not_achieve_a_missed_goal() {
        let goal = Goal::created(
            GoalId::generate(),
            GoalFields::parse(raw_goal(raw_metric(0.0, 3.0), "2020-01-01", "2020-12-31")).unwrap(),
            Utc::now(),
        );
        let now = Utc::now();
        let late = CheckInFields::parse(
            RawCheckIn {
                value: 5.0,
                note: None,
                recorded_at: None,
            },
            now,
        )
        .unwrap();
        let settled = goal.checked_in(&late, now, TimeZone::utc()).unwrap();
        assert!(!settled.achieved_now);
        assert_eq!(settled.goal.status_on(now.date_naive()), GoalStatus::Missed);
        let on_time = CheckInFields::parse(
            RawCheckIn {
                value: 5.0,
                note: None,
                recorded_at: Some("2020-12-31T12:00:00Z".parse().unwrap()),
            },
            now,
        )
        .unwrap();
        assert!(
            goal.checked_in(&on_time, now, TimeZone::utc())
                .unwrap()
                .achieved_now
        );
    }

    #[test]
    fn an_active_goal_past_its_due_date_reads_as_missed() {
        let goal = Goal::created(
            GoalId::generate(),
            GoalFields::parse(raw_goal(raw_metric(0.0, 3.0), "2026-12-01", "2026-12-31")).unwrap(),
            Utc::now(),
        );
        let day = |d: &str| d.parse::<NaiveDate>().unwrap();
        assert_eq!(goal.status_on(day("2026-12-31")), GoalStatus::Active);
        assert_eq!(goal.status_on(day("2027-01-01")), GoalStatus::Missed);
        let cancelled = goal.cancelled(Utc::now()).unwrap();
        assert_eq!(
            cancelled.status_on(day("2027-01-01")),
            GoalStatus::Cancelled
        );
        assert!(cancelled.cancelled(Utc::now()).is_err());
    }

    #[test]
    fn strengths_match_without_case_or_spaces_and_team_goals_have_no_owner_strengths() {
        let mut raw = raw_goal(raw_metric(0.0, 3.0), "2026-12-01", "2026-12-31");
        let wanted = fields(&["Patience", "Selling"]);
        raw.strengths = &wanted;
        let goal = Goal::created(
            GoalId::generate(),
            GoalFields::parse(raw).unwrap(),
            Utc::now(),
        );
        assert_eq!(
            goal.uses_owner_strengths(&fields(&[" patience "])),
            Some(true)
        );
        assert_eq!(
            goal.uses_owner_strengths(&fields(&["languages"])),
            Some(false)
        );
        let mut team = raw;
        team.owner_member_id = None;
        team.owner_team_id = Some(TeamId::generate());
        let team_goal = Goal::created(
            GoalId::generate(),
            GoalFields::parse(team).unwrap(),
            Utc::now(),
        );
        assert_eq!(team_goal.uses_owner_strengths(&[]), None);
    }
}
