//! The `Principal` extractor: the bearer token verified, and the principal's current state (from
//! the cache or the store) narrowing what the token grants.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::{Principal, ScopeSet, store};
use crate::error::ApiError;
use crate::state::AppState;

fn bearer(req: &HttpRequest) -> Result<&str, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("invalid_token", "this needs a bearer token"))?;
    let text = value.to_str().map_err(|_| ApiError::unauthorized("invalid_request", "malformed Authorization"))?;
    match text.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => Ok(token.trim()),
        _ => Err(ApiError::unauthorized("invalid_request", "Authorization must be: Bearer <token>")),
    }
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<Data<AppState>>().cloned();
        let claims = bearer(req).and_then(|token| match &state {
            Some(s) => s.tokens.verify(token),
            None => Err(ApiError::internal(anyhow::anyhow!("application state missing"))),
        });
        Box::pin(async move {
            let claims = claims?;
            let state = state.expect("checked above");
            let current = match state.principals.get(&claims.sub) {
                Some(cached) => cached,
                None => {
                    let id = claims.sub.clone();
                    let loaded = state.store.run(move |conn| Ok(store::principal_state(conn, &id)?)).await?;
                    state.principals.put(&claims.sub, loaded.clone());
                    loaded
                }
            };
            let current = current.ok_or_else(|| {
                ApiError::unauthorized("invalid_token", "the token's account or client is deactivated or gone")
            })?;
            let granted = ScopeSet::parse(&claims.scope).unwrap_or_default();
            Ok(Principal {
                id: claims.sub,
                kind: current.kind,
                name: current.name,
                department_id: current.department_id,
                role: current.role,
                scopes: granted.intersect(current.scopes),
                reach: current.reach,
            })
        })
    }
}
