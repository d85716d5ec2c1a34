//! What a principal may read: the subtree of its department's nearest `administration` (an
//! akimat), or everything — for admins, and for everyone while the registry has no administration
//! at all, so a flat registry reads as it always did. Once one exists, a principal with no
//! administration above it reads its own department's subtree, never the country.

use crate::departments::store as departments;
use crate::error::ApiError;
use crate::store::DbConnection;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    All,
    /// This department and everything below it.
    Subtree(String),
}

impl Reach {
    /// The reach of a principal of `department_id`; `admin` reads everything.
    pub fn of(conn: &mut DbConnection, department_id: &str, admin: bool) -> diesel::QueryResult<Reach> {
        if admin || !departments::any_administration(conn)? {
            return Ok(Reach::All);
        }
        let root =
            departments::nearest_administration(conn, department_id)?.unwrap_or_else(|| department_id.to_string());
        Ok(Reach::Subtree(root))
    }

    /// The root of the reach, or `None` for everything.
    pub fn root(&self) -> Option<&str> {
        match self {
            Reach::All => None,
            Reach::Subtree(root) => Some(root),
        }
    }

    /// Whether any of `ids` is within reach: an event is, when its lead or a partner is.
    pub fn covers_any(&self, conn: &mut DbConnection, ids: &[&str]) -> Result<bool, ApiError> {
        Ok(match self {
            Reach::All => true,
            Reach::Subtree(root) => departments::any_within(conn, ids, root)?,
        })
    }

    /// Whether `id` is within reach or above it: a plan of the region applies to its districts.
    pub fn covers_or_above(&self, conn: &mut DbConnection, id: &str) -> Result<bool, ApiError> {
        Ok(match self {
            Reach::All => true,
            Reach::Subtree(root) => departments::is_within(conn, id, root)? || departments::is_within(conn, root, id)?,
        })
    }

    /// 404 unless any of `ids` is within reach: what one may not see, one is not told exists.
    pub fn require_any(&self, conn: &mut DbConnection, ids: &[&str]) -> Result<(), ApiError> {
        if self.covers_any(conn, ids)? { Ok(()) } else { Err(ApiError::NotFound) }
    }

    /// 403 unless the reach is everything: for what is read whole (the audit trail).
    pub fn require_all(&self) -> Result<(), ApiError> {
        match self {
            Reach::All => Ok(()),
            Reach::Subtree(_) => {
                Err(ApiError::forbidden("this is read whole, by principals who read the whole registry"))
            }
        }
    }
}
