//! Reports' statements kept planned on PostgreSQL. A report is one long statement built with its
//! values as literals (instants, department ids: see `reports::store`); planning it is a third of
//! what a small registry's summary costs the server (parse 0.9 ms and plan 2.4 ms against 3.8 ms of
//! execution at 500 events). Each session keeps the last few such statements prepared under a
//! name made from their text, and runs them again by name. With no parameters PostgreSQL always
//! uses the plan it made for the literals — the plan the statement would get run alone — and plans
//! it again when the tables' statistics or definitions change.
//!
//! The session's own catalog says what it holds: nothing is remembered in the process, so a
//! connection the pool replaces, or a session whose statements were dropped, simply prepares
//! again. SQLite runs the statement as it is: planning there is a fraction of a millisecond.

use std::hash::{DefaultHasher, Hash, Hasher};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::query_dsl::methods::LoadQuery;
use diesel::sql_types::{Bool, Text};

use super::DbConnection;

/// How many report statements a session keeps: a summary's plan holds about 0.5 MB of the
/// server's memory, so a pool of 8 keeps at most about 32 MB however many periods are asked for.
pub const KEPT_A_SESSION: usize = 8;

/// The prefix of the names, so the bookkeeping never touches diesel's own prepared statements.
const PREFIX: &str = "adal_report_";

#[derive(QueryableByName)]
struct Held {
    #[diesel(sql_type = Text)]
    name: String,
    /// Whether it was prepared from exactly this text (the name is a 64-bit hash of it).
    #[diesel(sql_type = Bool)]
    same: bool,
}

/// Loads the rows of `sql`, a statement without parameters, prepared on PostgreSQL (see the
/// module's notes) and run as it is on SQLite.
pub fn load<U>(conn: &mut DbConnection, sql: &str) -> QueryResult<Vec<U>>
where
    diesel::query_builder::SqlQuery: LoadQuery<'static, DbConnection, U>,
{
    if matches!(conn, DbConnection::Sqlite(_)) {
        return diesel::sql_query(sql).load(conn);
    }
    let name = name_of(sql);
    let prepare = format!("PREPARE {name} AS {sql}");
    let held: Vec<Held> = diesel::sql_query(
        "SELECT name, statement = $1 AS same FROM pg_prepared_statements \
         WHERE starts_with(name, $2) ORDER BY prepare_time DESC",
    )
    .bind::<Text, _>(&prepare)
    .bind::<Text, _>(PREFIX)
    .load(conn)?;
    if !held.iter().any(|h| h.name == name && h.same) {
        // Room for this one: the oldest go first. A statement under this name but another text
        // (its hash collided) goes too.
        let (taken, others): (Vec<&Held>, Vec<&Held>) = held.iter().partition(|h| h.name == name);
        let stale = taken.into_iter().chain(others.into_iter().skip(KEPT_A_SESSION - 1));
        let dropped: String = stale.map(|h| format!("DEALLOCATE {};", h.name)).collect();
        if !dropped.is_empty() {
            conn.batch_execute(&dropped)?;
        }
        // Alone: the catalog keeps the whole text the client sent as the statement's.
        conn.batch_execute(&prepare)?;
    }
    diesel::sql_query(format!("EXECUTE {name}")).load(conn)
}

/// The statement's name: the prefix and a hash of its text (names are identifiers of at most 63
/// bytes, the text is kilobytes).
fn name_of(sql: &str) -> String {
    let mut h = DefaultHasher::new();
    sql.hash(&mut h);
    format!("{PREFIX}{:016x}", h.finish())
}
