//! Keyset pagination shared by every list: items are ordered by a key and a page continues after
//! the last key it returned. Directory lists are keyed by id (UUIDv7, so by creation time); feeds
//! that integrations follow (the audit log) are keyed by their feed position, which is handed out
//! in commit order. Inserts that happen meanwhile never shift or repeat what a client already saw,
//! which offsets could not promise.

use uuid::Uuid;

use crate::error::{DomainError, DomainResult};

/// The default number of items per page.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest page a client may ask for.
pub const MAX_LIMIT: u32 = 200;

/// A place in a feed: the position of the transaction that wrote the row, then its id (one
/// transaction may write several rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FeedPosition {
    /// The transaction's position in its organization's feed.
    pub position: i64,
    /// The row's id.
    pub id: Uuid,
}

/// A key a list can continue after, as the bytes of its cursor.
pub trait Keyset: Sized + Copy {
    /// The key as bytes.
    fn to_cursor_bytes(&self) -> Vec<u8>;
    /// The key back from bytes this type made, or `None`.
    fn from_cursor_bytes(bytes: &[u8]) -> Option<Self>;
}

impl Keyset for Uuid {
    fn to_cursor_bytes(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }

    fn from_cursor_bytes(bytes: &[u8]) -> Option<Self> {
        Uuid::from_slice(bytes).ok()
    }
}

impl Keyset for FeedPosition {
    fn to_cursor_bytes(&self) -> Vec<u8> {
        let mut bytes = self.position.to_be_bytes().to_vec();
        bytes.extend_from_slice(self.id.as_bytes());
        bytes
    }

    fn from_cursor_bytes(bytes: &[u8]) -> Option<Self> {
        let (position, id) = bytes.split_at_checked(8)?;
        Some(Self {
            position: i64::from_be_bytes(position.try_into().ok()?),
            id: Uuid::from_slice(id).ok()?,
        })
    }
}

/// Which page to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest<K = Uuid> {
    after: Option<K>,
    limit: u32,
}

impl<K: Keyset> PageRequest<K> {
    /// Validates the requested limit (1..=200, default 50).
    pub fn new(after: Option<K>, limit: Option<u32>) -> DomainResult<Self> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(DomainError::invalid(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        Ok(Self { after, limit })
    }

    /// Continue after this key; `None` starts at the beginning.
    pub fn after(&self) -> Option<K> {
        self.after
    }

    /// How many items at most.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// How many rows a store fetches: one more than the limit tells whether another page exists.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T, K = Uuid> {
    /// The items, in key order.
    pub items: Vec<T>,
    /// Where the next page starts, `None` on the last page.
    pub next_after: Option<K>,
}

impl<T, K: Keyset> Page<T, K> {
    /// Builds a page from up to `limit + 1` fetched items; `key` names each item's position.
    pub fn from_fetched(mut items: Vec<T>, request: PageRequest<K>, key: impl Fn(&T) -> K) -> Self {
        let limit = request.limit as usize;
        let next_after = if items.len() > limit {
            items.truncate(limit);
            items.last().map(key)
        } else {
            None
        };
        Self { items, next_after }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_defaults_to_fifty_and_is_bounded() {
        assert_eq!(PageRequest::<Uuid>::new(None, None).unwrap().limit(), 50);
        assert!(PageRequest::<Uuid>::new(None, Some(200)).is_ok());
        assert!(PageRequest::<Uuid>::new(None, Some(201)).is_err());
        assert!(PageRequest::<Uuid>::new(None, Some(0)).is_err());
    }

    #[test]
    fn a_full_fetch_yields_a_cursor_and_drops_the_probe_item() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let request = PageRequest::new(None, Some(2)).unwrap();
        let page = Page::from_fetched(ids.clone(), request, |id| *id);
        assert_eq!(page.items, ids[..2]);
        assert_eq!(page.next_after, Some(ids[1]));
    }

    #[test]
    fn a_short_fetch_is_the_last_page() {
        let ids = vec![Uuid::now_v7()];
        let request = PageRequest::new(None, Some(2)).unwrap();
        assert_eq!(Page::from_fetched(ids, request, |id| *id).next_after, None);
    }

    #[test]
    fn feed_positions_round_trip_through_bytes_and_refuse_others() {
        let key = FeedPosition {
            position: 42,
            id: Uuid::now_v7(),
        };
        assert_eq!(
            FeedPosition::from_cursor_bytes(&key.to_cursor_bytes()),
            Some(key)
        );
        assert_eq!(FeedPosition::from_cursor_bytes(&[0; 16]), None);
        assert_eq!(
            <Uuid as Keyset>::from_cursor_bytes(&key.to_cursor_bytes()),
            None
        );
    }
}
