//! Members and their reporting lines.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use circulo_domain::member::{Member, MemberFields, MemberPatch, MemberRole};
use circulo_domain::page::{Page, PageRequest};
use circulo_domain::version::Precondition;
use circulo_domain::{DomainError, MemberId, OrgId, TeamId};

use crate::conn::DbConn;
use crate::error::{StoreError, StoreResult, corrupt};
use crate::hierarchy;
use crate::locks::{Keyed, lock_member_by_external_id, lock_name, lock_row};
use crate::rows::{
    Versioned, after_id, id_page, parse_id, parse_opt_id, revision, snapshot, store_handles,
    update_versioned,
};
use crate::schema::members as m;
use crate::teams::team_exists;
use crate::time::to_db;
use crate::tx::WriteTx;

// `treat_none_as_default_value = false`: a `None` binds NULL instead of writing DEFAULT, so the
// INSERT's SQL is the same every time and diesel keeps it prepared.
#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(
    table_name = m,
    primary_key(org_id, id),
    treat_none_as_null = true,
    treat_none_as_default_value = false
)]
struct MemberRow {
    org_id: String,
    id: String,
    external_id: Option<String>,
    display_name: String,
    email: Option<String>,
    role: String,
    team_id: Option<String>,
    manager_id: Option<String>,
    strengths: String,
    active: bool,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl MemberRow {
    fn from_domain(org: OrgId, member: &Member) -> StoreResult<Self> {
        Ok(Self {
            org_id: org.to_string(),
            id: member.id.to_string(),
            external_id: member.external_id.clone(),
            display_name: member.display_name.clone(),
            email: member.email.clone(),
            role: member.role.as_str().to_owned(),
            team_id: member.team_id.map(|id| id.to_string()),
            manager_id: member.manager_id.map(|id| id.to_string()),
            strengths: snapshot(&member.strengths)?,
            active: member.active,
            version: member.revision.version,
            created_at: to_db(member.revision.created_at),
            updated_at: to_db(member.revision.updated_at),
        })
    }

    fn into_domain(self) -> StoreResult<Member> {
        Ok(Member {
            id: parse_id("member id", &self.id)?,
            role: MemberRole::parse(&self.role).map_err(|_| corrupt("role", &self.role))?,
            team_id: parse_opt_id("team id", self.team_id.as_deref())?,
            manager_id: parse_opt_id("manager id", self.manager_id.as_deref())?,
            strengths: serde_json::from_str(&self.strengths)
                .map_err(|_| corrupt("strengths", &self.strengths))?,
            external_id: self.external_id,
            display_name: self.display_name,
            email: self.email,
            active: self.active,
            revision: revision(self.version, self.created_at, self.updated_at),
        })
    }
}

/// The members table, for the shared versioned update.
struct MembersTable;

impl Versioned for MembersTable {
    type Entity = Member;
    type Id = MemberId;

    fn lock(conn: &mut DbConn, org: OrgId, id: MemberId) -> StoreResult<()> {
        lock_row(conn, Keyed::Members, org, &id.to_string())
    }

    fn find(conn: &mut DbConn, org: OrgId, id: MemberId) -> StoreResult<Member> {
        find(conn, org, id)
    }

    fn version(member: &Member) -> i64 {
        member.revision.version
    }

    fn write(conn: &mut DbConn, org: OrgId, next: &Member, version: i64) -> StoreResult<usize> {
        Ok(diesel::update(
            m::table
                .filter(m::org_id.eq(org.to_string()))
                .filter(m::id.eq(next.id.to_string()))
                .filter(m::version.eq(version)),
        )
        .set(&MemberRow::from_domain(org, next)?)
        .execute(conn)?)
    }
}

/// Which members a list returns.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemberFilter {
    /// Only members of this team.
    pub team_id: Option<TeamId>,
    /// Only members reporting directly to this manager.
    pub manager_id: Option<MemberId>,
    /// Only active (or only deactivated) members.
    pub active: Option<bool>,
}

/// Whether an upsert created the member or replaced an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    /// A new member was created.
    Created,
    /// The existing member was replaced.
    Replaced,
}

store_handles!(members: Members, MemberWrites);

impl Members<'_> {
    /// Reads a member of `org`.
    pub fn get(&self, org: OrgId, id: MemberId) -> StoreResult<Member> {
        self.0.read(|conn| find(conn, org, id))
    }

    /// Whether `id` is an active member of `org`: `None` when no such member exists.
    pub fn is_active(&self, org: OrgId, id: MemberId) -> StoreResult<Option<bool>> {
        self.0.read(|conn| member_active(conn, org, id))
    }

    /// Lists the members of `org` that match `filter`, in creation order.
    pub fn list(
        &self,
        org: OrgId,
        filter: MemberFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Member>> {
        self.0.read(|conn| {
            let mut query = m::table.filter(m::org_id.eq(org.to_string())).into_boxed();
            if let Some(team) = filter.team_id {
                query = query.filter(m::team_id.eq(team.to_string()));
            }
            if let Some(manager) = filter.manager_id {
                query = query.filter(m::manager_id.eq(manager.to_string()));
            }
            if let Some(active) = filter.active {
                query = query.filter(m::active.eq(active));
            }
            let rows = after_id!(query, m::id, page)
                .select(MemberRow::as_select())
                .load(conn)?;
            id_page(rows, page, MemberRow::into_domain, |member| {
                member.id.as_uuid()
            })
        })
    }
}

impl MemberWrites<'_, '_> {
    /// Creates a member.
    pub fn create(self, org: OrgId, fields: MemberFields) -> StoreResult<Member> {
        insert(self.0, org, fields)
    }

    /// Applies `patch` when the stored version satisfies `expected`.
    pub fn update(
        self,
        org: OrgId,
        id: MemberId,
        expected: &Precondition,
        patch: MemberPatch,
    ) -> StoreResult<Member> {
        replace(self.0, org, id, expected, |current| {
            current.fields().patched(patch)
        })
    }

    /// Creates or replaces the member the HR system knows as `fields.external_id()`.
    pub fn upsert_by_external_id(
        self,
        org: OrgId,
        fields: MemberFields,
        expected: &Precondition,
    ) -> StoreResult<(Member, Upserted)> {
        let tx = self.0;
        let external_id = fields.external_id().unwrap_or_default().to_owned();
        // Two PUTs for one new external id must not both insert: the second waits and replaces.
        lock_external_id(tx.conn()?, org, &external_id)?;
        // Locked before it is read, so a concurrent PATCH is waited for, not overwritten or
        // reported as a conflict.
        lock_member_by_external_id(tx.conn()?, org, &external_id)?;
        let existing = m::table
            .filter(m::org_id.eq(org.to_string()))
            .filter(m::external_id.eq(&external_id))
            .select(m::id)
            .first::<String>(tx.conn()?)
            .optional()?;
        match existing {
            Some(id) => {
                let id = parse_id("member id", &id)?;
                let member = replace(tx, org, id, expected, |_| fields)?;
                Ok((member, Upserted::Replaced))
            }
            // An If-Match names a version of something that exists; nothing does. (`*` asks only
            // that it exist, which is a precondition that fails: 412.)
            None => match expected {
                Precondition::None => Ok((insert(tx, org, fields)?, Upserted::Created)),
                Precondition::Exists => Err(StoreError::PreconditionFailed(
                    "If-Match: * asks for an existing member, and none has this external id"
                        .to_owned(),
                )),
                Precondition::OneOf(_) => Err(StoreError::NotFound),
            },
        }
    }
}

fn insert(tx: &mut WriteTx<'_>, org: OrgId, fields: MemberFields) -> StoreResult<Member> {
    let id = MemberId::from_uuid(tx.new_uuid());
    check_references(tx.conn()?, org, id, &fields, None)?;
    if let Some(external_id) = fields.external_id() {
        check_external_id_free(tx.conn()?, org, external_id)?;
    }
    let member = Member::created(id, fields, tx.now());
    diesel::insert_into(m::table)
        .values(MemberRow::from_domain(org, &member)?)
        .execute(tx.conn()?)?;
    record(tx, org, "member.created", &member)?;
    Ok(member)
}

/// Replaces member `id`'s fields with those `fields_of` makes of the current member, through
/// the shared versioned update, and records whether that deactivated or reactivated them.
fn replace(
    tx: &mut WriteTx<'_>,
    org: OrgId,
    id: MemberId,
    expected: &Precondition,
    fields_of: impl FnOnce(&Member) -> MemberFields,
) -> StoreResult<Member> {
    let (current, next) =
        update_versioned::<MembersTable>(tx, org, id, expected, |tx, current| {
            let fields = fields_of(current);
            check_references(tx.conn()?, org, id, &fields, Some(current))?;
            if fields.external_id() != current.external_id.as_deref()
                && let Some(external_id) = fields.external_id()
            {
                check_external_id_free(tx.conn()?, org, external_id)?;
            }
            Ok(current.replaced(fields, tx.now()))
        })?;
    let action = match (current.active, next.active) {
        (true, false) => "member.deactivated",
        (false, true) => "member.reactivated",
        _ => "member.updated",
    };
    record(tx, org, action, &next)?;
    Ok(next)
}

/// Checks that the team and manager exist in `org` and that the manager does not report, directly
/// or through others, to the member (a reporting cycle).
fn check_references(
    conn: &mut DbConn,
    org: OrgId,
    id: MemberId,
    fields: &MemberFields,
    current: Option<&Member>,
) -> StoreResult<()> {
    fields.check_not_own_manager(id)?;
    if let Some(team) = fields.team_id()
        && current.and_then(|c| c.team_id) != Some(team)
        && !team_exists(conn, org, team)?
    {
        return Err(invalid(
            "team_id",
            "no team with this id in the organization",
        ));
    }
    let Some(manager) = fields.manager_id() else {
        return Ok(());
    };
    if current.and_then(|c| c.manager_id) == Some(manager) {
        return Ok(());
    }
    if !member_exists(conn, org, manager)? {
        return Err(invalid(
            "manager_id",
            "no member with this id in the organization",
        ));
    }
    if current.is_some() {
        lock_reporting_lines(conn, org)?;
        if hierarchy::manages(conn, org, id, manager)? {
            return Err(invalid(
                "manager_id",
                "this manager reports to the member, directly or through others: that would be a cycle",
            ));
        }
    }
    Ok(())
}

/// Serialises reporting-line changes within one organization until the transaction ends, so two
/// concurrent changes (A under B, B under A) cannot each pass the cycle check against the other's
/// old state. SQLite's `BEGIN IMMEDIATE` already serialises every writer.
fn lock_reporting_lines(conn: &mut DbConn, org: OrgId) -> StoreResult<()> {
    lock_name(conn, &format!("reporting-lines:{org}"))
}

/// Serialises every transaction that may give a member `external_id`.
fn lock_external_id(conn: &mut DbConn, org: OrgId, external_id: &str) -> StoreResult<()> {
    lock_name(conn, &format!("member-external-id:{org}:{external_id}"))
}

/// Whether `id` is an active member of `org`: `None` when no such member exists.
pub(crate) fn member_active(
    conn: &mut DbConn,
    org: OrgId,
    id: MemberId,
) -> StoreResult<Option<bool>> {
    Ok(m::table
        .filter(m::org_id.eq(org.to_string()))
        .filter(m::id.eq(id.to_string()))
        .select(m::active)
        .first::<bool>(conn)
        .optional()?)
}

/// Refuses, naming `field`, a reference to someone who is not an active member of `org`: goals,
/// grants and feedback are for people at work.
pub(crate) fn check_active_member(
    conn: &mut DbConn,
    org: OrgId,
    id: MemberId,
    field: &str,
) -> StoreResult<()> {
    let refuse = |message: &str| Err(StoreError::Rule(DomainError::invalid(field, message)));
    match member_active(conn, org, id)? {
        Some(true) => Ok(()),
        Some(false) => refuse("this member has been deactivated"),
        None => refuse("no member with this id in the organization"),
    }
}

pub(crate) fn member_exists(conn: &mut DbConn, org: OrgId, id: MemberId) -> StoreResult<bool> {
    let found = m::table
        .filter(m::org_id.eq(org.to_string()))
        .filter(m::id.eq(id.to_string()))
        .select(m::id)
        .first::<String>(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Checks that no member holds `external_id`, and keeps it so until the transaction ends: a PUT,
/// POST or PATCH claiming the same external id waits for this one instead of colliding with it.
fn check_external_id_free(conn: &mut DbConn, org: OrgId, external_id: &str) -> StoreResult<()> {
    lock_external_id(conn, org, external_id)?;
    let taken = m::table
        .filter(m::org_id.eq(org.to_string()))
        .filter(m::external_id.eq(external_id))
        .select(m::id)
        .first::<String>(conn)
        .optional()?;
    match taken {
        Some(holder) => Err(StoreError::Conflict(format!(
            "external_id {external_id:?} already belongs to member {holder}"
        ))),
        None => Ok(()),
    }
}

fn find(conn: &mut DbConn, org: OrgId, id: MemberId) -> StoreResult<Member> {
    m::table
        .filter(m::org_id.eq(org.to_string()))
        .filter(m::id.eq(id.to_string()))
        .select(MemberRow::as_select())
        .first(conn)?
        .into_domain()
}

fn invalid(field: &str, message: &str) -> StoreError {
    StoreError::Rule(DomainError::invalid(field, message))
}

fn record(tx: &mut WriteTx<'_>, org: OrgId, action: &str, member: &Member) -> StoreResult<()> {
    tx.record(org, action, "member", &member.id.to_string(), member)
}
