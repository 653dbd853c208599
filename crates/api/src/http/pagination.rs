//! Cursors for keyset pagination. A cursor is the last id of a page, encoded so clients treat it
//! as opaque; list responses are `{"items": [...], "next_cursor": "…" | null}`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use circulo_domain::DomainError;
use circulo_domain::page::PageRequest;

use crate::error::ApiError;

/// Encodes a position as a cursor.
pub fn encode_cursor(after: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(after.as_bytes())
}

/// The page a client asks for with `?limit=&cursor=`.
pub fn page_request(limit: Option<u32>, cursor: Option<&str>) -> Result<PageRequest, ApiError> {
    let after = cursor.map(decode_cursor).transpose()?;
    Ok(PageRequest::new(after, limit)?)
}

fn decode_cursor(cursor: &str) -> Result<Uuid, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| {
            ApiError::Domain(DomainError::invalid(
                "cursor",
                "is not a cursor this API returned",
            ))
        })
}

/// Declares a list response type (`{"items", "next_cursor"}`) for a view type.
macro_rules! list_view {
    ($(#[$doc:meta])* $name:ident of $item:ty) => {
        $(#[$doc])*
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            /// This page's items.
            pub items: Vec<$item>,
            /// Pass as `cursor` to get the next page; `null` on the last page.
            pub next_cursor: Option<String>,
        }

        impl $name {
            /// Builds the response from a page of domain values.
            pub fn from_page<T>(page: circulo_domain::page::Page<T>) -> Self
            where
                $item: From<T>,
            {
                Self {
                    next_cursor: page.next_after.map($crate::http::pagination::encode_cursor),
                    items: page.items.into_iter().map(<$item>::from).collect(),
                }
            }
        }
    };
}
pub(crate) use list_view;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let id = Uuid::now_v7();
        let request = page_request(Some(10), Some(&encode_cursor(id))).unwrap();
        assert_eq!(request.after, Some(id));
        assert_eq!(request.limit, 10);
    }

    #[test]
    fn foreign_cursors_are_refused() {
        assert!(page_request(None, Some("not-a-cursor")).is_err());
        assert!(page_request(None, Some("")).is_err());
    }
}
