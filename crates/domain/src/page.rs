//! Keyset pagination shared by every list: items are ordered by id (UUIDv7, so by creation time)
//! and a page continues after the last id it returned. Inserts that happen meanwhile never shift
//! or repeat what a client already saw, which offsets could not promise.

use uuid::Uuid;

use crate::error::{DomainError, DomainResult};

/// The default number of items per page.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest page a client may ask for.
pub const MAX_LIMIT: u32 = 200;

/// Which page to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Continue after this id; `None` starts at the beginning.
    pub after: Option<Uuid>,
    /// How many items at most.
    pub limit: u32,
}

impl PageRequest {
    /// Validates the requested limit (1..=200, default 50).
    pub fn new(after: Option<Uuid>, limit: Option<u32>) -> DomainResult<Self> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(DomainError::invalid(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        Ok(Self { after, limit })
    }

    /// How many rows a store fetches: one more than the limit tells whether another page exists.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in id order.
    pub items: Vec<T>,
    /// Where the next page starts, `None` on the last page.
    pub next_after: Option<Uuid>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched items; `id` names each item's position.
    pub fn from_fetched(mut items: Vec<T>, request: PageRequest, id: impl Fn(&T) -> Uuid) -> Self {
        let limit = request.limit as usize;
        let next_after = if items.len() > limit {
            items.truncate(limit);
            items.last().map(id)
        } else {
            None
        };
        Self { items, next_after }
    }

    /// Converts every item, keeping the position.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_after: self.next_after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_defaults_to_fifty_and_is_bounded() {
        assert_eq!(PageRequest::new(None, None).unwrap().limit, 50);
        assert!(PageRequest::new(None, Some(200)).is_ok());
        assert!(PageRequest::new(None, Some(201)).is_err());
        assert!(PageRequest::new(None, Some(0)).is_err());
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
}
