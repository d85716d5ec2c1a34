//! Evidence rows and their bytes, in chunks.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::store::DbConnection;
use crate::store::schema::{event_evidence as v, evidence_chunks as c};

/// Files are stored in chunks of this size.
pub const CHUNK: usize = 512 << 10;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = v)]
pub struct EvidenceRow {
    pub id: String,
    pub event_id: String,
    pub kind: String,
    pub media_type: Option<String>,
    pub size: Option<i64>,
    pub sha256: Option<String>,
    pub filename: Option<String>,
    pub url: Option<String>,
    pub created_at: NaiveDateTime,
    pub created_by: String,
}

/// Writes the row and, for a file, its bytes in chunks of [`CHUNK`]; each chunk is bound from the
/// body as received, so no second copy of the whole file is made.
pub fn insert(conn: &mut DbConnection, row: &EvidenceRow, bytes: &[u8]) -> QueryResult<()> {
    diesel::insert_into(v::table).values(row).execute(conn)?;
    for (seq, chunk) in bytes.chunks(CHUNK).enumerate() {
        diesel::insert_into(c::table)
            .values((c::evidence_id.eq(&row.id), c::seq.eq(seq as i32), c::data.eq(chunk)))
            .execute(conn)?;
    }
    Ok(())
}

/// The event's evidence, oldest first.
pub fn list(conn: &mut DbConnection, event_id: &str) -> QueryResult<Vec<EvidenceRow>> {
    v::table.filter(v::event_id.eq(event_id)).select(EvidenceRow::as_select()).order(v::id.asc()).load(conn)
}

pub fn find(conn: &mut DbConnection, event_id: &str, id: &str) -> QueryResult<Option<EvidenceRow>> {
    v::table.filter(v::id.eq(id).and(v::event_id.eq(event_id))).select(EvidenceRow::as_select()).first(conn).optional()
}

/// Chunk `seq` of a file; `None` past its end (or once it is removed).
pub fn chunk(conn: &mut DbConnection, id: &str, seq: i32) -> QueryResult<Option<Vec<u8>>> {
    c::table.filter(c::evidence_id.eq(id).and(c::seq.eq(seq))).select(c::data).first(conn).optional()
}

pub fn delete(conn: &mut DbConnection, id: &str) -> QueryResult<bool> {
    diesel::delete(c::table.filter(c::evidence_id.eq(id))).execute(conn)?;
    Ok(diesel::delete(v::table.filter(v::id.eq(id))).execute(conn)? > 0)
}
