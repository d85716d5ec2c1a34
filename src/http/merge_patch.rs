//! JSON Merge Patch (RFC 7386): a `PATCH` body applied to the record's editable fields, so that
//! the result is checked by the same rules as a create.

use actix_web::dev::Payload;
use actix_web::web::Path;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::audit::Actor;
use crate::error::ApiError;
use crate::http::body::JsonBody;
use crate::http::etag::IfMatch;
use crate::http::write::{Outcome, WriteRequest};
use crate::version::Versioned;
use crate::write::Tx;

/// Applies `patch` to `target` as RFC 7386 says: objects merge, `null` removes, anything else
/// replaces.
pub fn apply(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let Value::Object(map) = target else { return };
    for (key, value) in patch {
        if value.is_null() {
            map.remove(key);
        } else {
            apply(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// Applies `patch` to the editable fields `current` and reads the result back as `T`, so a patched
/// record is checked by the same parser (unknown and missing fields, types) as a create.
pub fn patched<T: serde::Serialize + serde::de::DeserializeOwned + utoipa::ToSchema>(
    current: &T,
    patch: &Value,
) -> Result<T, ApiError> {
    let mut doc = serde_json::to_value(current).map_err(ApiError::internal)?;
    apply(&mut doc, patch);
    crate::http::body::from_value(doc)
}

/// A merge patch must be a JSON object.
pub fn require_object(patch: &Value) -> Result<(), ApiError> {
    if patch.is_object() { Ok(()) } else { Err(ApiError::field("", "type", "a merge patch must be a JSON object")) }
}

/// What a `PATCH` handler takes after the caller: the write (with its idempotency key), the path
/// (`P`, the resource's id or ids) and the merge patch, extracted in that order as separate
/// arguments would be, so the same request fails the same way.
pub struct MergePatch<P = String> {
    pub write: WriteRequest,
    pub path: P,
    pub body: JsonBody<Value>,
}

impl<P> MergePatch<P> {
    /// The preconditions every merge patch meets once the caller may make it: `If-Match` is
    /// present (428) and the patch is a JSON object (422). Answers the `If-Match`.
    pub fn precondition(&self) -> Result<IfMatch, ApiError> {
        let if_match = IfMatch::required(&self.write.req)?;
        require_object(&self.body.value)?;
        Ok(if_match)
    }

    /// Performs the patch as `actor`'s write: `apply` changes the record the path names, given the
    /// precondition and the patch, and the answer is the record as it now is, its version the ETag.
    pub async fn perform<R: Versioned>(
        self,
        actor: Actor,
        if_match: IfMatch,
        apply: impl FnOnce(&mut Tx<'_>, &P, &IfMatch, &Value) -> Result<R, ApiError> + Send + 'static,
    ) -> Result<HttpResponse, ApiError>
    where
        P: Send + 'static,
    {
        let MergePatch { write, path, body } = self;
        let patch = body.value;
        write.perform(actor, &body.raw, move |tx| Ok(Outcome::changed(&apply(tx, &path, &if_match, &patch)?))).await
    }
}

impl<P: DeserializeOwned + 'static> FromRequest for MergePatch<P> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let write = WriteRequest::from_request(req, payload);
        let path = Path::<P>::from_request(req, payload);
        let body = JsonBody::<Value>::from_request(req, payload);
        Box::pin(async move {
            let write = write.await?;
            let path = path.await?.into_inner();
            Ok(MergePatch { write, path, body: body.await? })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc_7386_examples_hold() {
        let mut doc = json!({"title": "Goodbye!", "author": {"givenName": "John", "familyName": "Doe"},
                             "tags": ["example", "sample"], "content": "This will be unchanged"});
        apply(
            &mut doc,
            &json!({"title": "Hello!", "phoneNumber": "+01-123-456-7890",
                                "author": {"familyName": null}, "tags": ["example"]}),
        );
        assert_eq!(
            doc,
            json!({"title": "Hello!", "author": {"givenName": "John"}, "tags": ["example"],
                               "content": "This will be unchanged", "phoneNumber": "+01-123-456-7890"})
        );
    }
}
