//! Plan queries.

use diesel::prelude::*;

use crate::store::DbConnection;
use crate::store::schema::plan_items as pi;

pub fn item_exists(conn: &mut DbConnection, id: &str) -> QueryResult<bool> {
    Ok(pi::table.find(id).select(pi::id).first::<String>(conn).optional()?.is_some())
}
