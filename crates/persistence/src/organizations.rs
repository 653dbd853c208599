//! Organizations: created by a platform admin (or the CLI), read and tuned by their owners.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use circulo_domain::OrgId;
use circulo_domain::organization::{
    CurrencyCode, LowScoreThresholds, Organization, OrganizationFields, OrganizationPatch,
    OrganizationSettings, TimeZone,
};
use circulo_domain::version::Precondition;

use crate::conn::DbConn;
use crate::error::{StoreResult, corrupt};
use crate::feed;
use crate::locks::lock_organization;
use crate::rows::{Versioned, parse_id, revision, store_handles, update_versioned};
use crate::schema::organizations as o;
use crate::time::to_db;
use crate::tx::WriteTx;

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = o, primary_key(org_id))]
pub(crate) struct OrganizationRow {
    org_id: String,
    name: String,
    currency: String,
    timezone: String,
    anonymity_threshold: i32,
    escalation_response_target_minutes: i32,
    low_score_csat_at_most: i32,
    low_score_nps_at_most: i32,
    low_score_ces_at_least: i32,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl OrganizationRow {
    fn from_domain(org: &Organization) -> Self {
        let s = &org.settings;
        Self {
            org_id: org.id.to_string(),
            name: org.name.clone(),
            currency: org.currency.as_str().to_owned(),
            timezone: org.timezone.name().to_owned(),
            anonymity_threshold: s.anonymity_threshold,
            escalation_response_target_minutes: s.escalation_response_target_minutes,
            low_score_csat_at_most: s.low_score_thresholds.csat_at_most,
            low_score_nps_at_most: s.low_score_thresholds.nps_at_most,
            low_score_ces_at_least: s.low_score_thresholds.ces_at_least,
            version: org.revision.version,
            created_at: to_db(org.revision.created_at),
            updated_at: to_db(org.revision.updated_at),
        }
    }

    pub(crate) fn into_domain(self) -> StoreResult<Organization> {
        Ok(Organization {
            id: parse_id("organization id", &self.org_id)?,
            currency: CurrencyCode::parse("currency", &self.currency)
                .map_err(|_| corrupt("currency", &self.currency))?,
            timezone: TimeZone::parse("timezone", &self.timezone)
                .map_err(|_| corrupt("timezone", &self.timezone))?,
            name: self.name,
            settings: OrganizationSettings {
                anonymity_threshold: self.anonymity_threshold,
                escalation_response_target_minutes: self.escalation_response_target_minutes,
                low_score_thresholds: LowScoreThresholds {
                    csat_at_most: self.low_score_csat_at_most,
                    nps_at_most: self.low_score_nps_at_most,
                    ces_at_least: self.low_score_ces_at_least,
                },
            },
            revision: revision(self.version, self.created_at, self.updated_at),
        })
    }
}

store_handles!(organizations: Organizations, OrganizationWrites);

impl OrganizationWrites<'_, '_> {
    /// Creates an organization with default settings.
    pub fn create(self, fields: OrganizationFields) -> StoreResult<Organization> {
        let tx = self.0;
        let org = Organization::created(OrgId::from_uuid(tx.new_uuid()), fields, tx.now());
        diesel::insert_into(o::table)
            .values(OrganizationRow::from_domain(&org))
            .execute(tx.conn()?)?;
        feed::start(tx.conn()?, org.id)?;
        record(tx, &org, "organization.created")?;
        Ok(org)
    }

    /// Applies `patch` when the stored version satisfies `expected`.
    pub fn update(
        self,
        id: OrgId,
        expected: &Precondition,
        patch: OrganizationPatch,
    ) -> StoreResult<Organization> {
        let tx = self.0;
        let (_, next) =
            update_versioned::<OrganizationsTable>(tx, id, id, expected, |tx, current| {
                Ok(current.replaced(current.fields().patched(patch), tx.now()))
            })?;
        record(tx, &next, "organization.updated")?;
        Ok(next)
    }
}

/// The organizations table, for the shared versioned update.
struct OrganizationsTable;

impl Versioned for OrganizationsTable {
    type Entity = Organization;
    type Id = OrgId;

    fn lock(conn: &mut DbConn, _: OrgId, id: OrgId) -> StoreResult<()> {
        lock_organization(conn, id)
    }

    fn find(conn: &mut DbConn, _: OrgId, id: OrgId) -> StoreResult<Organization> {
        find(conn, id)
    }

    fn version(org: &Organization) -> i64 {
        org.revision.version
    }

    fn write(conn: &mut DbConn, _: OrgId, next: &Organization, version: i64) -> StoreResult<usize> {
        Ok(diesel::update(
            o::table
                .filter(o::org_id.eq(next.id.to_string()))
                .filter(o::version.eq(version)),
        )
        .set(&OrganizationRow::from_domain(next))
        .execute(conn)?)
    }
}

impl Organizations<'_> {
    /// Reads an organization.
    pub fn get(&self, id: OrgId) -> StoreResult<Organization> {
        self.0.read(|conn| find(conn, id))
    }

    /// Whether the organization exists.
    pub fn exists(&self, id: OrgId) -> StoreResult<bool> {
        self.0.read(|conn| {
            let found = o::table
                .filter(o::org_id.eq(id.to_string()))
                .select(o::org_id)
                .first::<String>(conn)
                .optional()?;
            Ok(found.is_some())
        })
    }
}

pub(crate) fn find(conn: &mut DbConn, id: OrgId) -> StoreResult<Organization> {
    o::table
        .filter(o::org_id.eq(id.to_string()))
        .select(OrganizationRow::as_select())
        .first(conn)?
        .into_domain()
}

fn record(tx: &mut WriteTx<'_>, org: &Organization, action: &str) -> StoreResult<()> {
    tx.record(org.id, action, "organization", &org.id.to_string(), org)
}
