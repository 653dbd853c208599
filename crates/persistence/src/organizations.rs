//! Organizations: created by a platform admin (or the CLI), read and tuned by their owners.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use circulo_domain::OrgId;
use circulo_domain::organization::{
    CurrencyCode, LowScoreThresholds, NewOrganization, Organization, OrganizationPatch,
    OrganizationSettings, TimeZone,
};
use circulo_domain::version::Precondition;

use crate::conn::DbConn;
use crate::db::Db;
use crate::error::{StoreResult, corrupt};
use crate::feed;
use crate::locks::lock_organization;
use crate::rows::{check_version, lost_update, parse_id};
use crate::schema::organizations as o;
use crate::time::{from_db, to_db};
use crate::tx::WriteTx;

#[derive(Queryable, Insertable)]
#[diesel(table_name = o)]
struct OrganizationRow {
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
            version: org.version,
            created_at: to_db(org.created_at),
            updated_at: to_db(org.updated_at),
        }
    }

    fn into_domain(self) -> StoreResult<Organization> {
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
            version: self.version,
            created_at: from_db(self.created_at),
            updated_at: from_db(self.updated_at),
        })
    }
}

/// Reading organizations.
pub struct Organizations<'a>(&'a Db);

/// Changing organizations, inside a write transaction.
pub struct OrganizationWrites<'t, 'c>(&'t mut WriteTx<'c>);

impl Db {
    /// The organization store.
    pub fn organizations(&self) -> Organizations<'_> {
        Organizations(self)
    }
}

impl<'c> WriteTx<'c> {
    /// Changes to organizations in this transaction.
    pub fn organizations(&mut self) -> OrganizationWrites<'_, 'c> {
        OrganizationWrites(self)
    }
}

impl OrganizationWrites<'_, '_> {
    /// Creates an organization with default settings.
    pub fn create(self, new: &NewOrganization) -> StoreResult<Organization> {
        let tx = self.0;
        let at = tx.now();
        let org = Organization {
            id: OrgId::from_uuid(tx.new_uuid()),
            name: new.name.clone(),
            currency: new.currency.clone(),
            timezone: new.timezone,
            settings: OrganizationSettings::default(),
            version: 1,
            created_at: at,
            updated_at: at,
        };
        let row = OrganizationRow::from_domain(&org);
        diesel::insert_into(o::table)
            .values(&row)
            .execute(tx.conn())?;
        feed::start(tx.conn(), org.id)?;
        record(tx, &org, "organization.created")?;
        Ok(org)
    }

    /// Applies `patch` when the stored version is `expected_version` (any version when `None`).
    pub fn update(
        self,
        id: OrgId,
        expected_version: &Precondition,
        patch: OrganizationPatch,
    ) -> StoreResult<Organization> {
        let tx = self.0;
        lock_organization(tx.conn(), id)?;
        let current = find(tx.conn(), id)?;
        check_version(expected_version, current.version)?;
        let mut next = current.clone().patched(patch);
        next.version = current.version + 1;
        next.updated_at = tx.now();
        let row = OrganizationRow::from_domain(&next);
        let updated = diesel::update(
            o::table
                .filter(o::org_id.eq(&row.org_id))
                .filter(o::version.eq(current.version)),
        )
        .set((
            o::name.eq(&row.name),
            o::timezone.eq(&row.timezone),
            o::anonymity_threshold.eq(row.anonymity_threshold),
            o::escalation_response_target_minutes.eq(row.escalation_response_target_minutes),
            o::low_score_csat_at_most.eq(row.low_score_csat_at_most),
            o::low_score_nps_at_most.eq(row.low_score_nps_at_most),
            o::low_score_ces_at_least.eq(row.low_score_ces_at_least),
            o::version.eq(row.version),
            o::updated_at.eq(row.updated_at),
        ))
        .execute(tx.conn())?;
        if updated == 0 {
            return Err(lost_update(expected_version, current.version));
        }
        record(tx, &next, "organization.updated")?;
        Ok(next)
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

fn find(conn: &mut DbConn, id: OrgId) -> StoreResult<Organization> {
    o::table
        .filter(o::org_id.eq(id.to_string()))
        .first::<OrganizationRow>(conn)?
        .into_domain()
}

fn record(tx: &mut WriteTx<'_>, org: &Organization, action: &str) -> StoreResult<()> {
    tx.record(org.id, action, "organization", &org.id.to_string(), org)
}
