//! The audit trail: an entry for every write, in the write's own transaction; a hash chain that
//! an independent implementation re-verifies; tampering found at the right entry; one unbroken
//! chain under concurrent writers and instances; no secret in any entry.

use std::collections::HashSet;
use std::process::Command;

use diesel::connection::SimpleConnection;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::both_stores;
use crate::helpers::{ADMIN_PASSWORD, Backend, JWT_SECRET, TestApp};

/// RFC 8785 as a verifier would write it from the RFC, independent of the server's code: keys
/// sorted by UTF-16 code units, strings escaped as ECMAScript's JSON.stringify does.
fn jcs(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\u{8}' => out.push_str("\\b"),
                    '\u{c}' => out.push_str("\\f"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
        Value::Array(items) => format!("[{}]", items.iter().map(jcs).collect::<Vec<_>>().join(",")),
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by_key(|k| k.encode_utf16().collect::<Vec<u16>>());
            let parts: Vec<String> =
                keys.iter().map(|k| format!("{}:{}", jcs(&Value::String((*k).clone())), jcs(&map[*k]))).collect();
            format!("{{{}}}", parts.join(","))
        }
    }
}

/// Re-verifies a chain from its entries as the API lists them; the first bad seq, if any.
fn recompute(entries: &[Value]) -> Option<i64> {
    let mut prev = "0".repeat(64);
    for (i, e) in entries.iter().enumerate() {
        let mut body = e.clone();
        let hash = body.as_object_mut().unwrap().remove("hash").unwrap();
        let at = e["at"].as_str().unwrap();
        let six_digits = at.len() == "2024-03-14T10:00:00.000000Z".len() && at.ends_with('Z');
        let digest = hex::encode(Sha256::digest(jcs(&body).as_bytes()));
        if e["seq"] != json!(i as i64 + 1) || e["prev_hash"] != json!(prev) || hash != json!(digest) || !six_digits {
            return Some(e["seq"].as_i64().unwrap());
        }
        prev = digest;
    }
    None
}

async fn every_kind_of_write_is_audited_and_the_chain_verifies_independently(app: TestApp) {
    let admin = app.admin_token().await;
    let d = app.create_department(&admin, "youth-centre").await;
    let dept_path = format!("/api/v1/departments/{}", d["id"].as_str().unwrap());
    app.patch(&dept_path, &admin, "\"1\"", &json!({"name_kk": "Жастар орталығы"})).await.expect(200);
    app.patch(&dept_path, &admin, "\"2\"", &json!({"active": true})).await.expect(200);
    let (acc, password) = app.create_account(&admin, "aliya", d["id"].as_str().unwrap(), "organiser").await;
    let session = app.login("aliya", &password).await;
    app.token(&json!({"grant_type": "password", "username": "aliya", "password": "wrong-password-1"}))
        .await
        .expect(400);
    app.post(
        "/api/v1/auth/password",
        session["access_token"].as_str().unwrap(),
        &json!({"current_password": password, "new_password": "Жаңа-құпия-сөз-1"}),
    )
    .await
    .expect(204);
    let acc_path = format!("/api/v1/accounts/{}", acc["id"].as_str().unwrap());
    let version = app.get(&acc_path, &admin).await.json()["version"].as_i64().unwrap();
    app.patch(&acc_path, &admin, &format!("\"{version}\""), &json!({"role": "viewer"})).await.expect(200);
    app.patch(&acc_path, &admin, &format!("\"{}\"", version + 1), &json!({"active": false})).await.expect(200);
    let client = app
        .post("/api/v1/clients", &admin, &json!({"name": "Тақта", "department_id": d["id"], "scopes": ["events:read"]}))
        .await
        .expect(201)
        .json();
    let client_path = format!("/api/v1/clients/{}", client["id"].as_str().unwrap());
    app.patch(&client_path, &admin, "\"1\"", &json!({"name": "Жаңа тақта"})).await.expect(200);
    app.post(&format!("{client_path}/secret"), &admin, &json!({})).await.expect(200);
    let s = app.login("admin", ADMIN_PASSWORD).await;
    app.send(app.client.post(app.url("/api/v1/auth/revoke")).json(&json!({"token": s["refresh_token"]})))
        .await
        .expect(200);

    let entries = app.audit_entries(&admin).await;
    let actions: HashSet<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    for expected in [
        "department.create",
        "department.update",
        "account.create",
        "account.update",
        "account.deactivate",
        "account.password_change",
        "client.create",
        "client.update",
        "client.secret_rotate",
        "auth.login",
        "auth.login_failed",
        "auth.revoke",
    ] {
        assert!(actions.contains(expected), "no {expected} entry: {actions:?}");
    }
    let update = entries.iter().find(|e| e["action"] == "department.update").unwrap();
    assert_eq!(update["changes"]["name_kk"]["to"], "Жастар орталығы");
    assert_eq!(update["entity_id"], d["id"]);
    assert_eq!(update["actor_kind"], "account");
    assert!(update["request_id"].is_string());
    assert_eq!(recompute(&entries), None, "the chain re-verifies independently");
    let report = app.get("/api/v1/audit/verify", &admin).await.expect(200).json();
    assert_eq!(report, json!({"ok": true, "entries": entries.len(), "first_bad_seq": null}));
    // Filters.
    let only = app
        .get(&format!("/api/v1/audit?entity=department&entity_id={}", d["id"].as_str().unwrap()), &admin)
        .await
        .json();
    assert_eq!(only["items"].as_array().unwrap().len(), 3);
}
both_stores!(every_kind_of_write_is_audited_and_the_chain_verifies_independently);

async fn no_secret_reaches_an_audit_entry(app: TestApp) {
    let admin = app.admin_token().await;
    let d = app.create_department(&admin, "youth-centre").await;
    let (acc, password) = app.create_account(&admin, "secretive", d["id"].as_str().unwrap(), "viewer").await;
    let session = app.login("secretive", &password).await;
    let client = app
        .post("/api/v1/clients", &admin, &json!({"name": "Жүйе", "department_id": d["id"], "scopes": ["events:read"]}))
        .await
        .expect(201)
        .json();
    let acc_path = format!("/api/v1/accounts/{}", acc["id"].as_str().unwrap());
    app.patch(&acc_path, &admin, "\"1\"", &json!({"password": "another-secret-word"})).await.expect(200);
    app.token(&json!({"grant_type": "password", "username": "secretive", "password": "typo-of-the-secret"}))
        .await
        .expect(400);
    let all = serde_json::to_string(&app.audit_entries(&admin).await).unwrap();
    for secret in [
        password.as_str(),
        "another-secret-word",
        "typo-of-the-secret",
        ADMIN_PASSWORD,
        client["client_secret"].as_str().unwrap(),
        session["refresh_token"].as_str().unwrap(),
        session["access_token"].as_str().unwrap(),
        "$argon2",
    ] {
        assert!(!all.contains(secret), "an audit entry holds a secret");
    }
}
both_stores!(no_secret_reaches_an_audit_entry);

async fn a_failing_write_leaves_no_entry(app: TestApp) {
    let admin = app.admin_token().await;
    let d = app.create_department(&admin, "youth-centre").await;
    let path = format!("/api/v1/departments/{}", d["id"].as_str().unwrap());
    let before = app.audit_entries(&admin).await.len();
    app.post("/api/v1/departments", &admin, &json!({"code": "youth-centre", "name_kk": "a", "name_ru": "b"}))
        .await
        .expect(409);
    app.patch(&path, &admin, "\"7\"", &json!({"name_kk": "x"})).await.expect(412);
    app.patch(&path, &admin, "\"1\"", &json!({"code": "BAD CODE"})).await.expect(422);
    assert_eq!(app.audit_entries(&admin).await.len(), before);

    // And inside the store: an entry appended by a transaction that then fails is rolled back
    // with it.
    let mut conn = app.store.connect();
    let actor = adal::audit::Actor::system();
    let result: Result<(), adal::error::ApiError> = adal::write::transaction(&mut conn, &actor, "t", |tx| {
        tx.audit("department.update", "department", None, json!({}))?;
        Err(adal::error::ApiError::conflict("fails after the append"))
    });
    assert!(result.is_err());
    assert_eq!(adal::audit::store::verify(&mut conn).unwrap().entries as usize, before);
}
both_stores!(a_failing_write_leaves_no_entry);

fn tamper(app: &TestApp, seq: i64) {
    let mut conn = app.store.connect();
    // Someone with direct database access: they must first remove the append-only guard.
    let sql = match app.backend() {
        Backend::Sqlite => format!(
            "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET changes = '{{\"name_kk\":{{\"from\":null,\"to\":\"forged\"}}}}' WHERE seq = {seq};"
        ),
        Backend::Postgres => format!(
            "DROP TRIGGER audit_log_no_update ON audit_log; UPDATE audit_log SET changes = '{{\"name_kk\":{{\"from\":null,\"to\":\"forged\"}}}}' WHERE seq = {seq};"
        ),
    };
    conn.batch_execute(&sql).expect("tamper");
}

async fn a_row_altered_in_the_database_is_found_at_its_seq(app: TestApp) {
    let admin = app.admin_token().await;
    for i in 0..4 {
        app.create_department(&admin, &format!("unit-{i}")).await;
    }
    // The guard holds against ordinary updates.
    let mut conn = app.store.connect();
    assert!(conn.batch_execute("UPDATE audit_log SET action = 'x' WHERE seq = 1").is_err());
    assert!(conn.batch_execute("DELETE FROM audit_log WHERE seq = 1").is_err());
    tamper(&app, 5);
    let report = app.get("/api/v1/audit/verify", &admin).await.expect(200).json();
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_bad_seq"], 5);
    // The command line says the same, with a failing exit status.
    let out = Command::new(env!("CARGO_BIN_EXE_adal"))
        .args(["audit", "verify"])
        .env("DATABASE_URL", &app.store.url)
        .env("ADAL_JWT_SECRET", JWT_SECRET)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"first_bad_seq\":5"));
}
both_stores!(a_row_altered_in_the_database_is_found_at_its_seq);

async fn the_command_line_verifies_an_intact_chain(app: TestApp) {
    let admin = app.admin_token().await;
    app.create_department(&admin, "unit-a").await;
    let out = Command::new(env!("CARGO_BIN_EXE_adal"))
        .args(["audit", "verify"])
        .env("DATABASE_URL", &app.store.url)
        .env("ADAL_JWT_SECRET", JWT_SECRET)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{:?} {} {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"ok\":true"));
}
both_stores!(the_command_line_verifies_an_intact_chain);

async fn concurrent_writers_on_two_instances_leave_one_unbroken_chain(app: TestApp) {
    let admin = app.admin_token().await;
    let (other, handle) = app.another_instance().await;
    let creates = (0..24).map(|i| {
        let base = if i % 2 == 0 { app.address.clone() } else { other.clone() };
        let req = app
            .client
            .request(Method::POST, format!("{base}/api/v1/departments"))
            .bearer_auth(&admin)
            .json(&json!({"code": format!("concurrent-{i}"), "name_kk": "a", "name_ru": "b"}));
        app.send(req)
    });
    let replies = futures_util::future::join_all(creates).await;
    assert!(
        replies.iter().all(|r| r.status.as_u16() == 201),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let entries = app.audit_entries(&admin).await;
    assert_eq!(recompute(&entries), None);
    assert_eq!(entries.iter().filter(|e| e["action"] == "department.create").count(), 25);
    drop(handle.stop(false));
}
both_stores!(concurrent_writers_on_two_instances_leave_one_unbroken_chain);
