//! The `from`/`to` window of a list or report: instants, or dates that mean midnight in the
//! organization's time zone. Read from the query before anything else; resolved in the request's
//! trip to the database, which knows the zone (and is asked only when a date needs it).

use chrono::{DateTime, Utc};

use circulo_domain::OrgId;
use circulo_domain::error::Validator;
use circulo_domain::organization::TimeZone;
use circulo_domain::window::{TimeBound, check_window};
use circulo_persistence::{Db, StoreResult};

use crate::error::ApiError;

/// A window as the client wrote it.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Window {
    from: Option<TimeBound>,
    to: Option<TimeBound>,
}

/// The instants a window stands for in an organization.
pub(super) type Instants = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

impl Window {
    /// Reads `from` and `to`, reporting both when both are malformed.
    pub(super) fn parse(from: Option<&str>, to: Option<&str>) -> Result<Self, ApiError> {
        let mut v = Validator::new();
        let from = from.and_then(|f| v.check(TimeBound::parse("from", f)));
        let to = to.and_then(|t| v.check(TimeBound::parse("to", t)));
        v.finish()?;
        Ok(Self { from, to })
    }

    /// The window's instants in `org`; an inverted window is refused.
    pub(super) fn resolve(self, db: &Db, org: OrgId) -> StoreResult<Instants> {
        let zone = if self
            .from
            .iter()
            .chain(self.to.iter())
            .any(TimeBound::needs_zone)
        {
            db.organizations().get(org)?.timezone
        } else {
            TimeZone::utc()
        };
        let from = self.from.map(|f| f.resolve(zone));
        let to = self.to.map(|t| t.resolve(zone));
        check_window(from, to)?;
        Ok((from, to))
    }
}
