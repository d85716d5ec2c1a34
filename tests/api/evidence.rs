//! Evidence and verification: each file rule (type by the file's own bytes, 10 MiB, 20 an event),
//! each access rule, downloads that are the bytes the audit trail hashed, verification by an
//! uninvolved department only, any later change undoing it, each flag at its boundary, and the
//! reports' verified and flagged figures recounted.

use diesel::connection::SimpleConnection;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::both_stores;
use crate::events::{World, create, event, world};
use crate::helpers::{Reply, TestApp};

const MIB: usize = 1 << 20;

/// `len` bytes that start as a file of `kind` does, and then vary (so chunks differ).
fn file(kind: &str, len: usize) -> Vec<u8> {
    let head: &[u8] = match kind {
        "jpeg" => &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0],
        "png" => b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        "pdf" => b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        "exe" => b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff",
        _ => b"",
    };
    let mut out = head.to_vec();
    let mut x: u32 = 0x9E37_79B9 ^ len as u32;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.push(x as u8);
    }
    out.truncate(len);
    out
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

fn evidence_path(e: &Value) -> String {
    format!("/api/v1/events/{}/evidence", id(e))
}

async fn upload(app: &TestApp, token: &str, e: &Value, kind: &str, media: &str, body: Vec<u8>) -> Reply {
    let req = app
        .request(Method::POST, &format!("{}?kind={kind}", evidence_path(e)), Some(token))
        .header("content-type", media)
        .body(body);
    app.send(req).await
}

async fn link(app: &TestApp, token: &str, e: &Value, n: usize) -> Reply {
    let body = json!({"kind": "press", "url": format!("https://akimat.example.kz/news/{n}")});
    app.post(&evidence_path(e), token, &body).await
}

async fn read(app: &TestApp, token: &str, e: &Value) -> Value {
    app.get(&format!("/api/v1/events/{}", id(e)), token).await.expect(200).json()
}

fn etag(e: &Value) -> String {
    format!("\"{}\"", e["version"])
}

async fn verify(app: &TestApp, token: &str, e: &Value, body: Value) -> Reply {
    let req = app
        .request(Method::PUT, &format!("/api/v1/events/{}/verification", id(e)), Some(token))
        .header("if-match", etag(e))
        .json(&body);
    app.send(req).await
}

async fn record(app: &TestApp, token: &str, e: &Value, attendance: Value) -> Value {
    let req = app
        .request(Method::PUT, &format!("/api/v1/events/{}/attendance", id(e)), Some(token))
        .header("if-match", etag(e))
        .json(&attendance);
    app.send(req).await.expect(200).json()
}

/// A held event of the youth centre with the policy department as partner.
async fn held(app: &TestApp, w: &World, changes: Value) -> Value {
    let mut body =
        event(json!({"partner_department_ids": [w.policy], "attendance": {"total": 40, "basis": "sign_in_sheet"}}));
    adal::http::merge_patch::apply(&mut body, &changes);
    create(app, &w.youth_organiser, &body).await
}

/// The legal-support subdivision, which takes part in no event here, with a coordinator (a
/// verifier) and a viewer.
struct Legal {
    verifier: String,
    viewer: String,
}

async fn legal(app: &TestApp, w: &World) -> Legal {
    let dept = app.create_department(&w.admin, "legal-support").await;
    let verifier = app.token_for(&w.admin, "legal-coordinator", id(&dept), "coordinator").await;
    let viewer = app.token_for(&w.admin, "legal-viewer", id(&dept), "viewer").await;
    Legal { verifier, viewer }
}

fn codes(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_string(), e["code"].as_str().unwrap().to_string()))
        .collect()
}

async fn files_are_what_their_bytes_are_and_download_as_they_were_sent(app: TestApp) {
    let w = world(&app).await;
    let e = held(&app, &w, json!({})).await;
    // Three chunks and a bit: the bytes are stored in pieces and come back whole.
    let photo = file("jpeg", 3 * 512 * 1024 + 17);
    let req = app
        .request(Method::POST, &format!("{}?kind=photo", evidence_path(&e)), Some(&w.youth_organiser))
        .header("content-type", "image/jpeg")
        .header("content-disposition", "attachment; filename*=UTF-8''%D1%82%D1%96%D1%80%D0%BA%D0%B5%D1%83.jpg")
        .body(photo.clone());
    let r = app.send(req).await.expect(201);
    let added = r.json();
    assert_eq!(added["kind"], "photo");
    assert_eq!(added["media_type"], "image/jpeg");
    assert_eq!(added["size"], photo.len());
    assert_eq!(added["sha256"], sha256(&photo));
    assert_eq!(added["filename"], "тіркеу.jpg");
    assert_eq!(r.header("location").as_deref(), added["url"].as_str());

    let got = app.send(app.request(Method::GET, added["url"].as_str().unwrap(), Some(&w.youth_organiser))).await;
    assert_eq!(got.status.as_u16(), 200);
    assert_eq!(got.header("content-type").as_deref(), Some("image/jpeg"));
    assert_eq!(got.header("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(got.header("cache-control").as_deref(), Some("no-store"), "a photo of people is not cached");
    let disposition = got.header("content-disposition").unwrap();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(disposition.contains("filename*=UTF-8''%D1%82%D1%96"), "{disposition}");
    let bytes = app
        .client
        .get(app.url(added["url"].as_str().unwrap()))
        .bearer_auth(&w.youth_organiser)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.len(), photo.len());
    assert!(bytes[..] == photo[..], "the bytes downloaded are the bytes sent");

    // PNG and PDF too; each named by what its bytes are.
    upload(&app, &w.youth_organiser, &e, "sign_in_sheet", "image/png", file("png", 2048)).await.expect(201);
    upload(&app, &w.youth_organiser, &e, "programme", "application/pdf", file("pdf", 4096)).await.expect(201);

    // A renamed executable, a PNG sent as a JPEG, a type not taken, nothing at all: 415.
    for (media, body) in [
        ("image/jpeg", file("exe", 4096)),
        ("image/jpeg", file("png", 4096)),
        ("application/pdf", file("exe", 4096)),
        ("image/gif", b"GIF89a\x01\0\x01\0".to_vec()),
        ("application/octet-stream", file("jpeg", 1024)),
        ("image/png", Vec::new()),
    ] {
        let r = upload(&app, &w.youth_organiser, &e, "photo", media, body).await.expect(415);
        assert_eq!(r.header("content-type").as_deref(), Some("application/problem+json"), "{media}");
    }
    // The kind is required for a file, and a known one.
    let r = app
        .send(
            app.request(Method::POST, &evidence_path(&e), Some(&w.youth_organiser))
                .header("content-type", "image/jpeg")
                .body(file("jpeg", 100)),
        )
        .await
        .expect(422);
    assert_eq!(codes(&r.json()), [("kind".to_string(), "required".to_string())]);
    upload(&app, &w.youth_organiser, &e, "selfie", "image/jpeg", file("jpeg", 100)).await.expect(400);

    // 10 MiB is taken; a byte more is not, and is refused before it is stored.
    upload(&app, &w.youth_organiser, &e, "photo", "image/jpeg", file("jpeg", 10 * MIB)).await.expect(201);
    upload(&app, &w.youth_organiser, &e, "photo", "image/jpeg", file("jpeg", 10 * MIB + 1)).await.expect(413);

    let listed = app.get(&evidence_path(&e), &w.youth_organiser).await.expect(200).json();
    let sizes: Vec<i64> = listed["items"].as_array().unwrap().iter().map(|i| i["size"].as_i64().unwrap()).collect();
    assert_eq!(sizes, [photo.len() as i64, 2048, 4096, 10 * MIB as i64], "what was refused was not kept");
    assert_eq!(read(&app, &w.admin, &e).await["evidence_count"], 4);
}
both_stores!(files_are_what_their_bytes_are_and_download_as_they_were_sent);

async fn links_are_checked_and_an_event_holds_twenty_pieces(app: TestApp) {
    let w = world(&app).await;
    let e = held(&app, &w, json!({})).await;
    let r = link(&app, &w.youth_organiser, &e, 0).await.expect(201);
    let added = r.json();
    assert_eq!(added["url"], "https://akimat.example.kz/news/0");
    assert_eq!(
        (added["media_type"].clone(), added["size"].clone(), added["sha256"].clone()),
        (Value::Null, Value::Null, Value::Null)
    );
    // A link has no file to download.
    let path = format!("{}/{}", evidence_path(&e), id(&added));
    app.get(&path, &w.youth_organiser).await.expect(409);

    for url in ["javascript:alert(1)", "/relative/path", "ftp://akimat.example.kz/a"] {
        let r =
            app.post(&evidence_path(&e), &w.youth_organiser, &json!({"kind": "press", "url": url})).await.expect(422);
        assert_eq!(codes(&r.json()), [("url".to_string(), "format".to_string())], "{url}");
    }
    let long = format!("https://akimat.example.kz/{}", "a".repeat(2000));
    app.post(&evidence_path(&e), &w.youth_organiser, &json!({"kind": "press", "url": long})).await.expect(422);
    let r = app
        .post(&evidence_path(&e), &w.youth_organiser, &json!({"kind": "press", "url": "https://x.example", "note": 1}))
        .await
        .expect(422);
    assert_eq!(codes(&r.json())[0].0, "note", "an unknown member is named");

    for n in 1..20 {
        link(&app, &w.youth_organiser, &e, n).await.expect(201);
    }
    let r = link(&app, &w.youth_organiser, &e, 20).await.expect(422);
    assert_eq!(codes(&r.json()), [("evidence".to_string(), "limit".to_string())]);
    upload(&app, &w.youth_organiser, &e, "photo", "image/jpeg", file("jpeg", 100)).await.expect(422);
    // Removing one makes room again.
    app.send(app.request(Method::DELETE, &path, Some(&w.youth_organiser))).await.expect(204);
    app.get(&path, &w.youth_organiser).await.expect(404);
    link(&app, &w.youth_organiser, &e, 21).await.expect(201);
    assert_eq!(read(&app, &w.admin, &e).await["evidence_count"], 20);
}
both_stores!(links_are_checked_and_an_event_holds_twenty_pieces);

async fn only_the_events_departments_verifiers_and_admins_see_evidence(app: TestApp) {
    let w = world(&app).await;
    let l = legal(&app, &w).await;
    let other = app.create_department(&w.admin, "district-akimat").await;
    let outsider = app.token_for(&w.admin, "district-org", id(&other), "organiser").await;
    let e = held(&app, &w, json!({})).await;
    let added =
        upload(&app, &w.youth_organiser, &e, "photo", "image/jpeg", file("jpeg", 1000)).await.expect(201).json();
    let file_path = added["url"].as_str().unwrap().to_string();
    let list = evidence_path(&e);

    // The partner department adds and reads; an uninvolved organiser does neither.
    upload(&app, &w.policy_organiser, &e, "programme", "application/pdf", file("pdf", 500)).await.expect(201);
    app.get(&list, &w.policy_organiser).await.expect(200);
    upload(&app, &outsider, &e, "photo", "image/jpeg", file("jpeg", 100)).await.expect(403);
    app.get(&list, &outsider).await.expect(403);
    app.get(&file_path, &outsider).await.expect(403);
    app.send(app.request(Method::DELETE, &file_path, Some(&outsider))).await.expect(403);
    // A viewer reads events, never the photos of the people at them.
    app.get(&list, &l.viewer).await.expect(403);
    app.get(&file_path, &l.viewer).await.expect(403);
    // A verifier reads what it checks, and adds nothing (it has no attendees:write).
    assert_eq!(app.get(&list, &l.verifier).await.expect(200).json()["items"].as_array().unwrap().len(), 2);
    app.get(&file_path, &l.verifier).await.expect(200);
    upload(&app, &l.verifier, &e, "photo", "image/jpeg", file("jpeg", 100)).await.expect(403);
    // Admins read everything; nobody reads without a token.
    app.get(&file_path, &w.admin).await.expect(200);
    app.send(app.request(Method::GET, &file_path, None)).await.expect(401);
    app.send(app.request(Method::GET, &list, None)).await.expect(401);
    // Another event's id in the path does not reach this file.
    let other_event = held(&app, &w, json!({})).await;
    app.get(&format!("{}/{}", evidence_path(&other_event), id(&added)), &w.youth_organiser).await.expect(404);
    // An unknown event is 404 whoever asks.
    app.get("/api/v1/events/00000000-0000-0000-0000-000000000000/evidence", &w.admin).await.expect(404);
}
both_stores!(only_the_events_departments_verifiers_and_admins_see_evidence);

async fn the_audit_trail_hashes_the_bytes_that_are_downloaded(app: TestApp) {
    let w = world(&app).await;
    let e = held(&app, &w, json!({})).await;
    let sheet = file("png", 700_000);
    let added = upload(&app, &w.youth_organiser, &e, "sign_in_sheet", "image/png", sheet).await.expect(201).json();
    let downloaded =
        app.client.get(app.url(added["url"].as_str().unwrap())).bearer_auth(&w.admin).send().await.unwrap();
    let digest = downloaded.headers()["repr-digest"].to_str().unwrap().to_string();
    let bytes = downloaded.bytes().await.unwrap();
    let entries = app.audit_entries(&w.admin).await;
    let entry = entries.iter().find(|a| a["action"] == "evidence.add").expect("an evidence.add entry");
    assert_eq!(entry["entity"], "event");
    assert_eq!(entry["entity_id"], e["id"], "audited under the event");
    assert_eq!(entry["changes"]["evidence_id"], added["id"]);
    assert_eq!(entry["changes"]["sha256"].as_str(), Some(sha256(&bytes).as_str()));
    use base64::Engine;
    let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&bytes));
    assert_eq!(digest, format!("sha-256=:{expected}:"), "the download carries its digest");
    // And the chain over it still verifies.
    let report = app.get("/api/v1/audit/verify", &w.admin).await.expect(200).json();
    assert_eq!(report["ok"], true, "{report}");

    let path = added["url"].as_str().unwrap();
    app.send(app.request(Method::DELETE, path, Some(&w.youth_organiser))).await.expect(204);
    let entries = app.audit_entries(&w.admin).await;
    let removed = entries.iter().find(|a| a["action"] == "evidence.remove").expect("an evidence.remove entry");
    assert_eq!(removed["changes"]["sha256"], added["sha256"]);
    // No photo's bytes nor a file name reach the audit trail.
    assert!(entries.iter().all(|a| !a["changes"].to_string().contains("filename")));
}
both_stores!(the_audit_trail_hashes_the_bytes_that_are_downloaded);

async fn only_an_uninvolved_department_verifies_a_held_event(app: TestApp) {
    let w = world(&app).await;
    let l = legal(&app, &w).await;
    let youth_coordinator = app.token_for(&w.admin, "youth-coordinator", &w.youth, "coordinator").await;
    let policy_coordinator = app.token_for(&w.admin, "policy-coordinator", &w.policy, "coordinator").await;
    let e = held(&app, &w, json!({})).await;
    let ok = json!({"status": "verified", "note": "Тіркеу парағы сәйкес"});

    // The lead and the partner may not check their own event; an organiser has no events:verify.
    verify(&app, &youth_coordinator, &e, ok.clone()).await.expect(403);
    verify(&app, &policy_coordinator, &e, ok.clone()).await.expect(403);
    verify(&app, &w.youth_organiser, &e, ok.clone()).await.expect(403);
    verify(&app, &l.viewer, &e, ok.clone()).await.expect(403);
    // Only for a held event; with the current ETag; a rejection says why.
    let planned = create(&app, &w.youth_organiser, &event(json!({}))).await;
    let r = verify(&app, &l.verifier, &planned, ok.clone()).await.expect(422);
    assert_eq!(codes(&r.json()), [("status".to_string(), "not_held".to_string())]);
    let stale = json!({"version": 0, "id": e["id"]});
    verify(&app, &l.verifier, &stale, ok.clone()).await.expect(412);
    let no_if_match = app.request(Method::PUT, &format!("/api/v1/events/{}/verification", id(&e)), Some(&l.verifier));
    app.send(no_if_match.json(&ok)).await.expect(428);
    let r = verify(&app, &l.verifier, &e, json!({"status": "rejected"})).await.expect(422);
    assert_eq!(codes(&r.json()), [("note".to_string(), "required".to_string())]);
    verify(&app, &l.verifier, &e, json!({"status": "approved"})).await.expect(422);

    let r = verify(&app, &l.verifier, &e, ok.clone()).await.expect(200);
    let after = r.json();
    assert_eq!(r.header("etag"), Some(etag(&after)));
    assert_eq!(after["version"], e["version"].as_i64().unwrap() + 1, "verifying changes the event's version");
    assert_eq!(after["verification"]["status"], "verified");
    assert_eq!(after["verification"]["note"], "Тіркеу парағы сәйкес");
    assert!(after["verification"]["at"].is_string());
    let me = app.get("/api/v1/auth/me", &l.verifier).await.expect(200).json();
    assert_eq!(after["verification"]["by"], me["id"]);
    // An admin outside the event verifies too (here: rejects, with the new ETag).
    let rejected =
        verify(&app, &w.admin, &after, json!({"status": "rejected", "note": "Фото жоқ"})).await.expect(200).json();
    assert_eq!(rejected["verification"]["status"], "rejected");
    // The list filters by it.
    let list = app.get("/api/v1/events?verification=rejected", &w.admin).await.expect(200).json();
    let ids: Vec<&str> = list["items"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(ids, [id(&e)]);
    let entries = app.audit_entries(&w.admin).await;
    let verified: Vec<&Value> = entries.iter().filter(|a| a["action"] == "event.verify").collect();
    assert_eq!(verified.len(), 2);
    assert_eq!(verified[1]["changes"]["verification"]["to"]["status"], "rejected");
}
both_stores!(only_an_uninvolved_department_verifies_a_held_event);

/// Verifies `e` afresh, as the legal-support verifier.
async fn verified(app: &TestApp, verifier: &str, e: &Value) -> Value {
    let now = read(app, verifier, e).await;
    let after = verify(app, verifier, &now, json!({"status": "verified"})).await.expect(200).json();
    assert_eq!(after["verification"]["status"], "verified");
    after
}

async fn any_later_change_returns_a_verified_event_to_unverified(app: TestApp) {
    let w = world(&app).await;
    let l = legal(&app, &w).await;
    let e = held(&app, &w, json!({})).await;
    let ev = format!("/api/v1/events/{}", id(&e));
    let unverified =
        |v: &Value| v["verification"] == json!({"status": "unverified", "by": null, "at": null, "note": null});

    // A field: moving it to another period.
    let v = verified(&app, &l.verifier, &e).await;
    let moved = app
        .patch(
            &ev,
            &w.youth_organiser,
            &etag(&v),
            &json!({"starts_at": "2024-12-14T15:00:00+05:00", "ends_at": "2024-12-14T17:00:00+05:00"}),
        )
        .await
        .expect(200)
        .json();
    assert!(unverified(&moved), "{}", moved["verification"]);
    // Its attendance: inflating it.
    let v = verified(&app, &l.verifier, &e).await;
    let inflated = record(&app, &w.youth_organiser, &v, json!({"total": 4000, "basis": "estimate"})).await;
    assert!(unverified(&inflated));
    // Its attendees: one added (the total stays above them), then one removed.
    verified(&app, &l.verifier, &e).await;
    let added = app
        .post(&format!("{ev}/attendees"), &w.youth_organiser, &json!({"attendees": [{"full_name": "Дана Серікқызы"}]}))
        .await
        .expect(201)
        .json();
    assert!(unverified(&read(&app, &w.admin, &e).await), "an attendee added");
    verified(&app, &l.verifier, &e).await;
    let attendee = format!("{ev}/attendees/{}", added["attendees"][0]["id"].as_str().unwrap());
    app.send(app.request(Method::DELETE, &attendee, Some(&w.youth_organiser))).await.expect(204);
    assert!(unverified(&read(&app, &w.admin, &e).await), "an attendee removed");
    // Its evidence: added; and a verified event's evidence cannot be removed.
    verified(&app, &l.verifier, &e).await;
    let photo = upload(&app, &w.youth_organiser, &e, "photo", "image/jpeg", file("jpeg", 100)).await.expect(201).json();
    assert!(unverified(&read(&app, &w.admin, &e).await), "evidence added");
    verified(&app, &l.verifier, &e).await;
    let photo_path = photo["url"].as_str().unwrap();
    let r = app.send(app.request(Method::DELETE, photo_path, Some(&w.youth_organiser))).await.expect(422);
    assert_eq!(codes(&r.json()), [("verification".to_string(), "verified".to_string())]);
    // Its partners, changed by an admin.
    let v = verified(&app, &l.verifier, &e).await;
    let alone = app.patch(&ev, &w.admin, &etag(&v), &json!({"partner_department_ids": []})).await.expect(200).json();
    assert!(unverified(&alone));
    // A rejected event's evidence may be put right, which also returns it to unverified.
    let now = read(&app, &w.admin, &e).await;
    verify(&app, &l.verifier, &now, json!({"status": "rejected", "note": "Фото бұлыңғыр"})).await.expect(200);
    app.send(app.request(Method::DELETE, photo_path, Some(&w.youth_organiser))).await.expect(204);
    assert!(unverified(&read(&app, &w.admin, &e).await), "evidence removed");

    // A request that changes nothing undoes nothing: an empty patch, the same attendance again.
    let now = read(&app, &w.admin, &e).await;
    let rejected =
        verify(&app, &l.verifier, &now, json!({"status": "rejected", "note": "40, не 400"})).await.expect(200).json();
    let same = app.patch(&ev, &w.youth_organiser, &etag(&rejected), &json!({})).await.expect(200).json();
    assert_eq!(same["verification"]["status"], "rejected");
    assert_eq!(same["version"], rejected["version"]);
    let again = record(&app, &w.youth_organiser, &same, same["attendance"].clone()).await;
    assert_eq!(again["verification"]["status"], "rejected", "the same attendance sent again");
    // Erasing a person from it is a change of its attendees.
    let person = crate::attendees::iin(77);
    app.post(
        &format!("{ev}/attendees"),
        &w.youth_organiser,
        &json!({"attendees": [{"full_name": "Әсем", "iin": person}]}),
    )
    .await
    .expect(201);
    verified(&app, &l.verifier, &e).await;
    app.post("/api/v1/attendees/erasure", &w.admin, &json!({"iin": person})).await.expect(200);
    assert!(unverified(&read(&app, &w.admin, &e).await), "a person erased");

    // Each reset is in the audit trail, saying what it undid.
    let entries = app.audit_entries(&w.admin).await;
    let resets: Vec<&str> = entries
        .iter()
        .filter(|a| {
            let v = &a["changes"]["verification"];
            !v["from"].is_null() && (v["to"] == "unverified" || v["to"]["status"] == "unverified")
        })
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        resets,
        [
            "event.update",
            "attendance.record",
            "attendees.add",
            "attendees.remove",
            "evidence.add",
            "event.update",
            "evidence.remove",
            "attendees.add"
        ]
    );
}
both_stores!(any_later_change_returns_a_verified_event_to_unverified);

fn flags(v: &Value) -> Vec<&str> {
    v["flags"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect()
}

async fn flagged_ids(app: &TestApp, token: &str, flag: &str) -> Vec<String> {
    let page = app.get(&format!("/api/v1/events?flag={flag}&limit=200"), token).await.expect(200).json();
    page["items"].as_array().unwrap().iter().map(|e| id(e).to_string()).collect()
}

/// Sets an event's `created_at`, as a write long after the event would have.
fn created_at(app: &TestApp, e: &Value, at: &str) {
    let mut conn = app.store.connect();
    conn.batch_execute(&format!("UPDATE events SET created_at = '{at}' WHERE id = '{}'", id(e))).unwrap();
}

async fn each_flag_starts_just_past_its_boundary(app: TestApp) {
    let w = world(&app).await;
    // Ends 2024-03-14 12:00 UTC; planned 60.
    let twice = held(&app, &w, json!({"attendance": {"total": 120, "basis": "headcount"}})).await;
    let over = held(&app, &w, json!({"attendance": {"total": 121, "basis": "headcount"}})).await;
    let unplanned =
        held(&app, &w, json!({"planned_participants": 0, "attendance": {"total": 5000, "basis": "headcount"}})).await;
    let estimate = held(&app, &w, json!({"attendance": {"total": 30, "basis": "estimate"}})).await;
    let planned = create(&app, &w.youth_organiser, &event(json!({}))).await;
    for e in [&twice, &over, &unplanned, &estimate] {
        upload(&app, &w.youth_organiser, e, "photo", "image/jpeg", file("jpeg", 64)).await.expect(201);
    }
    // Logged exactly 30 days after it ended, and a second later.
    for e in [&twice, &over, &unplanned, &estimate, &planned] {
        created_at(&app, e, "2024-04-13 12:00:00");
    }
    let bare = held(&app, &w, json!({})).await;
    let late = held(&app, &w, json!({})).await;
    created_at(&app, &bare, "2024-03-20 12:00:00");
    created_at(&app, &late, "2024-04-13 12:00:01");
    upload(&app, &w.youth_organiser, &late, "photo", "image/jpeg", file("jpeg", 64)).await.expect(201);

    let token = &w.admin;
    assert_eq!(flags(&read(&app, token, &twice).await), Vec::<&str>::new(), "twice planned exactly, 30 days exactly");
    assert_eq!(flags(&read(&app, token, &over).await), ["attendance_above_planned"]);
    assert_eq!(flags(&read(&app, token, &unplanned).await), Vec::<&str>::new(), "nothing planned, nothing exceeded");
    assert_eq!(flags(&read(&app, token, &estimate).await), ["estimate_only"]);
    assert_eq!(flags(&read(&app, token, &planned).await), Vec::<&str>::new(), "only a held event needs evidence");
    assert_eq!(flags(&read(&app, token, &bare).await), ["no_evidence"]);
    assert_eq!(flags(&read(&app, token, &late).await), ["logged_late"]);
    // The list's filter, computed by the store, agrees at every boundary.
    assert_eq!(flagged_ids(&app, token, "attendance_above_planned").await, [id(&over)]);
    assert_eq!(flagged_ids(&app, token, "estimate_only").await, [id(&estimate)]);
    assert_eq!(flagged_ids(&app, token, "no_evidence").await, [id(&bare)]);
    assert_eq!(flagged_ids(&app, token, "logged_late").await, [id(&late)]);
    // Any flag, or none; an event with no plan at all (a null the conditions meet) has none.
    let no_plan = held(&app, &w, json!({"planned_participants": null})).await;
    upload(&app, &w.youth_organiser, &no_plan, "photo", "image/jpeg", file("jpeg", 64)).await.expect(201);
    created_at(&app, &no_plan, "2024-03-20 12:00:00");
    let any = |flagged: bool| {
        let app = &app;
        async move {
            let page = app.get(&format!("/api/v1/events?flagged={flagged}&limit=200"), token).await.expect(200).json();
            let mut ids: Vec<String> = page["items"].as_array().unwrap().iter().map(|e| id(e).to_string()).collect();
            ids.sort();
            ids
        }
    };
    let mut with: Vec<String> = [&over, &estimate, &bare, &late].iter().map(|e| id(e).to_string()).collect();
    let mut without: Vec<String> = [&twice, &unplanned, &planned, &no_plan].iter().map(|e| id(e).to_string()).collect();
    with.sort();
    without.sort();
    assert_eq!(any(true).await, with);
    assert_eq!(any(false).await, without);
    app.get("/api/v1/events?flag=suspicious", token).await.expect(400);
    app.get("/api/v1/events?verification=maybe", token).await.expect(400);
}
both_stores!(each_flag_starts_just_past_its_boundary);

async fn reports_count_verified_and_flagged_events_beside_the_totals(app: TestApp) {
    let w = world(&app).await;
    let l = legal(&app, &w).await;
    // The youth centre: three held events (one verified with evidence, one estimate-only, one
    // bare) and a planned one; the policy department: one held, verified, with evidence.
    let a = held(&app, &w, json!({"attendance": {"total": 50, "basis": "sign_in_sheet"}})).await;
    let b = held(&app, &w, json!({"attendance": {"total": 70, "basis": "estimate"}})).await;
    let c = held(&app, &w, json!({"attendance": {"total": 25, "basis": "headcount"}})).await;
    create(&app, &w.youth_organiser, &event(json!({}))).await;
    let d =
        create(&app, &w.policy_organiser, &event(json!({"attendance": {"total": 33, "basis": "sign_in_sheet"}}))).await;
    for e in [&a, &b, &d] {
        upload(&app, &w.admin, e, "photo", "image/jpeg", file("jpeg", 64)).await.expect(201);
    }
    // Logged in time, so only the flags above count.
    for e in [&a, &b, &c, &d] {
        created_at(&app, e, "2024-03-15 09:00:00");
    }
    verified(&app, &l.verifier, &a).await;
    verified(&app, &l.verifier, &d).await;
    let v = verified(&app, &l.verifier, &c).await;
    verify(&app, &l.verifier, &v, json!({"status": "rejected", "note": "Дәлел жоқ"})).await.expect(200);

    // The oracle: recount from the events themselves.
    let page = app.get("/api/v1/events?limit=200&status=held", &w.admin).await.expect(200).json();
    let events = page["items"].as_array().unwrap();
    let count = |lead: Option<&str>| {
        let mine: Vec<&Value> = events.iter().filter(|e| lead.is_none_or(|l| e["lead_department_id"] == l)).collect();
        let verified: Vec<&&Value> = mine.iter().filter(|e| e["verification"]["status"] == "verified").collect();
        (
            verified.len() as i64,
            verified.iter().map(|e| e["attendance"]["total"].as_i64().unwrap()).sum::<i64>(),
            mine.iter().filter(|e| !e["flags"].as_array().unwrap().is_empty()).count() as i64,
        )
    };
    assert_eq!(count(None), (2, 83, 2), "the recount itself: a and d verified; b and c flagged");
    let figures = |v: &Value| {
        (
            v["events_verified"].as_i64().unwrap(),
            v["participants_verified"].as_i64().unwrap(),
            v["events_flagged"].as_i64().unwrap(),
        )
    };
    let s = app.get("/api/v1/reports/summary?from=2024-01-01&to=2024-12-31", &l.verifier).await.expect(200).json();
    assert_eq!(figures(&s), count(None));
    for row in s["by_department"].as_array().unwrap() {
        assert_eq!(figures(row), count(row["department_id"].as_str()), "{}", row["code"]);
    }
    let d = app.get("/api/v1/reports/departments?from=2024-01-01&to=2024-12-31", &l.verifier).await.expect(200).json();
    for row in d["items"].as_array().unwrap() {
        assert_eq!(figures(row), count(row["department_id"].as_str()), "{}", row["code"]);
    }
    // In every export format: the summary's long CSV and its workbook, and the departments' CSV.
    let csv = app
        .send(app.request(
            Method::GET,
            "/api/v1/reports/summary?from=2024-01-01&to=2024-12-31&format=csv",
            Some(&w.admin),
        ))
        .await
        .expect(200)
        .text;
    assert!(csv.lines().any(|l| l == "total,events_verified,2,,83"), "{csv}");
    assert!(csv.lines().any(|l| l == "total,events_flagged,2,,"), "{csv}");
    assert!(csv.lines().any(|l| l == "verified,youth-centre,1,,50"), "{csv}");
    assert!(csv.lines().any(|l| l == "flagged,youth-centre,2,,"), "{csv}");
    let departments_csv = app
        .send(app.request(
            Method::GET,
            "/api/v1/reports/departments?from=2024-01-01&to=2024-12-31&format=csv",
            Some(&w.admin),
        ))
        .await
        .expect(200)
        .text;
    let header: Vec<&str> = departments_csv.lines().next().unwrap().split(',').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no {name} column"));
    let youth_row: Vec<&str> =
        departments_csv.lines().find(|l| l.contains("youth-centre")).unwrap().split(',').collect();
    assert_eq!(
        (youth_row[at("events_verified")], youth_row[at("participants_verified")], youth_row[at("events_flagged")]),
        ("1", "50", "2")
    );
    let xlsx = app
        .client
        .get(app.url("/api/v1/reports/summary?from=2024-01-01&to=2024-12-31&format=xlsx&lang=ru"))
        .bearer_auth(&w.admin)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    use calamine::Reader;
    let book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.to_vec())).unwrap();
    let names = book.sheet_names().to_vec();
    assert!(names.iter().any(|n| n == "Проверено") && names.iter().any(|n| n == "Отмечено"), "{names:?}");
}
both_stores!(reports_count_verified_and_flagged_events_beside_the_totals);

async fn a_retried_upload_is_replayed_not_stored_twice(app: TestApp) {
    let w = world(&app).await;
    let e = held(&app, &w, json!({})).await;
    let photo = file("jpeg", 600_000);
    let send = || {
        app.request(Method::POST, &format!("{}?kind=photo", evidence_path(&e)), Some(&w.youth_organiser))
            .header("content-type", "image/jpeg")
            .header("idempotency-key", "3f0c9a1e-photo-retry")
            .body(photo.clone())
    };
    let first = app.send(send()).await.expect(201);
    let again = app.send(send()).await.expect(201);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.json(), first.json(), "the first answer, replayed");
    let listed = app.get(&evidence_path(&e), &w.youth_organiser).await.expect(200).json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "stored once");
    assert_eq!(read(&app, &w.admin, &e).await["evidence_count"], 1);
    // The same key with another file is not a retry.
    let other = app
        .request(Method::POST, &format!("{}?kind=photo", evidence_path(&e)), Some(&w.youth_organiser))
        .header("content-type", "image/jpeg")
        .header("idempotency-key", "3f0c9a1e-photo-retry")
        .body(file("jpeg", 600_001));
    let refused = app.send(other).await.expect(422).json();
    assert_eq!(codes(&refused), [("Idempotency-Key".to_string(), "reused".to_string())]);
}
both_stores!(a_retried_upload_is_replayed_not_stored_twice);

/// Photos are personal data: the real binary, logging at `debug`, writes neither a file's bytes nor
/// its name, whether the upload is taken or refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_photo_nor_its_name_reaches_the_log() {
    let store = crate::helpers::TestStore::create(crate::helpers::Backend::Sqlite).expect("SQLite always runs");
    let server = crate::process::ServerProcess::start_with(&store, "evidence-log", &[("ADAL_LOG", "debug")]).await;
    let client = reqwest::Client::new();
    let admin = server.admin_token(&client).await;
    let create = client.post(server.url("/api/v1/events")).bearer_auth(&admin).json(&event(json!({
        "attendance": {"total": 12, "basis": "headcount"}
    })));
    let e = crate::process::send(create).await.expect(201).json();
    let marker = "Айгүл-Нұрланқызы-бет-әлпеті";
    let name = format!("attachment; filename*=UTF-8''{}.jpg", percent(marker));
    for (media, head) in [("image/jpeg", &[0xFF, 0xD8, 0xFF, 0xE0][..]), ("image/jpeg", &b"MZ\x90\0"[..])] {
        let body = [head, marker.as_bytes()].concat();
        let req = client
            .post(server.url(&format!("{}?kind=photo", evidence_path(&e))))
            .bearer_auth(&admin)
            .header("content-type", media)
            .header("content-disposition", &name)
            .body(body);
        crate::process::send(req).await;
    }
    let listed = crate::process::send(client.get(server.url(&evidence_path(&e))).bearer_auth(&admin)).await;
    assert_eq!(listed.json()["items"][0]["filename"], format!("{marker}.jpg"), "the name is kept where it belongs");
    let log = server.log();
    assert!(log.contains("/evidence"), "the uploads were logged as requests:\n{log}");
    assert!(!log.contains(marker) && !log.contains(&percent(marker)), "a photo's name or bytes in the log:\n{log}");
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b == b'-' { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
