//! Evidence request and response types, and what a file must be.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::store::EvidenceRow;
use crate::error::FieldError;
use crate::store::to_utc;

crate::events::model::wire_enum!(
    /// What a piece of evidence is.
    EvidenceKind {
        Photo = "photo",
        SignInSheet = "sign_in_sheet",
        Programme = "programme",
        Press = "press",
        Other = "other",
    }
);

/// The largest file accepted.
pub const MAX_FILE: usize = 10 << 20;
/// The most pieces of evidence (files and links) one event holds.
pub const MAX_PER_EVENT: i32 = 20;
/// The longest link and file name kept.
pub const MAX_URL: usize = 2000;
pub const MAX_FILENAME: usize = 255;

/// The file types accepted, each recognised by its own first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Jpeg,
    Png,
    Pdf,
}

impl FileType {
    pub const ALL: [FileType; 3] = [FileType::Jpeg, FileType::Png, FileType::Pdf];

    pub fn media_type(self) -> &'static str {
        match self {
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
            FileType::Pdf => "application/pdf",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            FileType::Jpeg => "jpg",
            FileType::Png => "png",
            FileType::Pdf => "pdf",
        }
    }

    pub fn from_media_type(media: &str) -> Option<FileType> {
        FileType::ALL.into_iter().find(|t| t.media_type() == media)
    }

    /// The type the bytes themselves show: a JPEG's SOI marker, PNG's eight-byte signature, or
    /// `%PDF-`. Whatever the request says, a file is what its bytes are.
    pub fn sniff(bytes: &[u8]) -> Option<FileType> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(FileType::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(FileType::Png)
        } else if bytes.starts_with(b"%PDF-") {
            Some(FileType::Pdf)
        } else {
            None
        }
    }
}

/// The media types a file may be sent as, for messages.
pub fn accepted_types() -> String {
    FileType::ALL.iter().map(|t| t.media_type()).collect::<Vec<_>>().join(", ")
}

/// A link given as evidence: a press release or a post about the event.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "press", "url": "https://akimat.example.kz/news/2024/03/14/adaldyq"}))]
pub struct LinkInput {
    pub kind: EvidenceKind,
    /// An absolute `http` or `https` address, at most 2000 characters.
    pub url: String,
}

impl LinkInput {
    pub fn check(&self) -> Result<(), FieldError> {
        let url = self.url.trim();
        let parsed = reqwest::Url::parse(url).ok().filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
        if url.len() > MAX_URL || parsed.is_none() {
            return Err(FieldError::new(
                "url",
                "format",
                format!("expected an absolute http or https address of at most {MAX_URL} characters"),
            ));
        }
        Ok(())
    }
}

/// A piece of evidence as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(example = json!({
    "id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5da0", "kind": "sign_in_sheet", "media_type": "image/jpeg",
    "size": 2483117, "sha256": "9f2c1d0e5a7b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d",
    "filename": "tirkeu-paragy.jpg",
    "url": "/api/v1/events/0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d71/evidence/0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5da0",
    "created_at": "2024-03-14T13:05:00Z", "created_by": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6e"
}))]
pub struct EvidenceResponse {
    pub id: String,
    pub kind: EvidenceKind,
    /// `image/jpeg`, `image/png` or `application/pdf`, as the file's own bytes show; null for a link.
    pub media_type: Option<String>,
    /// Bytes; null for a link.
    pub size: Option<i64>,
    /// Hex SHA-256 of the file's bytes, as the audit trail records it; null for a link.
    pub sha256: Option<String>,
    /// The name the file was sent with, if any.
    pub filename: Option<String>,
    /// A file's download path, or a link's address.
    pub url: String,
    pub created_at: DateTime<Utc>,
    /// The account or client that added it.
    pub created_by: String,
}

/// The download path of a file.
pub fn download_path(event_id: &str, id: &str) -> String {
    format!("/api/v1/events/{event_id}/evidence/{id}")
}

impl From<EvidenceRow> for EvidenceResponse {
    fn from(r: EvidenceRow) -> Self {
        let url = r.url.clone().unwrap_or_else(|| download_path(&r.event_id, &r.id));
        EvidenceResponse {
            kind: EvidenceKind::parse(&r.kind).unwrap_or(EvidenceKind::Other),
            media_type: r.media_type,
            size: r.size,
            sha256: r.sha256,
            filename: r.filename,
            url,
            created_at: to_utc(r.created_at),
            created_by: r.created_by,
            id: r.id,
        }
    }
}

/// An event's evidence, oldest first (at most 20).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EvidenceList {
    pub items: Vec<EvidenceResponse>,
}

/// A file name as kept: its last path segment, control characters removed, at most 255
/// characters; `None` when nothing is left.
pub fn clean_filename(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = crate::text::clean(base)
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .take(MAX_FILENAME)
        .collect();
    let cleaned = cleaned.trim().to_string();
    (!cleaned.is_empty() && cleaned != "." && cleaned != "..").then_some(cleaned)
}

/// The name a download is offered under in plain ASCII, for clients that ignore `filename*`.
pub fn ascii_filename(id: &str, name: Option<&str>, t: FileType) -> String {
    let stem: String = name
        .and_then(|n| n.rsplit_once('.').map(|(s, _)| s).or(Some(n)))
        .unwrap_or("")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    let stem = stem.trim_matches('_');
    if stem.is_empty() { format!("evidence-{id}.{}", t.extension()) } else { format!("{stem}.{}", t.extension()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_what_its_bytes_are() {
        assert_eq!(FileType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Some(FileType::Jpeg));
        assert_eq!(FileType::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(FileType::Png));
        assert_eq!(FileType::sniff(b"%PDF-1.7\n"), Some(FileType::Pdf));
        assert_eq!(FileType::sniff(b"MZ\x90\0\x03"), None, "a Windows executable");
        assert_eq!(FileType::sniff(b"\x7fELF\x02\x01"), None, "a Linux executable");
        assert_eq!(FileType::sniff(b""), None);
    }

    #[test]
    fn file_names_lose_their_paths_and_controls() {
        assert_eq!(clean_filename("C:\\Users\\a\\тіркеу.jpg").as_deref(), Some("тіркеу.jpg"));
        assert_eq!(clean_filename("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(clean_filename("a\u{0}b\r\n.png").as_deref(), Some("ab.png"));
        assert_eq!(clean_filename(".."), None);
        assert_eq!(
            clean_filename("photo\u{202E}gpj.exe").as_deref(),
            Some("photogpj.exe"),
            "no right-to-left override"
        );
        assert_eq!(ascii_filename("x", Some("тіркеу парағы.jpg"), FileType::Jpeg), "evidence-x.jpg");
        assert_eq!(ascii_filename("x", Some("sheet 1.JPG"), FileType::Jpeg), "sheet_1.jpg");
    }
}
