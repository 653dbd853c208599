//! Cursors for keyset pagination. A cursor is the key of a page's last item, encoded so clients
//! treat it as opaque; list responses are `{"items": [...], "next_cursor": "…" | null}`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use circulo_domain::DomainError;
use circulo_domain::page::{Keyset, PageRequest};

use crate::error::ApiError;

/// Encodes a position as a cursor.
pub fn encode_cursor<K: Keyset>(after: K) -> String {
    URL_SAFE_NO_PAD.encode(after.to_cursor_bytes())
}

/// The page a client asks for with `?limit=&cursor=`.
pub fn page_request<K: Keyset>(
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<PageRequest<K>, ApiError> {
    let after = cursor.map(decode_cursor).transpose()?;
    Ok(PageRequest::new(after, limit)?)
}

fn decode_cursor<K: Keyset>(cursor: &str) -> Result<K, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| K::from_cursor_bytes(&bytes))
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
            pub fn from_page<T, K: circulo_domain::page::Keyset>(
                page: circulo_domain::page::Page<T, K>,
            ) -> Self
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

    use circulo_domain::page::FeedPosition;
    use uuid::Uuid;

    #[test]
    fn cursors_round_trip() {
        let id = Uuid::now_v7();
        let request = page_request::<Uuid>(Some(10), Some(&encode_cursor(id))).unwrap();
        assert_eq!(request.after(), Some(id));
        assert_eq!(request.limit(), 10);
    }

    #[test]
    fn foreign_cursors_are_refused() {
        assert!(page_request::<Uuid>(None, Some("not-a-cursor")).is_err());
        assert!(page_request::<Uuid>(None, Some("")).is_err());
        let feed = encode_cursor(FeedPosition {
            position: 3,
            id: Uuid::now_v7(),
        });
        assert!(page_request::<Uuid>(None, Some(&feed)).is_err());
    }
}
