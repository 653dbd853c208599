//! Many rows in one `INSERT … SELECT * FROM unnest(…)` on PostgreSQL: one array parameter per
//! column, so the statement's text is the same for any number of rows and is prepared once. A
//! multi-row `VALUES` list binds one parameter per cell (22,000 for a batch of 1,000 scores)
//! and is parsed and planned again for every batch: in a profile of batch ingestion that was a
//! quarter of PostgreSQL's time.

/// Declares `$name`, the columns of `$row`s as arrays, inserting them into `$table` with `$tail`
/// (`ON CONFLICT …`, `RETURNING …`) after the `SELECT`.
macro_rules! unnest_insert {
    ($(#[$doc:meta])* $name:ident: $row:ty => $table:literal, $tail:literal,
     { $($column:ident: $sql:ty => $rust:ty),+ $(,)? }) => {
        $(#[$doc])*
        struct $name {
            $($column: Vec<$rust>,)+
        }

        impl $name {
            fn of(rows: &[$row]) -> Self {
                Self { $($column: rows.iter().map(|r| r.$column.clone()).collect(),)+ }
            }
        }

        impl diesel::query_builder::QueryId for $name {
            type QueryId = Self;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl<Conn> diesel::RunQueryDsl<Conn> for $name {}

        impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for $name {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
            ) -> diesel::QueryResult<()> {
                out.push_sql(concat!("INSERT INTO ", $table, " ("));
                let mut separator = "";
                $(
                    out.push_sql(separator);
                    out.push_sql(stringify!($column));
                    separator = ", ";
                )+
                out.push_sql(") SELECT * FROM unnest(");
                separator = "";
                $(
                    out.push_sql(separator);
                    out.push_bind_param::<diesel::sql_types::Array<$sql>, _>(&self.$column)?;
                    separator = ", ";
                )+
                let _ = separator;
                out.push_sql(concat!(") ", $tail));
                Ok(())
            }
        }
    };
}
pub(crate) use unnest_insert;
