//! `GET /api/v1/registry`: what a console reads before anyone signs in.

use crate::both_stores;
use crate::helpers::{TestApp, TestStore};

async fn the_registry_names_its_time_zone_to_anyone_without_a_token(app: TestApp) {
    let store = TestStore::create(app.backend()).expect("store");
    let mut config = store.config();
    config.timezone = chrono_tz::Asia::Aqtobe;
    let aqtobe = TestApp::spawn_with(store, config).await;

    let reply = aqtobe.send(aqtobe.client.get(aqtobe.url("/api/v1/registry"))).await.expect(200);
    let body = reply.json();
    assert_eq!(body["name"], "Adal");
    assert_eq!(body["timezone"], "Asia/Aqtobe");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    // Public, so it must hold nothing else: a field added here is a decision, not an accident.
    let mut keys: Vec<&str> = body.as_object().expect("an object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["name", "timezone", "version"]);

    let default = app.send(app.client.get(app.url("/api/v1/registry"))).await.expect(200);
    assert_eq!(default.json()["timezone"], "Asia/Almaty");
}
both_stores!(the_registry_names_its_time_zone_to_anyone_without_a_token);
