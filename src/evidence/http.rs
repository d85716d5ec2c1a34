//! Evidence routes: add a file or a link, list, download, remove.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType, ExtendedValue};
use actix_web::web::{self, Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse, delete, get, post};
use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use super::domain::{self, NewEvidence, NewFile};
use super::model::{
    EvidenceKind, EvidenceList, EvidenceResponse, FileType, LinkInput, MAX_FILE, accepted_types, ascii_filename,
    clean_filename,
};
use super::store;
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, Problem};
use crate::http::body::{self, JsonBody};
use crate::http::doc::{NoSuchEvent, RetryRace};
use crate::http::query::Query;
use crate::http::write::{ChildRemoval, Outcome, WriteRequest};
use crate::state::AppState;

const PROBLEM: &str = "application/problem+json";

// Declared as a binary string so that clients generated from the document read and send bytes
// (`Vec<u8>` would declare an array of integers).
/// A file's bytes: a photo, a scan or a PDF, as its media type says.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct FileBytes(Vec<u8>);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AddQuery {
    /// What the file is; required for a file (a link names its kind in its body).
    pub kind: Option<EvidenceKind>,
}

/// The file name a request gave in `Content-Disposition`, if any (`filename*` first).
fn sent_filename(req: &HttpRequest) -> Option<String> {
    let cd = ContentDisposition::from_raw(req.headers().get(header::CONTENT_DISPOSITION)?).ok()?;
    let name = match cd.get_filename_ext() {
        Some(ext) => String::from_utf8_lossy(&ext.value).into_owned(),
        None => cd.get_filename()?.to_string(),
    };
    clean_filename(&name)
}

/// A file body checked: 415 unless its bytes are the JPEG, PNG or PDF it says it is.
fn check_file(declared: FileType, bytes: &[u8]) -> Result<(), ApiError> {
    match FileType::sniff(bytes) {
        Some(t) if t == declared => Ok(()),
        Some(t) => Err(ApiError::UnsupportedMediaType(
            format!("the file was sent as {} but its bytes are {}", declared.media_type(), t.media_type()).into(),
        )),
        None => Err(ApiError::UnsupportedMediaType(
            format!(
                "the file's bytes are not {}, whatever its name or type says; send a photo, a scan or a PDF",
                declared.media_type()
            )
            .into(),
        )),
    }
}

/// Add evidence
///
/// A file as the body — `image/jpeg`, `image/png` or `application/pdf`, at most 10 MiB, its type
/// checked against its own bytes (415 otherwise) — with `?kind=` and optionally its name in
/// `Content-Disposition` (`attachment; filename*=UTF-8''…`); or a link as JSON
/// `{"kind", "url"}`. An event holds at most 20 pieces. By the event's lead and partner
/// departments (or an admin), on any event not deleted. The event's version moves on (its
/// `evidence_count`, and perhaps its flags, change), and a verified or rejected event returns to
/// `unverified`. The audit entry, under the event, records the evidence id and the file's SHA-256.
#[utoipa::path(
    tag = "evidence",
    operation_id = "add_evidence",
    params(
        ("id" = String, Path, description = "Event id"),
        AddQuery,
        ("Content-Disposition" = Option<String>, Header, description = "The file's name: `attachment; filename*=UTF-8''…`"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body replays the first answer"),
    ),
    request_body(
        description = "A file (JPEG, PNG or PDF), or a link as JSON",
        content(
            (FileBytes = "image/jpeg"),
            (FileBytes = "image/png"),
            (FileBytes = "application/pdf"),
            (LinkInput = "application/json"),
        ),
    ),
    responses(
        (status = 201, description = "Added", body = EvidenceResponse,
            headers(("Location" = String, description = "The file's download path, or the event's evidence list for a link"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Needs attendees:write, and the lead or a partner department", body = Problem, content_type = PROBLEM),
        (status = 413, description = "Over 10 MiB", body = Problem, content_type = PROBLEM),
        (status = 415, description = "Not a JPEG, PNG or PDF, or its bytes are not what it says", body = Problem, content_type = PROBLEM),
        (status = 422, description = "No kind, a bad link, or the event already holds 20 pieces", body = Problem, content_type = PROBLEM),
        RetryRace, NoSuchEvent,
    ),
    security(("bearer" = ["attendees:write"])),
)]
#[post("/{id}/evidence")]
pub async fn add(
    principal: Principal,
    write: WriteRequest,
    id: Path<String>,
    query: Query<AddQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::AttendeesWrite)?;
    let id = id.into_inner();
    let media = body::media_type(&write.req).unwrap_or_default();
    let mut payload = payload.into_inner();
    let (new, fingerprint) = if body::is_json(&media) {
        let link: JsonBody<LinkInput> = JsonBody::parse(body::read_limited(&write.req, &mut payload).await?)?;
        let mut errors = Vec::new();
        if query.kind.is_some() {
            errors.push(crate::error::FieldError::new("kind", "query", "a link names its kind in the body"));
        }
        errors.extend(link.value.check().err());
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        (NewEvidence::Link(link.value), link.raw)
    } else {
        let Some(file_type) = FileType::from_media_type(&media) else {
            return Err(ApiError::UnsupportedMediaType(
                format!("expected a file ({}) or a link as application/json", accepted_types()).into(),
            ));
        };
        let Some(kind) = query.kind else {
            return Err(ApiError::field(
                "kind",
                "required",
                "say what the file is: ?kind=photo, sign_in_sheet, programme, press or other",
            ));
        };
        let bytes = body::read_up_to(&write.req, &mut payload, MAX_FILE).await?;
        check_file(file_type, &bytes)?;
        let filename = sent_filename(&write.req);
        // Hashing 10 MiB is CPU work: off the async workers.
        let hashed = bytes.clone();
        let sha256 = web::block(move || hex::encode(Sha256::digest(&hashed)))
            .await
            .map_err(|e| ApiError::internal(anyhow::anyhow!("blocking task failed: {e}")))?;
        // A retry is recognised by what was sent, without hashing the file a second time.
        let fingerprint = Bytes::from(format!("{media}\n{}\n{sha256}", filename.as_deref().unwrap_or("")).into_bytes());
        (NewEvidence::File(NewFile { kind, file_type, bytes, sha256, filename }), fingerprint)
    };
    write
        .perform(principal.actor(), &fingerprint, move |tx| {
            let added = domain::add(tx, &principal, &id, new)?;
            let location =
                if added.media_type.is_some() { added.url.clone() } else { format!("/api/v1/events/{id}/evidence") };
            Ok(Outcome::created_unversioned(location, &added))
        })
        .await
}

/// List an event's evidence
///
/// Oldest first, at most 20. For the event's lead and partner departments (with
/// `attendees:read`), admins, and verifiers (`events:verify`).
#[utoipa::path(
    tag = "evidence",
    operation_id = "list_evidence",
    params(("id" = String, Path, description = "Event id")),
    responses(
        (status = 200, description = "The event's evidence", body = EvidenceList),
        (status = 403, description = "Neither a department of the event, nor a verifier or an admin", body = Problem, content_type = PROBLEM),
        NoSuchEvent,
    ),
    security(("bearer" = ["attendees:read"]), ("bearer" = ["events:verify"])),
)]
#[get("/{id}/evidence")]
pub async fn list(state: Data<AppState>, principal: Principal, id: Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let rows = state
        .store
        .run(move |conn| {
            domain::readable_event(conn, &principal, &id)?;
            Ok(store::list(conn, &id)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(EvidenceList { items: rows.into_iter().map(EvidenceResponse::from).collect() }))
}

/// Download a file
///
/// The file's bytes as stored, as an attachment (`Content-Disposition: attachment`, never shown
/// in place), with `Repr-Digest` carrying its SHA-256 (RFC 9530) and `Cache-Control: no-store`:
/// photos show people. Who may: as for the list. A link has no file: 409, its address is in the
/// list.
#[utoipa::path(
    tag = "evidence",
    operation_id = "download_evidence",
    params(("id" = String, Path, description = "Event id"), ("evidence_id" = String, Path, description = "Evidence id")),
    responses(
        (status = 200, description = "The file", content(
            (FileBytes = "image/jpeg"), (FileBytes = "image/png"), (FileBytes = "application/pdf"),
        ), headers(
            ("Content-Disposition" = String, description = "attachment, with the file's name"),
            ("Repr-Digest" = String, description = "sha-256 of the bytes (RFC 9530)"),
        )),
        (status = 403, description = "Neither a department of the event, nor a verifier or an admin", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such event, or no such evidence of it", body = Problem, content_type = PROBLEM),
        (status = 409, description = "A link, not a file", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["attendees:read"]), ("bearer" = ["events:verify"])),
)]
#[get("/{id}/evidence/{evidence_id}")]
pub async fn download(
    state: Data<AppState>,
    principal: Principal,
    path: Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, evidence_id) = path.into_inner();
    let row = state
        .store
        .run(move |conn| {
            domain::readable_event(conn, &principal, &id)?;
            store::find(conn, &id, &evidence_id)?.ok_or(ApiError::NotFound)
        })
        .await?;
    let (Some(media), Some(size), Some(sha256)) = (row.media_type.as_deref(), row.size, row.sha256.as_deref()) else {
        return Err(ApiError::conflict("this evidence is a link, not a file; its address is its url"));
    };
    let file_type = FileType::from_media_type(media)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("evidence {} has an unknown media type", row.id)))?;
    let digest = hex::decode(sha256).map_err(|e| ApiError::internal(anyhow::anyhow!("evidence digest: {e}")))?;
    let mut parameters = vec![DispositionParam::Filename(ascii_filename(&row.id, row.filename.as_deref(), file_type))];
    if let Some(name) = &row.filename {
        parameters.push(DispositionParam::FilenameExt(ExtendedValue {
            charset: header::Charset::Ext("UTF-8".into()),
            language_tag: None,
            value: name.as_bytes().to_vec(),
        }));
    }
    let disposition = ContentDisposition { disposition: DispositionType::Attachment, parameters };
    // A chunk at a time, each read on its own: a slow download holds no connection of the pool.
    let evidence_id = row.id.clone();
    let chunks = futures_util::stream::unfold(Some(0i32), move |next| {
        let state = state.clone();
        let evidence_id = evidence_id.clone();
        async move {
            let seq = next?;
            match state.store.read(move |conn| Ok(store::chunk(conn, &evidence_id, seq)?)).await {
                Ok(Some(bytes)) => Some((Ok::<Bytes, ApiError>(Bytes::from(bytes)), Some(seq + 1))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type(media)
        .insert_header(disposition)
        .insert_header((
            "repr-digest",
            format!("sha-256=:{}:", base64::engine::general_purpose::STANDARD.encode(digest)),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .no_chunking(size as u64)
        .streaming(chunks))
}

/// Remove evidence
///
/// By the event's lead and partner departments (or an admin), while the event is not verified
/// (422 `verification` `verified` once it is: what it was verified on stays). The event's version moves on, and a rejected
/// event returns to `unverified`.
#[utoipa::path(
    tag = "evidence",
    operation_id = "remove_evidence",
    params(
        ("id" = String, Path, description = "Event id"),
        ("evidence_id" = String, Path, description = "Evidence id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Needs attendees:write, and the lead or a partner department", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such event, or no such evidence of it", body = Problem, content_type = PROBLEM),
        (status = 422, description = "The event is verified", body = Problem, content_type = PROBLEM),
        RetryRace,
    ),
    security(("bearer" = ["attendees:write"])),
)]
#[delete("/{id}/evidence/{evidence_id}")]
pub async fn remove(removal: ChildRemoval) -> Result<HttpResponse, ApiError> {
    removal.perform(domain::remove).await
}
