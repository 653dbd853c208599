//! The limits the server enforces, written into the document from the same constants its
//! validators check (`#[schema(max_length = …)]` takes only literals, which would drift). Each
//! handler module lists its bodies' limits with [`bounds!`]; the page size of every list is the
//! paging convention's.

use std::borrow::Cow;
use std::ops::RangeInclusive;

use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::schema::{ArrayItems, Schema};
use utoipa::openapi::{OpenApi, RefOr};

use circulo_domain::page::{DEFAULT_LIMIT, MAX_LIMIT};

/// What the server accepts in one field.
#[derive(Debug, Clone)]
pub enum Limit {
    /// A string of 1 to this many characters.
    Chars(usize),
    /// A list of at most `items` strings, each 1 to `chars` characters.
    Strings { items: usize, chars: usize },
    /// An integer in this range.
    Integer(RangeInclusive<i32>),
    /// A number no further from zero than this.
    Magnitude(f64),
}

/// A limit on one field of one schema.
#[derive(Debug, Clone)]
pub struct Bound {
    schema: Cow<'static, str>,
    field: &'static str,
    limit: Limit,
}

impl Bound {
    /// Used by [`bounds!`], which checks at compile time that the field exists.
    pub fn new(schema: Cow<'static, str>, field: &'static str, limit: Limit) -> Self {
        Self {
            schema,
            field,
            limit,
        }
    }
}

/// The limits of request bodies' fields, as `Schema { field: Limit, … }, …`. A field that is
/// renamed or removed fails to compile; a schema missing from the document fails its tests.
macro_rules! bounds {
    ($($schema:ident { $($field:ident: $limit:expr),+ $(,)? }),+ $(,)?) => {
        vec![$($({
            let _exists = |body: &$schema| { let _ = &body.$field; };
            $crate::openapi::limits::Bound::new(
                <$schema as utoipa::ToSchema>::name(),
                stringify!($field),
                $limit,
            )
        }),+),+]
    };
}
pub(crate) use bounds;

/// Writes every bound and the page-size limits into `api`.
///
/// # Panics
/// If a bound names a schema or property the document lacks, or a field of the wrong type:
/// the document would then state no limit at all.
pub fn write(api: &mut OpenApi, bounds: &[Bound]) {
    let schemas = &mut api.components.get_or_insert_with(Default::default).schemas;
    for bound in bounds {
        let Some(RefOr::T(Schema::Object(object))) = schemas.get_mut(bound.schema.as_ref()) else {
            panic!("no object schema {} in the document", bound.schema);
        };
        let Some(RefOr::T(property)) = object.properties.get_mut(bound.field) else {
            panic!("{} has no property {}", bound.schema, bound.field);
        };
        apply(property, &bound.limit).unwrap_or_else(|| {
            panic!(
                "{}.{} is not a {:?}",
                bound.schema, bound.field, bound.limit
            )
        });
    }
    write_page_sizes(api);
}

fn apply(schema: &mut Schema, limit: &Limit) -> Option<()> {
    match (schema, limit) {
        (Schema::Object(text), &Limit::Chars(max)) => {
            text.min_length = Some(1);
            text.max_length = Some(max);
        }
        (Schema::Object(number), Limit::Integer(range)) => {
            number.minimum = Some((*range.start()).into());
            number.maximum = Some((*range.end()).into());
        }
        (Schema::Object(number), &Limit::Magnitude(max)) => {
            number.minimum = Some(utoipa::Number::Float(-max));
            number.maximum = Some(utoipa::Number::Float(max));
        }
        (Schema::Array(list), &Limit::Strings { items, chars }) => {
            list.max_items = Some(items);
            let ArrayItems::RefOrSchema(item) = &mut list.items else {
                return None;
            };
            let RefOr::T(item) = item.as_mut() else {
                return None;
            };
            apply(item, &Limit::Chars(chars))?;
        }
        _ => return None,
    }
    Some(())
}

/// Every list's `limit` parameter: the paging convention shared by all of them.
fn write_page_sizes(api: &mut OpenApi) {
    for operation in api
        .paths
        .paths
        .values_mut()
        .filter_map(|item| item.get.as_mut())
    {
        for parameter in operation.parameters.iter_mut().flatten() {
            let RefOr::T(parameter) = parameter else {
                continue;
            };
            if parameter.parameter_in != ParameterIn::Query || parameter.name != "limit" {
                continue;
            }
            let Some(RefOr::T(Schema::Object(size))) = parameter.schema.as_mut() else {
                panic!("a `limit` parameter that is not an integer");
            };
            size.minimum = Some(1.into());
            size.maximum = Some(MAX_LIMIT.into());
            size.default = Some(DEFAULT_LIMIT.into());
        }
    }
}
