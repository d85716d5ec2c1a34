//! Authentication and access: the three grants, forged tokens, refresh rotation, deactivation,
//! scopes, admin-only routes, login throttling and the keys.

use std::io::Write;
use std::process::{Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_stores;
use crate::helpers::{ADMIN_PASSWORD, JWT_SECRET, TestApp, TestStore};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims as the server issues them, for forging variants.
async fn valid_claims(app: &TestApp, admin: &str) -> Value {
    let me = app.get("/api/v1/auth/me", admin).await.expect(200).json();
    json!({"iss": "adal", "aud": "adal-api", "sub": me["id"], "dept": me["department_id"], "scope": "admin",
           "iat": now(), "nbf": now(), "exp": now() + 600, "jti": "forged"})
}

fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

async fn assert_refused(app: &TestApp, token: &str, what: &str) {
    let r = app.get("/api/v1/auth/me", token).await;
    assert_eq!(r.status.as_u16(), 401, "{what} was accepted: {}", r.text);
    let challenge = r.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer") && challenge.contains("error=\""), "{what}: {challenge}");
}

async fn forged_tokens_are_refused(app: TestApp) {
    let admin = app.admin_token().await;
    let claims = valid_claims(&app, &admin).await;
    // The control: the forging itself is right, so each refusal below is for its one flaw.
    app.get("/api/v1/auth/me", &sign(&claims, JWT_SECRET)).await.expect(200);

    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    assert_refused(&app, &format!("{none_header}.{payload}."), "alg none").await;
    assert_refused(&app, &sign(&claims, "another-secret-0123456789abcdef0123456789"), "wrong key").await;
    let mut c = claims.clone();
    c["exp"] = json!(now() - 3600);
    c["iat"] = json!(now() - 4000);
    c["nbf"] = json!(now() - 4000);
    assert_refused(&app, &sign(&c, JWT_SECRET), "expired").await;
    let mut c = claims.clone();
    c["nbf"] = json!(now() + 3600);
    assert_refused(&app, &sign(&c, JWT_SECRET), "future nbf").await;
    let mut c = claims.clone();
    c["aud"] = json!("someone-else");
    assert_refused(&app, &sign(&c, JWT_SECRET), "wrong aud").await;
    let mut c = claims.clone();
    c["iss"] = json!("evil");
    assert_refused(&app, &sign(&c, JWT_SECRET), "wrong iss").await;
    let mut c = claims.clone();
    c.as_object_mut().unwrap().remove("aud");
    assert_refused(&app, &sign(&c, JWT_SECRET), "missing aud").await;
    let mut c = claims.clone();
    c.as_object_mut().unwrap().remove("nbf");
    assert_refused(&app, &sign(&c, JWT_SECRET), "missing nbf").await;
    // A payload swapped under a valid signature.
    let real = sign(&claims, JWT_SECRET);
    let parts: Vec<&str> = real.split('.').collect();
    let mut c = claims.clone();
    c["sub"] = json!("0193a6f2-0000-7000-8000-000000000000");
    let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(c.to_string()), parts[2]);
    assert_refused(&app, &tampered, "tampered payload").await;
    // An unknown kid on an HS256 server.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("other".into());
    let with_kid = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(JWT_SECRET.as_bytes())).unwrap();
    assert_refused(&app, &with_kid, "unknown kid").await;
    assert_refused(&app, "not-a-jwt", "garbage").await;
    let r =
        app.send(app.client.get(app.url("/api/v1/auth/me")).header("authorization", "Basic YTpi")).await.expect(401);
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
}
both_stores!(forged_tokens_are_refused);

/// The server remembers tokens it has verified; a remembered token must still stop working when
/// it expires (after the 30-second leeway), not live on in the memory of the instance.
async fn a_remembered_token_still_expires(app: TestApp) {
    let admin = app.admin_token().await;
    let mut claims = valid_claims(&app, &admin).await;
    claims["iat"] = json!(now() - 600);
    claims["nbf"] = json!(now() - 600);
    claims["exp"] = json!(now() - 27);
    let token = sign(&claims, JWT_SECRET);
    app.get("/api/v1/auth/me", &token).await.expect(200);
    app.get("/api/v1/auth/me", &token).await.expect(200);
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    assert_refused(&app, &token, "a token 31 seconds past its exp").await;
}
both_stores!(a_remembered_token_still_expires);

async fn the_password_grant_issues_tokens_with_the_contracts_claims(app: TestApp) {
    let body = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"].as_i64().unwrap() / 10, 90);
    assert!(body["refresh_token"].as_str().unwrap().len() >= 43);
    let token = body["access_token"].as_str().unwrap();
    let payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
    for claim in ["iss", "aud", "sub", "dept", "scope", "iat", "nbf", "exp", "jti"] {
        assert!(payload.get(claim).is_some(), "claim {claim} missing: {payload}");
    }
    assert_eq!(payload["iss"], "adal");
    assert_eq!(payload["aud"], "adal-api");
    let me = app.get("/api/v1/auth/me", token).await.expect(200).json();
    assert_eq!(payload["sub"], me["id"]);
    assert_eq!(me["kind"], "account");
    assert_eq!(me["username"], "admin");
    assert_eq!(me["role"], "admin");
    // The same grant as a form, as OAuth libraries send it.
    let form = app
        .send(app.client.post(app.url("/api/v1/auth/token")).form(&[
            ("grant_type", "password"),
            ("username", "ADMIN"),
            ("password", ADMIN_PASSWORD),
        ]))
        .await
        .expect(200);
    assert_eq!(form.header("cache-control").as_deref(), Some("no-store"));
}
both_stores!(the_password_grant_issues_tokens_with_the_contracts_claims);

async fn a_wrong_password_is_invalid_grant(app: TestApp) {
    let r = app
        .token(&json!({"grant_type": "password", "username": "admin", "password": "wrong-password-1"}))
        .await
        .expect(400)
        .json();
    assert_eq!(r["error"], "invalid_grant");
    let r = app
        .token(&json!({"grant_type": "password", "username": "nobody", "password": "wrong-password-1"}))
        .await
        .expect(400)
        .json();
    assert_eq!(r["error"], "invalid_grant");
    let r = app.token(&json!({"grant_type": "magic"})).await.expect(400).json();
    assert_eq!(r["error"], "unsupported_grant_type");
    let r = app.token(&json!({"username": "admin"})).await.expect(400).json();
    assert_eq!(r["error"], "invalid_request");
}
both_stores!(a_wrong_password_is_invalid_grant);

async fn refresh_tokens_rotate_and_a_reuse_revokes_the_family(app: TestApp) {
    let first = app.login("admin", ADMIN_PASSWORD).await;
    let r1 = first["refresh_token"].as_str().unwrap().to_string();
    let second = app.token(&json!({"grant_type": "refresh_token", "refresh_token": r1})).await.expect(200).json();
    let r2 = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    app.get("/api/v1/auth/me", second["access_token"].as_str().unwrap()).await.expect(200);
    let third = app.token(&json!({"grant_type": "refresh_token", "refresh_token": r2})).await.expect(200).json();
    let r3 = third["refresh_token"].as_str().unwrap().to_string();
    // r1's child (r2) has been used: r1 again is a reuse, and the whole family ends.
    let reuse = app.token(&json!({"grant_type": "refresh_token", "refresh_token": r1})).await.expect(400).json();
    assert_eq!(reuse["error"], "invalid_grant");
    app.token(&json!({"grant_type": "refresh_token", "refresh_token": r3})).await.expect(400);
    // Another login is another family, untouched.
    let other = app.login("admin", ADMIN_PASSWORD).await;
    app.token(&json!({"grant_type": "refresh_token", "refresh_token": other["refresh_token"]})).await.expect(200);
    let admin = other["access_token"].as_str().unwrap();
    let entries = app.audit_entries(admin).await;
    assert_eq!(entries.iter().filter(|e| e["action"] == "auth.refresh_reuse").count(), 1);
}
both_stores!(refresh_tokens_rotate_and_a_reuse_revokes_the_family);

async fn a_retried_refresh_within_the_grace_window_gets_the_same_pair(app: TestApp) {
    let first = app.login("admin", ADMIN_PASSWORD).await;
    let r1 = json!({"grant_type": "refresh_token", "refresh_token": first["refresh_token"]});
    let answer = app.token(&r1).await.expect(200).json();
    // The answer was lost; the client retries with the same token.
    let retry = app.token(&r1).await.expect(200).json();
    assert_eq!(answer["refresh_token"], retry["refresh_token"]);
    assert_eq!(answer["access_token"], retry["access_token"]);
    // The new pair works, and once its refresh token is used the grace ends.
    app.token(&json!({"grant_type": "refresh_token", "refresh_token": answer["refresh_token"]})).await.expect(200);
    app.token(&r1).await.expect(400);
}
both_stores!(a_retried_refresh_within_the_grace_window_gets_the_same_pair);

async fn revocation_ends_a_refresh_token(app: TestApp) {
    let first = app.login("admin", ADMIN_PASSWORD).await;
    let revoke = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/revoke"))
                .form(&[("token", first["refresh_token"].as_str().unwrap())]),
        )
        .await;
    revoke.expect(200);
    app.token(&json!({"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})).await.expect(400);
    // Unknown tokens are answered 200 too (RFC 7009).
    app.send(app.client.post(app.url("/api/v1/auth/revoke")).json(&json!({"token": "nothing"}))).await.expect(200);
}
both_stores!(revocation_ends_a_refresh_token);

async fn deactivation_ends_live_tokens_at_once(app: TestApp) {
    let admin = app.admin_token().await;
    let d = app.create_department(&admin, "youth-centre").await;
    let (account, password) = app.create_account(&admin, "leaver", d["id"].as_str().unwrap(), "viewer").await;
    let tokens = app.login("leaver", &password).await;
    let token = tokens["access_token"].as_str().unwrap();
    app.get("/api/v1/departments", token).await.expect(200);
    let path = format!("/api/v1/accounts/{}", account["id"].as_str().unwrap());
    app.patch(&path, &admin, "\"1\"", &json!({"active": false})).await.expect(200);
    app.get("/api/v1/departments", token).await.expect(401);
    app.token(&json!({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})).await.expect(400);
    app.token(&json!({"grant_type": "password", "username": "leaver", "password": password})).await.expect(400);
}
both_stores!(deactivation_ends_live_tokens_at_once);

async fn another_instance_refuses_a_deactivated_accounts_token_within_five_seconds(app: TestApp) {
    let admin = app.admin_token().await;
    let d = app.create_department(&admin, "youth-centre").await;
    let (account, password) = app.create_account(&admin, "leaver2", d["id"].as_str().unwrap(), "viewer").await;
    let token = app.login("leaver2", &password).await["access_token"].as_str().unwrap().to_string();
    let (other, handle) = app.another_instance().await;
    let get_other = || app.send(app.client.get(format!("{other}/api/v1/departments")).bearer_auth(&token));
    assert_eq!(get_other().await.status.as_u16(), 200);
    app.patch(
        &format!("/api/v1/accounts/{}", account["id"].as_str().unwrap()),
        &admin,
        "\"1\"",
        &json!({"active": false}),
    )
    .await
    .expect(200);
    let started = std::time::Instant::now();
    loop {
        if get_other().await.status.as_u16() == 401 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_millis(5500),
            "the other instance still accepts the token"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    drop(handle.stop(false));
}
both_stores!(another_instance_refuses_a_deactivated_accounts_token_within_five_seconds);

async fn every_admin_route_is_403_for_non_admins(app: TestApp) {
    let admin = app.admin_token().await;
    let d = app.create_department(&admin, "internal-policy").await;
    let dept = d["id"].as_str().unwrap();
    let (acc, _) = app.create_account(&admin, "someone", dept, "viewer").await;
    let client = app
        .post("/api/v1/clients", &admin, &json!({"name": "Тақта", "department_id": dept, "scopes": ["events:read"]}))
        .await
        .expect(201)
        .json();
    let acc_path = format!("/api/v1/accounts/{}", acc["id"].as_str().unwrap());
    let client_path = format!("/api/v1/clients/{}", client["id"].as_str().unwrap());
    let dept_path = format!("/api/v1/departments/{dept}");
    for role in ["coordinator", "organiser", "viewer"] {
        let token = app.token_for(&admin, &format!("{role}-user"), dept, role).await;
        let calls: Vec<(Method, String, Option<Value>)> = vec![
            (Method::GET, "/api/v1/accounts".into(), None),
            (Method::GET, acc_path.clone(), None),
            (
                Method::POST,
                "/api/v1/accounts".into(),
                Some(
                    json!({"username": "x1x", "display_name": "x", "department_id": dept, "role": "admin", "password": "long-enough-password"}),
                ),
            ),
            (Method::PATCH, acc_path.clone(), Some(json!({"role": "admin"}))),
            (Method::GET, "/api/v1/clients".into(), None),
            (Method::GET, client_path.clone(), None),
            (
                Method::POST,
                "/api/v1/clients".into(),
                Some(json!({"name": "x", "department_id": dept, "scopes": ["admin"]})),
            ),
            (Method::PATCH, client_path.clone(), Some(json!({"scopes": ["admin"]}))),
            (Method::POST, format!("{client_path}/secret"), Some(json!({}))),
            (Method::POST, "/api/v1/departments".into(), Some(json!({"code": "x-x", "name_kk": "x", "name_ru": "x"}))),
            (Method::PATCH, dept_path.clone(), Some(json!({"name_kk": "x"}))),
            (Method::GET, "/api/v1/audit".into(), None),
            (Method::GET, "/api/v1/audit/verify".into(), None),
        ];
        for (method, path, body) in calls {
            let mut req = app.request(method.clone(), &path, Some(&token)).header("if-match", "\"1\"");
            if let Some(b) = body {
                req = req
                    .header(
                        "content-type",
                        if method == Method::PATCH { "application/merge-patch+json" } else { "application/json" },
                    )
                    .body(b.to_string());
            }
            let r = app.send(req).await;
            assert_eq!(r.status.as_u16(), 403, "{role} {method} {path}: {}", r.text);
        }
    }
}
both_stores!(every_admin_route_is_403_for_non_admins);

async fn clients_get_tokens_and_only_their_scopes(app: TestApp) {
    let admin = app.admin_token().await;
    let d = app.create_department(&admin, "legal-support").await;
    let created = app
        .post("/api/v1/clients", &admin, &json!({"client_id": "akimat-dashboard", "name": "Тақта", "department_id": d["id"], "scopes": ["events:read", "audit:read"]}))
        .await
        .expect(201);
    let created = created.json();
    let secret = created["client_secret"].as_str().unwrap().to_string();
    assert!(secret.len() >= 43, "at least 256 bits");
    // JSON body.
    let t = app
        .token(&json!({"grant_type": "client_credentials", "client_id": "akimat-dashboard", "client_secret": secret}))
        .await
        .expect(200)
        .json();
    assert!(t.get("refresh_token").is_none());
    assert_eq!(t["scope"], "events:read audit:read");
    let token = t["access_token"].as_str().unwrap();
    let me = app.get("/api/v1/auth/me", token).await.expect(200).json();
    assert_eq!((me["kind"].as_str(), me["client_id"].as_str()), (Some("client"), Some("akimat-dashboard")));
    app.get("/api/v1/audit", token).await.expect(200);
    app.get("/api/v1/accounts", token).await.expect(403);
    // HTTP Basic, as OAuth libraries send it, asking for a narrower scope.
    let basic = STANDARD.encode(format!("akimat-dashboard:{secret}"));
    let narrow = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/token"))
                .header("authorization", format!("Basic {basic}"))
                .form(&[("grant_type", "client_credentials"), ("scope", "events:read")]),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(narrow["scope"], "events:read");
    app.get("/api/v1/audit", narrow["access_token"].as_str().unwrap()).await.expect(403);
    // A scope it was not granted.
    let r = app.token(&json!({"grant_type": "client_credentials", "client_id": "akimat-dashboard", "client_secret": secret, "scope": "admin"})).await.expect(400).json();
    assert_eq!(r["error"], "invalid_scope");
    // A wrong secret.
    let r = app
        .token(&json!({"grant_type": "client_credentials", "client_id": "akimat-dashboard", "client_secret": "guess"}))
        .await
        .expect(401)
        .json();
    assert_eq!(r["error"], "invalid_client");
    // The secret is never shown again, and a new one replaces it.
    let path = format!("/api/v1/clients/{}", created["id"].as_str().unwrap());
    let read = app.get(&path, &admin).await.expect(200);
    assert!(!read.text.contains(&secret) && !read.text.contains("secret"));
    let rotated = app.post(&format!("{path}/secret"), &admin, &json!({})).await.expect(200).json();
    let new_secret = rotated["client_secret"].as_str().unwrap();
    app.token(&json!({"grant_type": "client_credentials", "client_id": "akimat-dashboard", "client_secret": secret}))
        .await
        .expect(401);
    app.token(
        &json!({"grant_type": "client_credentials", "client_id": "akimat-dashboard", "client_secret": new_secret}),
    )
    .await
    .expect(200);
    // Deactivating the client refuses its live token.
    app.patch(&path, &admin, "\"2\"", &json!({"active": false})).await.expect(200);
    app.get("/api/v1/auth/me", token).await.expect(401);
}
both_stores!(clients_get_tokens_and_only_their_scopes);

async fn a_replayed_client_create_does_not_repeat_the_secret(app: TestApp) {
    let admin = app.admin_token().await;
    let d = app.create_department(&admin, "legal-support").await;
    let body = json!({"name": "Жүйе", "department_id": d["id"], "scopes": ["events:read"]});
    let send = || {
        app.send(
            app.request(Method::POST, "/api/v1/clients", Some(&admin)).header("idempotency-key", "cl-1").json(&body),
        )
    };
    let first = send().await.expect(201).json();
    let replay = send().await.expect(201).json();
    assert!(first["client_secret"].is_string());
    assert!(replay.get("client_secret").is_none());
    assert_eq!(first["id"], replay["id"]);
}
both_stores!(a_replayed_client_create_does_not_repeat_the_secret);

async fn secrets_and_hashes_never_appear_in_responses(app: TestApp) {
    let admin = app.admin_token().await;
    let d = app.create_department(&admin, "youth-centre").await;
    let (account, password) = app.create_account(&admin, "aigerim", d["id"].as_str().unwrap(), "organiser").await;
    let texts = [
        app.get(&format!("/api/v1/accounts/{}", account["id"].as_str().unwrap()), &admin).await.text,
        app.get("/api/v1/accounts", &admin).await.text,
        account.to_string(),
    ];
    for t in texts {
        assert!(!t.contains(&password) && !t.contains("$argon2") && !t.contains("password"), "{t}");
    }
}
both_stores!(secrets_and_hashes_never_appear_in_responses);

async fn repeated_failures_are_slowed_with_429(app: TestApp) {
    for _ in 0..5 {
        app.token(&json!({"grant_type": "password", "username": "admin", "password": "wrong-password-x"}))
            .await
            .expect(400);
    }
    let r = app
        .token(&json!({"grant_type": "password", "username": "admin", "password": ADMIN_PASSWORD}))
        .await
        .expect(429);
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    // Another username is not locked by someone guessing this one.
    let r = app.token(&json!({"grant_type": "password", "username": "other", "password": "wrong-password-x"})).await;
    assert_eq!(r.status.as_u16(), 400);
    // The delay ends: no permanent lockout.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    app.login("admin", ADMIN_PASSWORD).await;
}
both_stores!(repeated_failures_are_slowed_with_429);

async fn a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(app: TestApp) {
    // Twenty failures, each claiming another address: all are the peer's, so it is slowed.
    for i in 0..20 {
        app.send(
            app.client.post(app.url("/api/v1/auth/token")).header("x-forwarded-for", format!("203.0.113.{i}")).json(
                &json!({"grant_type": "password", "username": format!("guess{i}"), "password": "wrong-password-x"}),
            ),
        )
        .await
        .expect(400);
    }
    let r = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/token"))
                .header("x-forwarded-for", "198.51.100.1")
                .json(&json!({"grant_type": "password", "username": "fresh-name", "password": "wrong-password-x"})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 429);
}
both_stores!(a_forged_forwarded_for_from_an_untrusted_peer_is_ignored);

async fn behind_a_trusted_proxy_the_forwarded_address_counts(app: TestApp) {
    let store = TestStore::create(app.backend()).expect("store");
    let mut config = store.config();
    config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    let proxied = TestApp::spawn_with(store, config).await;
    let attempt = |xff: &'static str, user: String| {
        proxied.send(
            proxied
                .client
                .post(proxied.url("/api/v1/auth/token"))
                .header("x-forwarded-for", xff)
                .json(&json!({"grant_type": "password", "username": user, "password": "wrong-password-x"})),
        )
    };
    for i in 0..20 {
        attempt("203.0.113.5", format!("guess{i}")).await.expect(400);
    }
    assert_eq!(attempt("203.0.113.5", "fresh".into()).await.status.as_u16(), 429);
    assert_eq!(attempt("203.0.113.6", "fresh".into()).await.status.as_u16(), 400);
}
both_stores!(behind_a_trusted_proxy_the_forwarded_address_counts);

async fn changing_my_password_ends_my_other_sessions(app: TestApp) {
    let admin = app.admin_token().await;
    let d = app.create_department(&admin, "youth-centre").await;
    let (_, password) = app.create_account(&admin, "dana", d["id"].as_str().unwrap(), "organiser").await;
    let session = app.login("dana", &password).await;
    let token = session["access_token"].as_str().unwrap();
    let wrong = app
        .post(
            "/api/v1/auth/password",
            token,
            &json!({"current_password": "not-it-at-all", "new_password": "Жаңа-құпия-сөз-1"}),
        )
        .await
        .expect(422)
        .json();
    assert_eq!(wrong["errors"][0]["field"], "current_password");
    let short = app
        .post("/api/v1/auth/password", token, &json!({"current_password": password, "new_password": "short"}))
        .await
        .expect(422)
        .json();
    assert_eq!(short["errors"][0]["field"], "new_password");
    app.post(
        "/api/v1/auth/password",
        token,
        &json!({"current_password": password, "new_password": "Жаңа-құпия-сөз-1"}),
    )
    .await
    .expect(204);
    app.token(&json!({"grant_type": "password", "username": "dana", "password": password})).await.expect(400);
    app.login("dana", "Жаңа-құпия-сөз-1").await;
    app.token(&json!({"grant_type": "refresh_token", "refresh_token": session["refresh_token"]})).await.expect(400);
}
both_stores!(changing_my_password_ends_my_other_sessions);

async fn an_admin_resets_a_password(app: TestApp) {
    let admin = app.admin_token().await;
    let d = app.create_department(&admin, "youth-centre").await;
    let (account, password) = app.create_account(&admin, "forgetful", d["id"].as_str().unwrap(), "viewer").await;
    let path = format!("/api/v1/accounts/{}", account["id"].as_str().unwrap());
    let r = app.patch(&path, &admin, "\"1\"", &json!({"password": "short"})).await.expect(422).json();
    assert_eq!(r["errors"][0]["field"], "password");
    let changed = app.patch(&path, &admin, "\"1\"", &json!({"password": "reset-by-admin-2024"})).await.expect(200);
    assert!(!changed.text.contains("reset-by-admin-2024"));
    app.token(&json!({"grant_type": "password", "username": "forgetful", "password": password})).await.expect(400);
    app.login("forgetful", "reset-by-admin-2024").await;
}
both_stores!(an_admin_resets_a_password);

async fn usernames_are_unique_ignoring_case(app: TestApp) {
    let admin = app.admin_token().await;
    let d = app.create_department(&admin, "youth-centre").await;
    app.create_account(&admin, "Әсел", d["id"].as_str().unwrap(), "viewer").await;
    let r = app
        .post("/api/v1/accounts", &admin, &json!({"username": "әсел", "display_name": "x", "department_id": d["id"], "role": "viewer", "password": "long-enough-password"}))
        .await;
    assert_eq!(r.status.as_u16(), 409);
    let r = app
        .post("/api/v1/accounts", &admin, &json!({"username": "ok-name", "display_name": "x", "department_id": "0193a6f2-0000-7000-8000-000000000000", "role": "viewer", "password": "long-enough-password"}))
        .await
        .expect(422)
        .json();
    assert_eq!(r["errors"][0]["field"], "department_id");
}
both_stores!(usernames_are_unique_ignoring_case);

async fn ed25519_keys_sign_and_the_jwks_publishes_them(app: TestApp) {
    let store = TestStore::create(app.backend()).expect("store");
    let mut config = store.config();
    config.jwt_keys_dir = Some(std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/fixtures")));
    let ed = TestApp::spawn_with(store, config).await;
    let token = ed.admin_token().await;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.kid.as_deref(), Some("2024-02"), "the last key in name order signs");
    let jwks = ed.send(ed.client.get(ed.url("/.well-known/jwks.json"))).await.expect(200).json();
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, vec!["2024-01", "2024-02"]);
    assert!(jwks.to_string().find("\"d\"").is_none(), "no private part");
    // A token signed by the older key still verifies (rotation); an unknown kid does not.
    let claims = valid_claims(&ed, &token).await;
    let pem = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/fixtures/2024-01.pem")).unwrap();
    let mut h = Header::new(Algorithm::EdDSA);
    h.kid = Some("2024-01".into());
    let old = jsonwebtoken::encode(&h, &claims, &EncodingKey::from_ed_pem(&pem).unwrap()).unwrap();
    ed.get("/api/v1/auth/me", &old).await.expect(200);
    h.kid = Some("2023-12".into());
    let unknown = jsonwebtoken::encode(&h, &claims, &EncodingKey::from_ed_pem(&pem).unwrap()).unwrap();
    assert_refused(&ed, &unknown, "unknown kid").await;
    // An HS256 token is refused by an EdDSA server: the algorithm is pinned.
    assert_refused(&ed, &sign(&claims, JWT_SECRET), "HS256 on an EdDSA server").await;
}
both_stores!(ed25519_keys_sign_and_the_jwks_publishes_them);

async fn the_first_start_writes_the_admin_password_to_a_private_file(app: TestApp) {
    let store = TestStore::create(app.backend()).expect("store");
    let mut config = store.config();
    config.admin_password = None;
    let file = adal::bootstrap::admin_password_file(&config);
    let fresh = TestApp::spawn_with(store, config).await;
    let password = std::fs::read_to_string(&file).expect("the password file exists");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    fresh.login("admin", password.trim()).await;
}
both_stores!(the_first_start_writes_the_admin_password_to_a_private_file);

async fn create_admin_reads_the_password_from_standard_input(app: TestApp) {
    let admin = app.admin_token().await;
    app.create_department(&admin, "internal-policy").await;
    let run = |args: &[&str], input: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_adal"))
            .args(args)
            .env("DATABASE_URL", &app.store.url)
            .env("ADAL_JWT_SECRET", JWT_SECRET)
            .env("ADAL_KEY_FILE", app.store.dir.path().join("adal.keys"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let ok = run(
        &["create-admin", "--username", "second-admin", "--department-code", "internal-policy"],
        "Екінші-әкімші-2024\n",
    );
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let token = app.login("second-admin", "Екінші-әкімші-2024").await;
    let me = app.get("/api/v1/auth/me", token["access_token"].as_str().unwrap()).await.json();
    assert_eq!(me["role"], "admin");
    let short = run(&["create-admin", "--username", "third"], "short\n");
    assert!(!short.status.success());
    assert_eq!(String::from_utf8_lossy(&short.stderr).lines().count(), 1, "a one-line reason");
    let unknown =
        run(&["create-admin", "--username", "fourth", "--department-code", "nowhere"], "long-enough-password\n");
    assert!(!unknown.status.success());
}
both_stores!(create_admin_reads_the_password_from_standard_input);

async fn an_admin_cannot_deactivate_or_demote_themselves_but_another_admin_can(app: TestApp) {
    let admin = app.admin_token().await;
    let me = app.get("/api/v1/auth/me", &admin).await.expect(200).json();
    let path = format!("/api/v1/accounts/{}", me["id"].as_str().unwrap());
    let r = app.patch(&path, &admin, "*", &json!({"active": false})).await.expect(422);
    assert_eq!(r.json()["errors"][0]["field"], "active");
    let r = app.patch(&path, &admin, "*", &json!({"role": "viewer"})).await.expect(422);
    assert_eq!(r.json()["errors"][0]["field"], "role");
    app.get("/api/v1/auth/me", &admin).await.expect(200);

    let department = me["department_id"].as_str().unwrap();
    let second = app.token_for(&admin, "second-admin", department, "admin").await;
    app.patch(&path, &second, "*", &json!({"role": "viewer"})).await.expect(200);
}
both_stores!(an_admin_cannot_deactivate_or_demote_themselves_but_another_admin_can);

/// People type passwords into username fields: a failed login records a short digest of the
/// username it was given, in the server's log and in the audit trail, never the text itself.
async fn a_failed_login_records_a_digest_not_the_username_given(store: TestStore) {
    let server = crate::process::ServerProcess::start(&store, "server").await;
    let client = reqwest::Client::new();
    let typed = "Adal-Typed-Passw0rd-In-Username";
    let failed = client
        .post(server.url("/api/v1/auth/token"))
        .json(&json!({"grant_type": "password", "username": typed, "password": "anything at all"}))
        .send()
        .await
        .expect("the token endpoint answers");
    assert_eq!(failed.status().as_u16(), 400);
    let admin = server.admin_token(&client).await;
    let audit: Value = client
        .get(server.url("/api/v1/audit?limit=100"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("the audit answers")
        .json()
        .await
        .expect("audit JSON");
    let entry = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["action"] == "auth.login_failed")
        .expect("the failed login is audited")
        .clone();
    assert_eq!(entry["changes"]["reason"], "unknown_username", "{entry}");
    let digest = entry["changes"]["username_digest"].as_str().expect("a digest of the username").to_string();
    assert_eq!(digest.len(), 16, "{entry}");
    let log = server.log();
    assert!(log.contains("login failed") && log.contains(&digest), "the log names the same digest: {log}");
    for (place, text) in [("audit trail", audit.to_string()), ("log", log)] {
        assert!(!text.to_lowercase().contains(&typed.to_lowercase()), "the {place} holds the username given: {text}");
    }
}

mod a_failed_login_records_a_digest_not_the_username_given {
    use crate::helpers::{Backend, TestStore};
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        if let Some(store) = TestStore::create(Backend::Sqlite) {
            super::a_failed_login_records_a_digest_not_the_username_given(store).await;
        }
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if let Some(store) = TestStore::create(Backend::Postgres) {
            super::a_failed_login_records_a_digest_not_the_username_given(store).await;
        }
    }
}
