//! The token endpoint (password, client credentials and refresh grants, answering errors in the
//! OAuth 2.0 form of RFC 6749 §5.2), revocation (RFC 7009), password change, `me` and the JWKS.

use std::net::IpAddr;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::{Data, Payload};
use actix_web::{HttpRequest, HttpResponse, ResponseError, get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::Duration;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::store::{self as auth_store, RefreshRow};
use super::{Principal, PrincipalKind, Role, Scope, ScopeSet, password};
use crate::accounts::model::username_key;
use crate::audit::{self, Actor, ActorKind};
use crate::error::{ApiError, Problem};
use crate::http::body::{self, JsonBody, media_type};
use crate::http::request_ctx;
use crate::state::AppState;
use crate::store::{self, DbConnection};
use crate::text::{self, Allowed};
use crate::write::{self, Change};

/// How long after a refresh token was spent a retry of it still gets the same new pair.
const REFRESH_GRACE_SECONDS: i64 = 60;

/// A token request, as JSON or form fields.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"grant_type": "password", "username": "aigerim.s", "password": "Жастар-2024-қала"}))]
pub struct TokenRequest {
    /// `password`, `client_credentials` or `refresh_token`.
    pub grant_type: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub refresh_token: Option<String>,
    /// For client credentials: a space-separated subset of the client's scopes.
    pub scope: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Absent for client credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
}

/// An RFC 6749 §5.2 error.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthErrorBody {
    #[schema(example = "invalid_grant")]
    pub error: String,
    pub error_description: String,
}

#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    retry_after: Option<u64>,
    basic_challenge: bool,
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.description)
    }
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError { status, error, description: description.into(), retry_after: None, basic_challenge: false }
    }
    fn request(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", d)
    }
    fn grant(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", d)
    }
    fn client(basic: bool) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed");
        e.basic_challenge = basic;
        e
    }
}

impl From<ApiError> for OAuthError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::TooManyRequests { retry_after, detail } => {
                let mut o = OAuthError::new(StatusCode::TOO_MANY_REQUESTS, "slow_down", detail);
                o.retry_after = Some(retry_after);
                o
            }
            ApiError::Unavailable(_) => {
                let mut o = OAuthError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "the store is unavailable; retry later",
                );
                o.retry_after = Some(ApiError::RETRY_AFTER_UNAVAILABLE);
                o
            }
            ApiError::BadRequest(d) => OAuthError::request(d),
            ApiError::Validation(errors) => OAuthError::request(
                errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "),
            ),
            ApiError::PayloadTooLarge(_) => {
                OAuthError::new(StatusCode::PAYLOAD_TOO_LARGE, "invalid_request", e.to_string())
            }
            ApiError::UnsupportedMediaType(d) => {
                OAuthError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_request", d)
            }
            other => {
                // Render (and so log) it as the API would, then answer in OAuth's words.
                let _ = other.error_response();
                OAuthError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "the request failed")
            }
        }
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        self.status
    }
    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(s) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, s.to_string()));
        }
        if self.basic_challenge {
            res.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"adal\""));
        }
        res.json(OAuthErrorBody { error: self.error.to_string(), error_description: self.description.clone() })
    }
}

/// The client's address: the peer, or the `X-Forwarded-For` entry that a trusted proxy added.
pub fn client_address(req: &HttpRequest, trusted: &[ipnet::IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !trusted.iter().any(|n| n.contains(&peer)) {
        return Some(peer);
    }
    let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()).unwrap_or("");
    // Walk from the right: each trusted proxy appended the address it received from.
    let mut address = peer;
    for entry in forwarded.rsplit(',').map(str::trim) {
        match entry.parse::<IpAddr>() {
            Ok(ip) => {
                address = ip;
                if !trusted.iter().any(|n| n.contains(&ip)) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    Some(address)
}

/// What a failed login records of the username it was given: the first 64 bits of an HMAC, keyed
/// with the server's rotation key, of the name as usernames compare (trimmed and folded); never the
/// text. People type passwords into username fields, and a plain hash of one could be looked up in
/// a wordlist by anyone who reads the log; the digest still shows repeated attempts at one name.
fn attempted_digest(state: &AppState, username: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(state.rotation_key.expose()).expect("any key length");
    mac.update(b"failed-login-username\0");
    mac.update(crate::accounts::model::username_key(username).as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..8])
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Compares two hex digests in constant time.
fn digest_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

pub fn hash_client_secret(secret: &str) -> String {
    sha256_hex(secret.as_bytes())
}

pub fn verify_client_secret(secret: &str, hash: &str) -> bool {
    digest_eq(&hash_client_secret(secret), hash)
}

/// A new random secret of 256 bits, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The refresh token that rotation derives from `parent`: deterministic, so a retry of a lost
/// answer can be given the same new token without the store ever keeping tokens in clear.
fn derive_refresh(state: &AppState, parent: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(state.rotation_key.expose()).expect("any key length");
    mac.update(parent.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// A client's id and secret from HTTP Basic credentials, as RFC 6749 §2.3.1 sends them.
///
/// Ours rather than a crate's: `actix-web-httpauth`'s `Basic` (0.8) and `http-auth-basic` stop
/// at RFC 7617 (base64, then split at the first `:`), and OAuth 2.0 adds that both parts are
/// form-urlencoded first, so a secret holding `:`, `%` or `+` arrives right only after the unescape
/// below. A crate would replace the three lines of base64 and split and leave the rest; the
/// extractor's failure answer would also not be the OAuth error this endpoint owes.
fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    // RFC 6749 §2.3.1: both are form-urlencoded before Base64.
    let unescape = |s: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
            .ok()
            .and_then(|v| v.into_iter().next())
            .map(|(_, v)| v)
            .unwrap_or_else(|| s.to_string())
    };
    Some((unescape(id), unescape(secret)))
}

async fn read_token_request(req: &HttpRequest, payload: Payload) -> Result<TokenRequest, OAuthError> {
    let mut payload = payload.into_inner();
    let raw = body::read_limited(req, &mut payload).await?;
    match media_type(req).as_deref() {
        Some("application/x-www-form-urlencoded") => {
            serde_urlencoded::from_bytes(&raw).map_err(|e| OAuthError::request(format!("the form does not parse: {e}")))
        }
        Some("application/json") => Ok(body::parse_json(&raw)?),
        _ => {
            Err(ApiError::UnsupportedMediaType("use application/x-www-form-urlencoded or application/json".into())
                .into())
        }
    }
}

fn token_answer(res: TokenResponse) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(res)
}

/// Appends an audit entry in a write transaction of its own (for events with no other change).
fn audit_alone(
    conn: &mut DbConnection,
    actor: &Actor,
    action: &'static str,
    entity: &'static str,
    id: Option<&str>,
    details: serde_json::Value,
) -> Result<(), ApiError> {
    let request_id = request_ctx::request_id();
    write::transaction(conn, actor, &request_id, |tx| tx.audit(action, entity, id, details))
}

fn account_actor(a: &auth_store::LoginAccount) -> Actor {
    Actor { id: Some(a.id.clone()), kind: ActorKind::Account, department_id: Some(a.department_id.clone()) }
}

/// Issue a token
///
/// OAuth 2.0 token endpoint. Grants: `password`, `client_credentials` (client id and secret in the
/// body or as HTTP Basic credentials) and `refresh_token` (single-use, rotated; a retry within 60
/// seconds of a lost answer gets the same new pair). Errors follow RFC 6749 §5.2. Repeated failed
/// logins are slowed with 429 and `Retry-After`. `Idempotency-Key` is ignored here: a token answer
/// is never stored for replay.
#[utoipa::path(
    tag = "auth",
    request_body(content(
        (TokenRequest = "application/json"),
        (TokenRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Tokens issued", body = TokenResponse),
        (status = 400, description = "invalid_request, invalid_grant, invalid_scope or unsupported_grant_type", body = OAuthErrorBody),
        (status = 401, description = "invalid_client", body = OAuthErrorBody),
        (status = 413, description = "Body too large", body = OAuthErrorBody),
        (status = 415, description = "Neither JSON nor a form", body = OAuthErrorBody),
        (status = 429, description = "Too many failed attempts; see Retry-After", body = OAuthErrorBody),
        (status = 503, description = "Store unavailable", body = OAuthErrorBody),
    ),
    security(()),
)]
#[post("/token")]
pub async fn token(req: HttpRequest, state: Data<AppState>, payload: Payload) -> Result<HttpResponse, OAuthError> {
    let mut form = read_token_request(&req, payload).await?;
    let basic = basic_credentials(&req);
    let address = client_address(&req, &state.config.trusted_proxies);
    let used_basic = basic.is_some() && form.grant_type.as_deref() == Some("client_credentials");
    if used_basic && let Some((id, secret)) = basic {
        form.client_id = Some(id);
        form.client_secret = Some(secret);
    }
    // A username is trimmed before any other check (it is then folded), so `\tadmin` is `admin`.
    form.username = form.username.map(|u| u.trim().to_string());
    check_token_fields(&form)?;
    match form.grant_type.as_deref() {
        Some("password") => password_grant(&state, form, address).await,
        Some("client_credentials") => client_grant(&state, form, address, used_basic).await,
        Some("refresh_token") => refresh_grant(&state, form).await,
        Some(other) => Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("grant_type {other:?} is not supported"),
        )),
        None => Err(OAuthError::request("grant_type is required")),
    }
}

/// The longest value the token endpoint takes in any field: nothing a person or a client sends
/// there is longer, and nothing from an anonymous request reaches the audit log or the logs past it.
const TOKEN_FIELD_MAX: usize = 256;

/// Refuses a token request whose fields are too long or carry refused characters (a password or
/// secret only NUL), before anything is looked up, counted or recorded.
fn check_token_fields(form: &TokenRequest) -> Result<(), OAuthError> {
    let fields = [
        ("grant_type", &form.grant_type, Allowed::Line),
        ("username", &form.username, Allowed::Line),
        ("password", &form.password, Allowed::Secret),
        ("client_id", &form.client_id, Allowed::Line),
        ("client_secret", &form.client_secret, Allowed::Secret),
        ("refresh_token", &form.refresh_token, Allowed::Line),
        ("scope", &form.scope, Allowed::Line),
    ];
    for (name, value, allowed) in fields {
        let Some(value) = value else { continue };
        if value.chars().count() > TOKEN_FIELD_MAX {
            return Err(OAuthError::request(format!("{name} is longer than {TOKEN_FIELD_MAX} characters")));
        }
        if text::has_forbidden(value, allowed) {
            return Err(OAuthError::request(format!("{name} {}", text::forbidden_message(allowed))));
        }
    }
    Ok(())
}

fn too_many(wait: u64, detail: &'static str) -> OAuthError {
    ApiError::TooManyRequests { retry_after: wait, detail: detail.into() }.into()
}

async fn password_grant(
    state: &Data<AppState>,
    form: TokenRequest,
    address: Option<IpAddr>,
) -> Result<HttpResponse, OAuthError> {
    // The name as usernames compare (trimmed and folded), before anything else: the throttle, the
    // lookup and the log all see one form, so `admin ` is throttled with `admin`.
    let username = form
        .username
        .map(|u| username_key(&u))
        .filter(|u| !u.is_empty())
        .ok_or_else(|| OAuthError::request("username is required"))?;
    let password = form.password.ok_or_else(|| OAuthError::request("password is required"))?;
    let attempt = state
        .throttle
        .attempt(&username, address)
        .map_err(|wait| too_many(wait, "too many failed logins; wait and retry"))?;
    // The password is checked between two uses of the store, holding no pooled connection: an
    // Argon2 check takes tens of milliseconds and waits its turn (one per core), and a burst of
    // logins must not leave reads waiting for connections.
    let name = username.clone();
    let checked = state.store.run(move |conn| Ok(auth_store::account_by_username(conn, &name)?)).await?;
    // An unknown username costs the same hash as a known one, so timing tells nothing.
    let checked_hash = checked.map(|a| a.password_hash).unwrap_or_else(|| state.dummy_hash.clone());
    let matches = password::verify_off_worker(password, checked_hash.clone()).await?;
    let st = state.clone();
    let name = username.clone();
    let result = state
        .store
        .run(move |conn| {
            let request_id = request_ctx::request_id();
            // One write transaction: the account is read again under the write lock, so a password
            // change or a deactivation that commits after the check above refuses this login.
            write::transaction(conn, &Actor::anonymous(), &request_id, |tx| {
                let account = auth_store::account_by_username(tx.conn(), &name)?;
                let matches = matches && account.as_ref().is_some_and(|a| a.password_hash == checked_hash);
                match account {
                    Some(a) if matches && a.active => {
                        let issued = issue_for_account(tx.conn(), &st, &a, None)?;
                        tx.record_by(
                            &account_actor(&a),
                            Change::new("auth.login", "account", Some(&a.id)),
                            audit::details(json!({"grant_type": "password"})),
                        )?;
                        Ok(Ok(issued))
                    }
                    other => {
                        let reason = match &other {
                            None => "unknown_username",
                            Some(a) if !a.active => "deactivated",
                            Some(_) => "wrong_password",
                        };
                        let actor = other.as_ref().map(account_actor).unwrap_or_else(Actor::anonymous);
                        let details = match &other {
                            Some(a) => json!({"username": a.username, "reason": reason}),
                            None => json!({"username_digest": attempted_digest(&st, &name), "reason": reason}),
                        };
                        tx.record_by(
                            &actor,
                            Change::new("auth.login_failed", "account", other.as_ref().map(|a| a.id.as_str())),
                            details,
                        )?;
                        Ok::<_, ApiError>(Err(reason))
                    }
                }
            })
        })
        .await?;
    match result {
        Ok(tokens) => {
            attempt.succeeded();
            tracing::info!(username = %username, "login succeeded");
            Ok(token_answer(tokens))
        }
        Err(reason) => {
            attempt.failed();
            tracing::warn!(username_digest = %attempted_digest(state, &username), reason, "login failed");
            Err(OAuthError::grant("the username or password is wrong"))
        }
    }
}

/// Creates a refresh token (a new family, or the next of `parent`) and the access token issued
/// with it. Runs inside a write transaction.
fn issue_for_account(
    conn: &mut DbConnection,
    state: &AppState,
    account: &auth_store::LoginAccount,
    parent: Option<(&RefreshRow, &str)>,
) -> Result<TokenResponse, ApiError> {
    let scope = account.role.scopes().to_string();
    let now = store::now();
    let refresh = match parent {
        Some((_, parent_token)) => derive_refresh(state, parent_token),
        None => random_token(),
    };
    let row = RefreshRow {
        id: store::new_id(),
        token_hash: sha256_hex(refresh.as_bytes()),
        family_id: parent.map(|(p, _)| p.family_id.clone()).unwrap_or_else(store::new_id),
        account_id: account.id.clone(),
        scope: scope.clone(),
        access_jti: store::new_id(),
        issued_at: now,
        expires_at: now + Duration::from_std(state.config.refresh_token_ttl).unwrap_or(Duration::days(30)),
        used_at: None,
        replaced_by: None,
        revoked_at: None,
    };
    auth_store::insert_refresh(conn, &row)?;
    if let Some((p, _)) = parent {
        auth_store::mark_used(conn, &p.id, now, &row.id)?;
    }
    answer_for(state, account, &row, refresh)
}

/// The token answer for a refresh row: its access token re-signed from the row's stored claims,
/// so the same row always answers the same pair.
fn answer_for(
    state: &AppState,
    account: &auth_store::LoginAccount,
    row: &RefreshRow,
    refresh: String,
) -> Result<TokenResponse, ApiError> {
    let iat = row.issued_at.and_utc().timestamp();
    let (access_token, expires_in) =
        state.tokens.issue(&account.id, &account.department_id, &row.scope, iat, &row.access_jti)?;
    let remaining = iat + expires_in - chrono::Utc::now().timestamp();
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: remaining.max(0),
        refresh_token: Some(refresh),
        scope: row.scope.clone(),
    })
}

async fn client_grant(
    state: &Data<AppState>,
    form: TokenRequest,
    address: Option<IpAddr>,
    basic: bool,
) -> Result<HttpResponse, OAuthError> {
    let client_id =
        form.client_id.filter(|c| !c.is_empty()).ok_or_else(|| OAuthError::request("client_id is required"))?;
    let secret = form.client_secret.ok_or_else(|| OAuthError::request("client_secret is required"))?;
    let requested = match form.scope.as_deref().filter(|s| !s.trim().is_empty()) {
        None => None,
        Some(s) => Some(ScopeSet::parse(s).map_err(|bad| {
            OAuthError::new(StatusCode::BAD_REQUEST, "invalid_scope", format!("unknown scope {bad:?}"))
        })?),
    };
    let throttle_key = format!("client:{client_id}");
    let attempt = state
        .throttle
        .attempt(&throttle_key, address)
        .map_err(|wait| too_many(wait, "too many failed attempts; wait and retry"))?;
    let st = state.clone();
    let cid = client_id.clone();
    let result = state
        .store
        .run(move |conn| {
            let client = auth_store::client_by_client_id(conn, &cid)?;
            match client {
                Some(c) if c.active && verify_client_secret(&secret, &c.secret_hash) => {
                    let granted = ScopeSet::parse(&c.scopes).unwrap_or_default();
                    let scope = match requested {
                        Some(r) if !r.is_subset(granted) => return Ok(Err("invalid_scope")),
                        Some(r) => r,
                        None => granted,
                    };
                    let actor = Actor {
                        id: Some(c.id.clone()),
                        kind: ActorKind::Client,
                        department_id: Some(c.department_id.clone()),
                    };
                    audit_alone(
                        conn,
                        &actor,
                        "auth.login",
                        "client",
                        Some(&c.id),
                        json!({"grant_type": "client_credentials"}),
                    )?;
                    let iat = chrono::Utc::now().timestamp();
                    let (access_token, expires_in) =
                        st.tokens.issue(&c.id, &c.department_id, &scope.to_string(), iat, &store::new_id())?;
                    Ok(Ok(TokenResponse {
                        access_token,
                        token_type: "Bearer",
                        expires_in,
                        refresh_token: None,
                        scope: scope.to_string(),
                    }))
                }
                other => {
                    let reason = match &other {
                        None => "unknown_client",
                        Some(c) if !c.active => "deactivated",
                        Some(_) => "wrong_secret",
                    };
                    let actor = other
                        .as_ref()
                        .map(|c| Actor {
                            id: Some(c.id.clone()),
                            kind: ActorKind::Client,
                            department_id: Some(c.department_id.clone()),
                        })
                        .unwrap_or_else(Actor::anonymous);
                    audit_alone(
                        conn,
                        &actor,
                        "auth.login_failed",
                        "client",
                        other.as_ref().map(|c| c.id.as_str()),
                        json!({"client_id": cid, "reason": reason}),
                    )?;
                    Ok(Err("invalid_client"))
                }
            }
        })
        .await?;
    match result {
        Ok(tokens) => {
            attempt.succeeded();
            Ok(token_answer(tokens))
        }
        Err("invalid_scope") => {
            // The secret was right: not a guess.
            attempt.succeeded();
            Err(OAuthError::new(StatusCode::BAD_REQUEST, "invalid_scope", "the client was not granted that scope"))
        }
        Err(_) => {
            attempt.failed();
            tracing::warn!(client_id = %client_id, "client authentication failed");
            Err(OAuthError::client(basic))
        }
    }
}

enum RefreshOutcome {
    Issued(TokenResponse),
    Refused(&'static str),
    Reused { account_id: String },
}

async fn refresh_grant(state: &Data<AppState>, form: TokenRequest) -> Result<HttpResponse, OAuthError> {
    let presented =
        form.refresh_token.filter(|t| !t.is_empty()).ok_or_else(|| OAuthError::request("refresh_token is required"))?;
    let st = state.clone();
    let outcome = state
        .store
        .run(move |conn| {
            let request_id = request_ctx::request_id();
            write::transaction(conn, &Actor::anonymous(), &request_id, |tx| {
                // Only a reuse is audited: a rotation is bookkeeping of the audited login, and a
                // refusal changes nothing.
                tx.without_entry("a refresh token's rotation or refusal");
                let conn = tx.conn();
                let now = store::now();
                let Some(row) = auth_store::refresh_by_hash(conn, &sha256_hex(presented.as_bytes()))? else {
                    return Ok(RefreshOutcome::Refused("the refresh token is unknown"));
                };
                if row.revoked_at.is_some() {
                    return Ok(RefreshOutcome::Refused("the refresh token was revoked"));
                }
                if row.expires_at <= now {
                    return Ok(RefreshOutcome::Refused("the refresh token has expired"));
                }
                let Some(account) = auth_store::account_by_id(conn, &row.account_id)?.filter(|a| a.active) else {
                    return Ok(RefreshOutcome::Refused("the account is deactivated"));
                };
                match row.used_at {
                    None => {
                        Ok(RefreshOutcome::Issued(issue_for_account(conn, &st, &account, Some((&row, &presented)))?))
                    }
                    Some(used) => {
                        let child = match &row.replaced_by {
                            Some(id) => auth_store::refresh_by_id(conn, id)?,
                            None => None,
                        };
                        let in_grace = now - used <= Duration::seconds(REFRESH_GRACE_SECONDS);
                        match child {
                            Some(child) if in_grace && child.used_at.is_none() && child.revoked_at.is_none() => {
                                // The answer to the first use was lost: give the same pair again.
                                let refresh = derive_refresh(&st, &presented);
                                Ok(RefreshOutcome::Issued(answer_for(&st, &account, &child, refresh)?))
                            }
                            _ => {
                                auth_store::revoke_family(conn, &row.family_id, now)?;
                                tx.record_by(
                                    &account_actor(&account),
                                    Change::new("auth.refresh_reuse", "account", Some(&account.id)),
                                    json!({"family_id": row.family_id}),
                                )?;
                                Ok(RefreshOutcome::Reused { account_id: account.id.clone() })
                            }
                        }
                    }
                }
            })
        })
        .await?;
    match outcome {
        RefreshOutcome::Issued(tokens) => Ok(token_answer(tokens)),
        RefreshOutcome::Refused(why) => Err(OAuthError::grant(why)),
        RefreshOutcome::Reused { account_id } => {
            tracing::warn!(account_id = %account_id, security = true, "a spent refresh token was reused; its family is revoked");
            Err(OAuthError::grant("the refresh token was already used"))
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RevokeRequest {
    /// The refresh token to end. Optional in the type only so its absence is answered as RFC 7009
    /// says (400 `invalid_request`) rather than as a body that does not parse.
    #[schema(required = true, value_type = String, min_length = 1)]
    pub token: Option<String>,
    pub token_type_hint: Option<String>,
}

/// Revoke a refresh token
///
/// RFC 7009: ends the refresh token and every token rotated from the same login. Answers 200
/// whether or not the token was known.
#[utoipa::path(
    tag = "auth",
    request_body(content(
        (RevokeRequest = "application/json"),
        (RevokeRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Revoked, or was not a live token"),
        (status = 400, description = "No token given", body = OAuthErrorBody),
        (status = 413, description = "Body too large", body = OAuthErrorBody),
        (status = 415, description = "Neither a form nor JSON", body = OAuthErrorBody),
        (status = 503, description = "Store unavailable", body = OAuthErrorBody),
    ),
    security(()),
)]
#[post("/revoke")]
pub async fn revoke(req: HttpRequest, state: Data<AppState>, payload: Payload) -> Result<HttpResponse, OAuthError> {
    let mut payload = payload.into_inner();
    let raw = body::read_limited(&req, &mut payload).await?;
    let form: RevokeRequest = match media_type(&req).as_deref() {
        Some("application/x-www-form-urlencoded") => serde_urlencoded::from_bytes(&raw)
            .map_err(|e| OAuthError::request(format!("the form does not parse: {e}")))?,
        Some("application/json") => body::parse_json(&raw)?,
        _ => {
            return Err(ApiError::UnsupportedMediaType(
                "use application/x-www-form-urlencoded or application/json".into(),
            )
            .into());
        }
    };
    let presented = form.token.filter(|t| !t.is_empty()).ok_or_else(|| OAuthError::request("token is required"))?;
    let cleared = state
        .store
        .run(move |conn| {
            let request_id = request_ctx::request_id();
            write::transaction(conn, &Actor::anonymous(), &request_id, |tx| {
                let Some(row) = auth_store::refresh_by_hash(tx.conn(), &sha256_hex(presented.as_bytes()))? else {
                    tx.without_entry("an unknown token: nothing changed");
                    return Ok(None);
                };
                if row.revoked_at.is_some() {
                    tx.without_entry("an ended token: nothing changed");
                    return Ok(None);
                }
                auth_store::revoke_family(tx.conn(), &row.family_id, store::now())?;
                let actor = auth_store::account_by_id(tx.conn(), &row.account_id)?
                    .map(|a| account_actor(&a))
                    .unwrap_or_else(Actor::anonymous);
                tx.record_by(
                    &actor,
                    Change::new("auth.revoke", "account", Some(&row.account_id)),
                    json!({"family_id": row.family_id}),
                )?;
                Ok::<_, ApiError>(Some(row.account_id))
            })
        })
        .await?;
    if let Some(account) = cleared {
        tracing::info!(account_id = %account, "refresh token revoked");
    }
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "Жастар-2024-қала", "new_password": "Адалдық-2025-жаңа"}))]
pub struct PasswordChange {
    pub current_password: String,
    /// 12–256 characters.
    pub new_password: String,
}

/// Change my password
///
/// Changes the calling account's own password and ends its refresh tokens (its other sessions).
/// Attempts with a wrong current password count as failed logins.
#[utoipa::path(
    tag = "auth",
    request_body(content = PasswordChange, content_type = "application/json"),
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Clients have no password", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong current password or a new one of the wrong length", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong passwords", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/password")]
pub async fn change_password(
    req: HttpRequest,
    state: Data<AppState>,
    principal: Principal,
    body: JsonBody<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    if principal.kind != PrincipalKind::Account {
        return Err(ApiError::forbidden("only accounts have passwords"));
    }
    let address = client_address(&req, &state.config.trusted_proxies);
    let change = body.value;
    password::check_length("new_password", &change.new_password).map_err(|e| ApiError::Validation(vec![e]))?;
    // The same key as the login's, so guesses here and there add up.
    let throttle_key = username_key(&principal.name);
    let attempt = state.throttle.attempt(&throttle_key, address).map_err(|wait| ApiError::TooManyRequests {
        retry_after: wait,
        detail: "too many wrong passwords; wait and retry".into(),
    })?;
    let actor = principal.actor();
    // As at login, the Argon2 work (a check and a new hash) runs while no pooled connection is
    // held; the write then changes the password only if it is still the one checked.
    let id = principal.id.clone();
    let checked_hash = state
        .store
        .run(move |conn| auth_store::account_by_id(conn, &id)?.ok_or(ApiError::NotFound))
        .await?
        .password_hash;
    let mismatch = || ApiError::field("current_password", "mismatch", "is not the current password");
    if !password::verify_off_worker(change.current_password, checked_hash.clone()).await? {
        attempt.failed();
        return Err(mismatch());
    }
    let new_hash = password::hash_off_worker(change.new_password).await?;
    let id = principal.id.clone();
    let changed = state
        .store
        .run(move |conn| {
            let request_id = request_ctx::request_id();
            write::transaction(conn, &actor, &request_id, |tx| {
                let account = auth_store::account_by_id(tx.conn(), &id)?.ok_or(ApiError::NotFound)?;
                if account.password_hash != checked_hash {
                    tx.without_entry("the password changed meanwhile: nothing changed");
                    return Ok(false);
                }
                crate::accounts::store::set_password(tx.conn(), &id, &new_hash)?;
                auth_store::revoke_account(tx.conn(), &id, store::now())?;
                tx.audit(
                    "account.password_change",
                    "account",
                    Some(&id),
                    json!({"password": {"from": "[redacted]", "to": "[redacted]"}}),
                )?;
                Ok(true)
            })
        })
        .await?;
    if !changed {
        // Another change of this password committed first: the one given is no longer current,
        // but it was no guess (the attempt is dropped unsettled, which takes its count back).
        return Err(mismatch());
    }
    attempt.succeeded();
    state.principals.invalidate(&principal.id);
    Ok(HttpResponse::NoContent().finish())
}

/// The caller, as `GET /auth/me` answers.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"kind": "account", "id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6e", "username": "aigerim.s",
    "department_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6f", "role": "organiser",
    "scopes": ["events:read", "events:write", "attendees:read", "attendees:write", "reports:read"]}))]
pub struct Me {
    pub kind: PrincipalKind,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub department_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    pub scopes: Vec<Scope>,
}

/// Who am I
///
/// The authenticated caller: account or client, its department, role and effective scopes.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "The caller", body = Me),
    ),
    security(("bearer" = [])),
)]
#[get("/me")]
pub async fn me(principal: Principal) -> Result<HttpResponse, ApiError> {
    let account = principal.kind == PrincipalKind::Account;
    Ok(HttpResponse::Ok().json(Me {
        kind: principal.kind,
        id: principal.id.clone(),
        username: account.then(|| principal.name.clone()),
        client_id: (!account).then(|| principal.name.clone()),
        department_id: principal.department_id.clone(),
        role: principal.role,
        scopes: principal.scopes.to_vec(),
    }))
}

/// Public signing keys
///
/// The JWK set of the Ed25519 keys that sign access tokens, for other city systems to verify
/// them. Empty when tokens are signed with HS256.
#[utoipa::path(
    tag = "auth",
    responses((status = 200, description = "JWK set", body = Object, example = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "2024-01", "use": "sig", "alg": "EdDSA"}]}))),
    security(()),
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "public, max-age=300")).json(state.tokens.jwks())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_basic(user_pass: &str) -> HttpRequest {
        actix_web::test::TestRequest::default()
            .insert_header((header::AUTHORIZATION, format!("Basic {}", STANDARD.encode(user_pass))))
            .to_http_request()
    }

    #[test]
    fn basic_credentials_are_form_urldecoded_as_rfc_6749_sends_them() {
        // An OAuth library encodes "a:b c%" as "a%3Ab+c%25" before Base64.
        assert_eq!(
            basic_credentials(&with_basic("my%2Eclient:a%3Ab+c%25")),
            Some(("my.client".to_string(), "a:b c%".to_string()))
        );
        assert_eq!(basic_credentials(&with_basic("plain:secret")), Some(("plain".into(), "secret".into())));
        assert_eq!(basic_credentials(&with_basic("no-colon")), None);
    }
}
