//! Webhook subscriptions' rules, once: who may see and change one (its principal, or an admin),
//! how many one principal may hold, which types it may ask for, and the secret's life.

use serde_json::{Value, json};

use super::model::{EventType, MAX_SUBSCRIPTIONS, SubscriptionResponse, SubscriptionUpdate, description, types_text};
use super::store::{self, SubscriptionRow};
use super::{outbox, secret, ssrf};
use crate::auth::{Principal, Scope, ScopeSet};
use crate::config::Secret;
use crate::error::{ApiError, FieldError};
use crate::http::etag::IfMatch;
use crate::http::merge_patch;
use crate::store::DbConnection;
use crate::write::{self, Change, Tx};

/// How long a replaced secret keeps signing beside the new one.
pub const PREVIOUS_SECRET_LIFE: chrono::Duration = chrono::Duration::hours(24);

/// A subscription about to be made, its URL already checked where it leads.
pub struct NewSubscription {
    pub url: String,
    pub event_types: Vec<EventType>,
    pub description: String,
    /// Why the URL's host may not be reached, found before the transaction.
    pub refused: Option<FieldError>,
}

/// 422 unless a principal with `scopes` may read what `types` carry (an empty list is every type).
fn check_types(scopes: ScopeSet, types: &[EventType]) -> Option<FieldError> {
    let reads_records = types.is_empty() || types.iter().any(|t| *t != EventType::WebhookTest);
    (reads_records && !scopes.contains(Scope::EventsRead)).then(|| {
        FieldError::new(
            "event_types",
            "scope",
            "the subscription's principal lacks events:read, so it may subscribe to webhook.test only",
        )
    })
}

/// The form of a URL, as a field error.
fn check_url(url: &str) -> Option<FieldError> {
    ssrf::parse(url).err().map(|r| FieldError::new("url", "format", r.0))
}

/// The subscription `id` if `principal` may see it: its own, or any for an admin.
fn find_visible(conn: &mut DbConnection, principal: &Principal, id: &str) -> Result<Option<SubscriptionRow>, ApiError> {
    Ok(store::find(conn, id)?.filter(|s| principal.is_admin() || s.owner_id == principal.id))
}

/// The subscription `id` as `principal` may see it; else 404.
pub fn visible(conn: &mut DbConnection, principal: &Principal, id: &str) -> Result<SubscriptionRow, ApiError> {
    find_visible(conn, principal, id)?.ok_or(ApiError::NotFound)
}

pub fn create(
    tx: &mut Tx<'_>,
    principal: &Principal,
    new: &NewSubscription,
    key: &Secret,
) -> Result<(SubscriptionResponse, String), ApiError> {
    let mut errors: Vec<FieldError> = check_url(&new.url).or_else(|| new.refused.clone()).into_iter().collect();
    let description = description(&new.description).map_err(|e| errors.push(e)).unwrap_or_default();
    errors.extend(check_types(principal.scopes, &new.event_types));
    if store::count_owned(tx.conn(), &principal.id)? >= MAX_SUBSCRIPTIONS {
        errors.push(FieldError::new(
            "url",
            "limit",
            format!("a principal may hold at most {MAX_SUBSCRIPTIONS} subscriptions; delete one first"),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let id = crate::store::new_id();
    let plain = secret::generate();
    let now = crate::store::now();
    let row = store::insert(
        tx.conn(),
        &SubscriptionRow {
            id: id.clone(),
            owner_id: principal.id.clone(),
            url: new.url.clone(),
            event_types: types_text(&new.event_types),
            description,
            active: true,
            disabled_reason: None,
            secret: secret::seal(key, &id, &plain),
            previous_secret: None,
            previous_secret_until: None,
            failing_since: None,
            version: 1,
            created_at: now,
            updated_at: now,
        },
    )?;
    let subscription = SubscriptionResponse::from(row);
    tx.created("webhook.create", "webhook", &id, &subscription)?;
    Ok((subscription, plain))
}

/// A merge patch of the subscription `id`, as of the version `if_match` names. A URL it sets was
/// checked where it leads before the transaction began (`refused` says why not).
pub fn update(
    tx: &mut Tx<'_>,
    principal: &Principal,
    id: &str,
    if_match: &IfMatch,
    patch: &Value,
    refused: Option<FieldError>,
) -> Result<SubscriptionResponse, ApiError> {
    let found = find_visible(tx.conn(), principal, id)?.map(SubscriptionResponse::from);
    let before = write::current(found, if_match, |_| Ok(()))?;
    let next: SubscriptionUpdate = merge_patch::patched(&SubscriptionUpdate::from_current(&before), patch)?;
    let mut errors: Vec<FieldError> = check_url(&next.url).or(refused).into_iter().collect();
    let description = description(&next.description).map_err(|e| errors.push(e)).unwrap_or_default();
    let owner = crate::auth::store::principal_state(tx.conn(), &before.principal_id)?;
    match &owner {
        Some(state) => errors.extend(check_types(state.scopes, &next.event_types)),
        None if next.active => errors.push(FieldError::new(
            "active",
            "disabled",
            "the subscription's principal is deactivated; it cannot be switched on",
        )),
        None => {}
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    // Switched on again, it forgets why it was off; switched off by its manager, there is no reason
    // of the registry's to show.
    let disabled_reason = if next.active || before.active { None } else { before.disabled_reason.clone() };
    let change = store::Change {
        url: &next.url,
        event_types: &types_text(&next.event_types),
        description: &description,
        active: next.active,
        disabled_reason: disabled_reason.as_deref(),
        reactivated: next.active && !before.active,
    };
    let after = SubscriptionResponse::from(write::written(store::update(tx.conn(), id, before.version, &change)?)?);
    tx.updated("webhook.update", "webhook", id, &before, &after)?;
    Ok(after)
}

pub fn remove(tx: &mut Tx<'_>, principal: &Principal, id: &str, if_match: &IfMatch) -> Result<(), ApiError> {
    let found = find_visible(tx.conn(), principal, id)?.map(SubscriptionResponse::from);
    let before = write::current(found, if_match, |_| Ok(()))?;
    let removed = store::delete(tx.conn(), id, before.version)?;
    tx.removed("webhook.delete", "webhook", id, &before, removed)
}

/// Replaces the secret; the old one signs beside it for 24 hours, so a receiver can move to the
/// new one without missing a delivery. Answers the new secret.
pub fn rotate_secret(
    tx: &mut Tx<'_>,
    principal: &Principal,
    id: &str,
    key: &Secret,
) -> Result<(SubscriptionResponse, String), ApiError> {
    let before = visible(tx.conn(), principal, id)?;
    let plain = secret::generate();
    let until = crate::store::now() + PREVIOUS_SECRET_LIFE;
    let row = store::set_secret(tx.conn(), id, before.version, &secret::seal(key, id, &plain), &before.secret, until)?;
    let subscription = SubscriptionResponse::from(write::written(row)?);
    let details = json!({"secret": {"from": "[redacted]", "to": "[redacted]"}});
    tx.record(Change::new("webhook.secret_rotate", "webhook", Some(id)).at(subscription.version), details)?;
    Ok((subscription, plain))
}

/// Queues a `webhook.test` message for the subscription; answers its `webhook-id`.
pub fn test(tx: &mut Tx<'_>, principal: &Principal, id: &str) -> Result<String, ApiError> {
    let sub = visible(tx.conn(), principal, id)?;
    if !sub.active {
        return Err(ApiError::field("active", "disabled", "the subscription is switched off; switch it on first"));
    }
    // A test is delivered whatever the subscription's type filter says: it was asked for.
    let data = json!({"subscription_id": id});
    let message = outbox::message(
        id,
        EventType::WebhookTest,
        format!("webhook:{id}"),
        outbox::body(EventType::WebhookTest, &data),
    );
    let message_id = message.id.clone();
    store::insert_messages(tx.conn(), &[message])?;
    tx.audit("webhook.test", "webhook", Some(id), json!({"message_id": message_id}))?;
    Ok(message_id)
}

/// Queues again the subscription's messages created since `since` that gave up.
pub fn redeliver(
    tx: &mut Tx<'_>,
    principal: &Principal,
    id: &str,
    since: chrono::NaiveDateTime,
) -> Result<i64, ApiError> {
    visible(tx.conn(), principal, id)?;
    let queued = store::requeue_failed(tx.conn(), id, since)? as i64;
    tx.audit("webhook.redeliver", "webhook", Some(id), json!({"queued": queued}))?;
    Ok(queued)
}
