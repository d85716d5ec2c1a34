//! The console, the registry's web client for people: built from `console/` into `console/dist/`,
//! which is committed and embedded here at compile time, so building and running Adal needs no
//! Node.js. These routes are not API and so not in the OpenAPI document; each embedded file is
//! registered as its own exact path, so any other path still reaches the API's 404/405 fallback.

use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::{self, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};

use crate::error::ApiError;

#[derive(rust_embed::Embed)]
#[folder = "console/dist/"]
struct Dist;

/// The console's own policy: everything from this origin only, no inline script, never framed.
/// `blob:` images are evidence photos the console fetched itself (with its token) and shows.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
connect-src 'self'; font-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; \
base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const INDEX: &str = "index.html";

/// Path prefixes the API and operations own; no console file may shadow them.
const RESERVED: [&str; 5] = ["api", "docs", "health", "metrics", ".well-known"];

/// Registers `/` and every embedded file at its own path.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/").to(serve));
    for name in Dist::iter() {
        if is_reserved(&name) {
            tracing::warn!(file = %name, "console file shadows an API path; not served");
            continue;
        }
        cfg.service(web::resource(format!("/{name}")).to(serve));
    }
}

fn is_reserved(name: &str) -> bool {
    let first = name.split('/').next().unwrap_or(name);
    RESERVED.contains(&first)
}

async fn serve(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Err(ApiError::MethodNotAllowed(vec!["GET".into(), "HEAD".into()]));
    }
    let name = match req.path().trim_start_matches('/') {
        "" => INDEX,
        other => other,
    };
    let file = Dist::get(name).ok_or(ApiError::NotFound)?;
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));

    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| none_match_hits(v, &etag));
    let mut res = if fresh { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    headers(&mut res, name);
    res.insert_header((header::ETAG, etag));
    if fresh {
        return Ok(res.finish());
    }
    Ok(res.content_type(content_type(name)).body(file.data.into_owned()))
}

/// The headers every console response carries, set here so they are right whatever middleware
/// runs around them.
fn headers(res: &mut HttpResponseBuilder, name: &str) {
    // Vite names what it puts under assets/ by content hash, so a new build never reuses a name;
    // everything else (index.html, the service worker, the manifest) must be revalidated, or a
    // client would keep an old shell pointing at assets that no longer exist.
    let cache = if name.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
    res.insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
}

/// `If-None-Match` compares weakly (RFC 9110 §13.1.2): `W/"x"` matches `"x"`.
fn none_match_hits(header: &str, etag: &str) -> bool {
    header.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

fn content_type(name: &str) -> HeaderValue {
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    HeaderValue::from_static(match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_console_file_shadows_an_api_path() {
        let shadowing: Vec<_> = Dist::iter().filter(|n| is_reserved(n)).collect();
        assert!(shadowing.is_empty(), "{shadowing:?}");
        assert!(Dist::get(INDEX).is_some(), "console/dist/index.html is embedded");
    }

    #[test]
    fn if_none_match_compares_weakly_and_accepts_lists() {
        assert!(none_match_hits("\"a\"", "\"a\""));
        assert!(none_match_hits("W/\"a\"", "\"a\""));
        assert!(none_match_hits("\"b\", W/\"a\"", "\"a\""));
        assert!(none_match_hits("*", "\"a\""));
        assert!(!none_match_hits("\"b\"", "\"a\""));
    }
}
