//! Webhook queries: subscriptions, the outbox and the delivery log.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};

use crate::store::DbConnection;
use crate::store::schema::{webhook_deliveries as wd, webhook_messages as wm, webhook_subscriptions as ws};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ws)]
pub struct SubscriptionRow {
    pub id: String,
    pub owner_id: String,
    pub url: String,
    pub event_types: String,
    pub description: String,
    pub active: bool,
    pub disabled_reason: Option<String>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<NaiveDateTime>,
    pub failing_since: Option<NaiveDateTime>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, row: &SubscriptionRow) -> QueryResult<SubscriptionRow> {
    diesel::insert_into(ws::table).values(row).returning(ws::all_columns).get_result(conn)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<SubscriptionRow>> {
    ws::table.find(id).select(SubscriptionRow::as_select()).first(conn).optional()
}

pub fn count_owned(conn: &mut DbConnection, owner_id: &str) -> QueryResult<i64> {
    ws::table.filter(ws::owner_id.eq(owner_id)).count().get_result(conn)
}

/// A page of subscriptions by id, of one owner or of all.
pub fn list(
    conn: &mut DbConnection,
    owner_id: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<SubscriptionRow>> {
    let mut q = ws::table.select(SubscriptionRow::as_select()).order(ws::id).limit(limit).into_boxed();
    if let Some(owner) = owner_id {
        q = q.filter(ws::owner_id.eq(owner));
    }
    if let Some(after) = after {
        q = q.filter(ws::id.gt(after));
    }
    q.load(conn)
}

/// What a change of a subscription sets.
pub struct Change<'a> {
    pub url: &'a str,
    pub event_types: &'a str,
    pub description: &'a str,
    pub active: bool,
    pub disabled_reason: Option<&'a str>,
    /// Switched on again: its record of failures is forgotten.
    pub reactivated: bool,
}

/// Changes the subscription as of `version`; `None` when another write came first. Turning it on
/// again forgets its failures.
pub fn update(conn: &mut DbConnection, id: &str, version: i64, c: &Change<'_>) -> QueryResult<Option<SubscriptionRow>> {
    let now = crate::store::now();
    let updated = diesel::update(ws::table.filter(ws::id.eq(id).and(ws::version.eq(version))))
        .set((
            ws::url.eq(c.url),
            ws::event_types.eq(c.event_types),
            ws::description.eq(c.description),
            ws::active.eq(c.active),
            ws::disabled_reason.eq(c.disabled_reason),
            ws::version.eq(version + 1),
            ws::updated_at.eq(now),
        ))
        .returning(ws::all_columns)
        .get_result::<SubscriptionRow>(conn)
        .optional()?;
    if updated.is_some() && c.reactivated {
        diesel::update(ws::table.find(id)).set(ws::failing_since.eq(None::<NaiveDateTime>)).execute(conn)?;
    }
    Ok(updated)
}

/// Replaces the secret; the old one keeps signing until `previous_until`.
pub fn set_secret(
    conn: &mut DbConnection,
    id: &str,
    version: i64,
    secret: &str,
    previous: &str,
    previous_until: NaiveDateTime,
) -> QueryResult<Option<SubscriptionRow>> {
    diesel::update(ws::table.filter(ws::id.eq(id).and(ws::version.eq(version))))
        .set((
            ws::secret.eq(secret),
            ws::previous_secret.eq(previous),
            ws::previous_secret_until.eq(previous_until),
            ws::version.eq(version + 1),
            ws::updated_at.eq(crate::store::now()),
        ))
        .returning(ws::all_columns)
        .get_result(conn)
        .optional()
}

pub fn delete(conn: &mut DbConnection, id: &str, version: i64) -> QueryResult<bool> {
    diesel::delete(wd::table.filter(wd::subscription_id.eq(id))).execute(conn)?;
    diesel::delete(wm::table.filter(wm::subscription_id.eq(id))).execute(conn)?;
    Ok(diesel::delete(ws::table.filter(ws::id.eq(id).and(ws::version.eq(version)))).execute(conn)? == 1)
}

/// Switches an active subscription off for `reason`; `None` when it was already off.
pub fn disable(conn: &mut DbConnection, id: &str, reason: &str) -> QueryResult<Option<SubscriptionRow>> {
    diesel::update(ws::table.filter(ws::id.eq(id).and(ws::active.eq(true))))
        .set((
            ws::active.eq(false),
            ws::disabled_reason.eq(reason),
            ws::version.eq(ws::version + 1),
            ws::updated_at.eq(crate::store::now()),
        ))
        .returning(ws::all_columns)
        .get_result(conn)
        .optional()
}

/// The active subscriptions of `owner_id`.
pub fn active_owned(conn: &mut DbConnection, owner_id: &str) -> QueryResult<Vec<String>> {
    ws::table.filter(ws::owner_id.eq(owner_id).and(ws::active.eq(true))).select(ws::id).load(conn)
}

/// Every active subscription: id, owner and type filter.
pub fn active(conn: &mut DbConnection) -> QueryResult<Vec<(String, String, String)>> {
    ws::table.filter(ws::active.eq(true)).select((ws::id, ws::owner_id, ws::event_types)).load(conn)
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = wm)]
pub struct NewMessage {
    pub id: String,
    pub subscription_id: String,
    pub event_type: String,
    pub subject: String,
    pub body: String,
    pub status: &'static str,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";

pub fn insert_messages(conn: &mut DbConnection, rows: &[NewMessage]) -> QueryResult<usize> {
    crate::insert_many!(conn, wm::table, rows)
}

/// A message taken for delivery.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    /// The claim that holds the message: only it may record how the attempt ended.
    #[diesel(sql_type = Text)]
    pub claim_token: String,
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Text)]
    pub subscription_id: String,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = Text)]
    pub body: String,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
}

/// Takes up to `limit` due messages for delivery until `lease_until`: pending, due, not leased by
/// another instance, of an active subscription, and the first still pending of their subscription
/// and record, so one subscription's messages about one record arrive in order. One statement; on
/// PostgreSQL rows another instance is taking at the same moment are skipped (`SKIP LOCKED`), so
/// each message goes to one instance.
pub fn claim(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Claimed>> {
    let token = crate::store::new_id();
    let (p, lock) = match conn {
        DbConnection::Postgres(_) => ("$", " FOR UPDATE OF m SKIP LOCKED"),
        DbConnection::Sqlite(_) => ("?", ""),
    };
    let sql = format!(
        "UPDATE webhook_messages SET locked_until = {p}1, claim_token = {p}4 WHERE seq IN ( \
           SELECT m.seq FROM webhook_messages m JOIN webhook_subscriptions s ON s.id = m.subscription_id \
           WHERE m.status = 'pending' AND m.next_attempt_at <= {p}2 \
             AND (m.locked_until IS NULL OR m.locked_until <= {p}2) AND s.active \
             AND NOT EXISTS (SELECT 1 FROM webhook_messages o WHERE o.subscription_id = m.subscription_id \
               AND o.subject = m.subject AND o.status = 'pending' AND o.seq < m.seq) \
           ORDER BY m.seq LIMIT {p}3{lock}) \
         RETURNING claim_token, seq, id, subscription_id, event_type, body, attempts"
    );
    let mut claimed: Vec<Claimed> = diesel::sql_query(sql)
        .bind::<Timestamp, _>(lease_until)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .bind::<Text, _>(&token)
        .load(conn)?;
    claimed.sort_by_key(|c| c.seq);
    Ok(claimed)
}

/// Gives a claimed message back unattempted, to be taken again at `next` (its subscription was
/// switched off meanwhile, or its secret does not decrypt).
pub fn release(conn: &mut DbConnection, claimed: &Claimed, next: NaiveDateTime) -> QueryResult<()> {
    diesel::update(wm::table.filter(wm::seq.eq(claimed.seq).and(wm::claim_token.eq(&claimed.claim_token))))
        .set((
            wm::locked_until.eq(None::<NaiveDateTime>),
            wm::claim_token.eq(None::<String>),
            wm::next_attempt_at.eq(next),
        ))
        .execute(conn)
        .map(drop)
}

/// Records an attempt's end: delivered, retried at `next`, or given up (`status` failed). Answers
/// false, and changes nothing, when the claim no longer holds the message: its lease ran out and
/// another attempt took it, whose end is the one to record.
pub fn finish(
    conn: &mut DbConnection,
    claimed: &Claimed,
    status: &str,
    attempts: i32,
    next: Option<NaiveDateTime>,
) -> QueryResult<bool> {
    let next = if status == PENDING { next } else { None };
    let held = wm::seq.eq(claimed.seq).and(wm::claim_token.eq(&claimed.claim_token));
    let changed = diesel::update(wm::table.filter(held))
        .set((
            wm::status.eq(status),
            wm::attempts.eq(attempts),
            wm::locked_until.eq(None::<NaiveDateTime>),
            wm::claim_token.eq(None::<String>),
            wm::next_attempt_at.eq(next.unwrap_or_else(crate::store::now)),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Notes a failure of the subscription; answers since when it has been failing.
pub fn failing(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<Option<NaiveDateTime>> {
    diesel::update(ws::table.filter(ws::id.eq(id).and(ws::failing_since.is_null())))
        .set(ws::failing_since.eq(now))
        .execute(conn)?;
    ws::table.find(id).select(ws::failing_since).first(conn).optional().map(Option::flatten)
}

/// Notes a success: the subscription is no longer failing.
pub fn succeeded(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::update(ws::table.filter(ws::id.eq(id).and(ws::failing_since.is_not_null())))
        .set(ws::failing_since.eq(None::<NaiveDateTime>))
        .execute(conn)
        .map(drop)
}

/// Queues again the messages of `subscription_id` created since `since` that gave up.
pub fn requeue_failed(conn: &mut DbConnection, subscription_id: &str, since: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        wm::table
            .filter(wm::subscription_id.eq(subscription_id).and(wm::status.eq(FAILED)).and(wm::created_at.ge(since))),
    )
    .set((wm::status.eq(PENDING), wm::attempts.eq(0), wm::next_attempt_at.eq(crate::store::now())))
    .execute(conn)
}

/// Forgets what is done: messages delivered before `delivered_before`, messages that gave up and
/// attempts logged before `kept_since`. Answers how many rows went.
pub fn prune(
    conn: &mut DbConnection,
    delivered_before: NaiveDateTime,
    kept_since: NaiveDateTime,
) -> QueryResult<usize> {
    let delivered = diesel::delete(wm::table.filter(wm::status.eq(DELIVERED).and(wm::created_at.lt(delivered_before))))
        .execute(conn)?;
    let failed =
        diesel::delete(wm::table.filter(wm::status.eq(FAILED).and(wm::created_at.lt(kept_since)))).execute(conn)?;
    let logged = diesel::delete(wd::table.filter(wd::at.lt(kept_since))).execute(conn)?;
    Ok(delivered + failed + logged)
}

/// Pending messages of active subscriptions, and the creation of the oldest.
pub fn queue(conn: &mut DbConnection) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    let active = ws::table.filter(ws::active.eq(true)).select(ws::id);
    let pending = wm::table.filter(wm::status.eq(PENDING).and(wm::subscription_id.eq_any(active)));
    let count = pending.count().get_result(conn)?;
    let oldest = pending.select(diesel::dsl::min(wm::created_at)).first(conn)?;
    Ok((count, oldest))
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = wd)]
pub struct DeliveryRow {
    pub id: String,
    pub subscription_id: String,
    pub message_id: String,
    pub event_type: String,
    pub attempt: i32,
    pub status: String,
    pub response_status: Option<i32>,
    pub duration_ms: i64,
    pub error: Option<String>,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub at: NaiveDateTime,
}

pub fn insert_delivery(conn: &mut DbConnection, row: &DeliveryRow) -> QueryResult<()> {
    diesel::insert_into(wd::table).values(row).execute(conn).map(drop)
}

/// A page of a subscription's attempts, newest first.
pub fn deliveries(
    conn: &mut DbConnection,
    subscription_id: &str,
    before: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    let mut q = wd::table
        .filter(wd::subscription_id.eq(subscription_id))
        .select(DeliveryRow::as_select())
        .order(wd::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        q = q.filter(wd::id.lt(before));
    }
    q.load(conn)
}
