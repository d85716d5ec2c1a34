//! `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header). A key is first leased in a short
//! transaction of its own (so a concurrent retry sees it and gets 409), and the response is
//! recorded in the write's own transaction (so a crash leaves neither the write nor the record).
//! A write that fails releases the lease; a lease left by a crash expires, and the retry then runs
//! the request again — safe, since the crashed attempt committed nothing.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use futures_util::future::{Ready, ready};
use serde::{Deserialize, Serialize};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::store::schema::idempotency_keys as ik;
use crate::store::{self, DbConnection};

pub const HEADER: &str = "idempotency-key";
/// How long a first response is kept for replay.
pub const RETENTION_HOURS: i64 = 24;
/// How long a running request holds its key before a retry may take it over.
const LEASE_SECONDS: i64 = 60;

/// The client's `Idempotency-Key`, if it sent one. Accepts the draft's structured-field string
/// (`"abc"`) and the bare token most clients send.
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_header(req))
    }
}

fn parse_header(req: &HttpRequest) -> Result<IdempotencyKey, ApiError> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(IdempotencyKey(None));
    };
    let text = value.to_str().map_err(|_| ApiError::bad_request("Idempotency-Key must be ASCII"))?;
    let text = text.trim();
    let key = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(ApiError::bad_request("Idempotency-Key must be 1 to 255 visible ASCII characters"));
    }
    Ok(IdempotencyKey(Some(key.to_string())))
}

/// A response as recorded for replay.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stored {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

pub enum Begin {
    Proceed,
    Replay(Stored),
}

#[derive(Queryable)]
struct Row {
    fingerprint: String,
    state: String,
    locked_until: NaiveDateTime,
    status: Option<i32>,
    headers: Option<String>,
    body: Option<String>,
    created_at: NaiveDateTime,
}

fn find(conn: &mut DbConnection, principal: &str, key: &str) -> QueryResult<Option<Row>> {
    ik::table
        .filter(ik::principal_id.eq(principal).and(ik::idem_key.eq(key)))
        .select((ik::fingerprint, ik::state, ik::locked_until, ik::status, ik::headers, ik::body, ik::created_at))
        .first(conn)
        .optional()
}

/// Leases the key for this request, or says to replay the first response, or refuses.
pub fn begin(
    conn: &mut DbConnection,
    principal: &str,
    key: &str,
    fingerprint: &Fingerprint,
) -> Result<Begin, ApiError> {
    // Two racing first attempts on PostgreSQL: the loser's insert fails on the primary key after
    // the winner commits; the second pass then sees the winner's lease.
    for _ in 0..2 {
        let result = store::write_tx(conn, |conn| -> Result<Begin, Lease> {
            let now = store::now();
            match find(conn, principal, key)? {
                Some(row) if row.created_at > now - Duration::hours(RETENTION_HOURS) => {
                    if !fingerprint.matches(&row.fingerprint) {
                        return Err(Lease::Refused(ApiError::field(
                            "Idempotency-Key",
                            "reused",
                            "this key was used for a different request",
                        )));
                    }
                    if row.state == "done" {
                        let headers = row.headers.as_deref().and_then(|h| serde_json::from_str(h).ok());
                        return Ok(Begin::Replay(Stored {
                            status: row.status.unwrap_or(200) as u16,
                            headers: headers.unwrap_or_default(),
                            body: row.body,
                        }));
                    }
                    if row.locked_until > now {
                        return Err(Lease::Refused(ApiError::conflict(
                            "a request with this Idempotency-Key is still being processed; retry later",
                        )));
                    }
                    diesel::update(ik::table.filter(ik::principal_id.eq(principal).and(ik::idem_key.eq(key))))
                        .set(ik::locked_until.eq(now + Duration::seconds(LEASE_SECONDS)))
                        .execute(conn)?;
                    Ok(Begin::Proceed)
                }
                existing => {
                    if existing.is_some() {
                        delete(conn, principal, key)?;
                    }
                    diesel::insert_into(ik::table)
                        .values((
                            ik::principal_id.eq(principal),
                            ik::idem_key.eq(key),
                            ik::fingerprint.eq(&fingerprint.keyed),
                            ik::state.eq("running"),
                            ik::locked_until.eq(now + Duration::seconds(LEASE_SECONDS)),
                            ik::created_at.eq(now),
                        ))
                        .execute(conn)?;
                    Ok(Begin::Proceed)
                }
            }
        });
        match result {
            Err(Lease::Raced) => continue,
            Err(Lease::Refused(e)) => return Err(e),
            Ok(begin) => return Ok(begin),
        }
    }
    Err(ApiError::conflict("a request with this Idempotency-Key is still being processed; retry later"))
}

/// Why a lease was not taken: another first attempt inserted the same key after this one looked
/// (its insert hit the primary key), which a second look resolves; or a refusal to answer.
enum Lease {
    Raced,
    Refused(ApiError),
}

impl From<diesel::result::Error> for Lease {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => Lease::Raced,
            other => Lease::Refused(other.into()),
        }
    }
}

fn delete(conn: &mut DbConnection, principal: &str, key: &str) -> QueryResult<usize> {
    diesel::delete(ik::table.filter(ik::principal_id.eq(principal).and(ik::idem_key.eq(key)))).execute(conn)
}

/// Records the response; called inside the write's transaction.
pub fn complete(conn: &mut DbConnection, principal: &str, key: &str, stored: &Stored) -> QueryResult<()> {
    let headers = serde_json::to_string(&stored.headers).unwrap_or_else(|_| "[]".into());
    diesel::update(ik::table.filter(ik::principal_id.eq(principal).and(ik::idem_key.eq(key))))
        .set((
            ik::state.eq("done"),
            ik::status.eq(stored.status as i32),
            ik::headers.eq(headers),
            ik::body.eq(&stored.body),
        ))
        .execute(conn)?;
    // Keys past their retention go while we hold the write lock anyway.
    let cutoff = store::now() - Duration::hours(RETENTION_HOURS);
    diesel::delete(ik::table.filter(ik::created_at.lt(cutoff))).execute(conn)?;
    Ok(())
}

/// Gives the key back after a failed write, so a retry runs the request again.
pub fn release(conn: &mut DbConnection, principal: &str, key: &str) {
    if let Err(e) = store::write_tx(conn, |conn| delete(conn, principal, key)) {
        tracing::warn!(error = %e, "could not release an idempotency key; its lease will expire");
    }
}

/// What identifies a retry: HMAC-SHA256, under the server's idempotency key, of the method, the
/// target and the body, so a dump of the store gives no fast hash of a body that held a password.
/// `legacy` is the plain SHA-256 stored before fingerprints were keyed; such rows are honoured
/// until they expire (24 hours), and then it can go.
pub struct Fingerprint {
    pub keyed: String,
    pub legacy: String,
}

/// Marks a keyed fingerprint, so a legacy one is never compared with it.
pub const KEYED_PREFIX: &str = "h1:";

impl Fingerprint {
    pub fn of(key: &[u8], method: &str, target: &str, body: &[u8]) -> Self {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
        let mut hasher = Sha256::new();
        for part in [method.as_bytes(), b"\n", target.as_bytes(), b"\n", body] {
            mac.update(part);
            hasher.update(part);
        }
        Fingerprint {
            keyed: format!("{KEYED_PREFIX}{}", hex::encode(mac.finalize().into_bytes())),
            legacy: hex::encode(hasher.finalize()),
        }
    }

    /// Whether a stored fingerprint is this request's.
    pub fn matches(&self, stored: &str) -> bool {
        stored == self.keyed || (!stored.starts_with(KEYED_PREFIX) && stored == self.legacy)
    }
}
