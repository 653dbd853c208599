//! Counting a decision against a grant's budget: the counter's one contended statement.
//!
//! It is its own query type because diesel treats every `ON CONFLICT … DO UPDATE` it builds, and
//! every `sql_query`, as unsafe to keep prepared, so PostgreSQL would parse and plan it on every
//! decision. Written once with bind parameters, the statement has one text for each database
//! (diesel writes `$n` or `?`) and a fixed type, so each connection prepares it once.

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Bool, HasSqlType, Text, Timestamp};
use diesel::{QueryResult, RunQueryDsl};

/// Adds `amount_minor` and one decision to grant `delegation_id`'s period starting
/// `period_start`, only while the period's total stays within `budget_minor` and, when
/// `count_limit` is set, its count under it. The row's lock serializes concurrent decisions from
/// any number of servers. Returns the period's new total; no row when the grant does not cover
/// the decision.
#[derive(Debug, Clone)]
pub(crate) struct ConsumeBudget {
    pub(crate) org_id: String,
    pub(crate) delegation_id: String,
    pub(crate) period_start: NaiveDateTime,
    pub(crate) amount_minor: i64,
    pub(crate) budget_minor: i64,
    pub(crate) count_limit: Option<i64>,
}

impl QueryId for ConsumeBudget {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for ConsumeBudget {
    type SqlType = BigInt;
}

impl<Conn> RunQueryDsl<Conn> for ConsumeBudget {}

impl<DB> QueryFragment<DB> for ConsumeBudget
where
    DB: Backend + HasSqlType<Text> + HasSqlType<Timestamp> + HasSqlType<BigInt> + HasSqlType<Bool>,
    String: ToSql<Text, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
    i64: ToSql<BigInt, DB>,
    bool: ToSql<Bool, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        // A fixed shape whatever the grant: no count limit is a true flag and a zero limit.
        let (no_count_limit, count_limit) = match &self.count_limit {
            Some(limit) => (&false, limit),
            None => (&true, &0),
        };
        out.push_sql(
            "INSERT INTO delegation_usage \
             (org_id, delegation_id, period_start, used_minor, decisions) VALUES (",
        );
        out.push_bind_param::<Text, _>(&self.org_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&self.delegation_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.period_start)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&self.amount_minor)?;
        out.push_sql(
            ", 1) ON CONFLICT (org_id, delegation_id, period_start) DO UPDATE \
             SET used_minor = delegation_usage.used_minor + excluded.used_minor, \
                 decisions = delegation_usage.decisions + 1 \
             WHERE delegation_usage.used_minor + excluded.used_minor <= ",
        );
        out.push_bind_param::<BigInt, _>(&self.budget_minor)?;
        out.push_sql(" AND (");
        out.push_bind_param::<Bool, _>(no_count_limit)?;
        out.push_sql(" OR delegation_usage.decisions < ");
        out.push_bind_param::<BigInt, _>(count_limit)?;
        out.push_sql(") RETURNING used_minor");
        Ok(())
    }
}
