//! Event request and response types, and the rules an event must satisfy.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::error::FieldError;
use crate::text;

/// An enum whose values travel as snake_case strings, with its `ALL`, `as_str` and `parse`. `$text` is a
/// `tt`, not a `literal`: utoipa's derive cannot see through a `literal` fragment and would document
/// the Rust variant names (`Lecture`) instead of the wire values (`lecture`).
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }
    };
}
pub(crate) use wire_enum;

/// A `wire_enum!` that is also a stored column, read back strictly (`stored_text!`).
macro_rules! str_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:tt),+ $(,)? }) => {
        wire_enum!(
            $(#[$meta])*
            #[derive(diesel::AsExpression, diesel::FromSqlRow)]
            #[diesel(sql_type = diesel::sql_types::Text)]
            $name { $($variant = $text),+ }
        );
        $crate::stored_text!($name);
    };
}

str_enum!(EventKind {
    Lecture = "lecture", Seminar = "seminar", RoundTable = "round_table", Training = "training",
    Meeting = "meeting", Contest = "contest", Campaign = "campaign", Other = "other",
});
str_enum!(EventFormat { InPerson = "in_person", Online = "online", Hybrid = "hybrid" });
str_enum!(Audience {
    Youth = "youth", Schoolchildren = "schoolchildren", Students = "students",
    CivilServants = "civil_servants", Entrepreneurs = "entrepreneurs", GeneralPublic = "general_public",
});
str_enum!(OrganiserRole { Speaker = "speaker", Moderator = "moderator", Organiser = "organiser", Other = "other" });
str_enum!(EventStatus { Planned = "planned", Held = "held", Cancelled = "cancelled" });
str_enum!(AttendanceBasis { SignInSheet = "sign_in_sheet", Headcount = "headcount", Estimate = "estimate" });
str_enum!(
    /// Whether the policy department has checked the event: `unverified` until it has, and again
    /// after any later change.
    VerificationStatus { Unverified = "unverified", Verified = "verified", Rejected = "rejected" }
);
wire_enum!(
    /// A verifier's decision.
    Decision { Verified = "verified", Rejected = "rejected" }
);
wire_enum!(
    /// What makes an event's figures worth a second look, computed from the event as it is:
    /// `attendance_above_planned` (a total over twice a positive `planned_participants`),
    /// `estimate_only` (attendance by estimate), `no_evidence` (held, and no evidence),
    /// `logged_late` (created more than 30 days after it ended).
    Flag {
        AttendanceAbovePlanned = "attendance_above_planned",
        EstimateOnly = "estimate_only",
        NoEvidence = "no_evidence",
        LoggedLate = "logged_late",
    }
);

/// An event logged more than this long after it ended is `logged_late`.
pub const LATE_AFTER_DAYS: i64 = 30;

/// What the flags are computed from: the event as stored.
#[derive(Debug, Clone, Copy)]
pub struct FlagFacts {
    pub status: EventStatus,
    pub planned_participants: Option<i32>,
    pub attendance_total: Option<i32>,
    pub attendance_basis: Option<AttendanceBasis>,
    pub evidence_count: i32,
    pub ends_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl FlagFacts {
    /// The event's flags, in `Flag::ALL`'s order. The list filter and the reports compute the same
    /// in SQL (`store::flag_sql`); a test holds the two equal at each boundary.
    pub fn flags(&self) -> Vec<Flag> {
        let mut out = Vec::new();
        if let (Some(planned), Some(total)) = (self.planned_participants, self.attendance_total)
            && planned > 0
            && i64::from(total) > 2 * i64::from(planned)
        {
            out.push(Flag::AttendanceAbovePlanned);
        }
        if self.attendance_basis == Some(AttendanceBasis::Estimate) {
            out.push(Flag::EstimateOnly);
        }
        if self.status == EventStatus::Held && self.evidence_count == 0 {
            out.push(Flag::NoEvidence);
        }
        if self.created_at > self.ends_at + Duration::days(LATE_AFTER_DAYS) {
            out.push(Flag::LoggedLate);
        }
        out
    }
}

/// Who checked the event, when, and what they found.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(example = json!({"status": "verified", "by": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d90",
    "at": "2024-03-20T06:00:00Z", "note": "Тіркеу парағы мен фотосуреттер сәйкес"}))]
pub struct Verification {
    pub status: VerificationStatus,
    /// The account or client that verified or rejected it; null while unverified.
    pub by: Option<String>,
    pub at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// A verifier's finding.
#[derive(Debug, Clone, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "rejected", "note": "Тіркеу парағында 40 адам, ал есепте 400"}))]
pub struct VerificationInput {
    pub status: Decision,
    /// Up to 2000 characters; required to reject, so the department knows what to put right.
    #[serde(default)]
    #[validate(length(max = 2000, message = "must be at most 2000 characters"))]
    pub note: Option<String>,
}

impl VerificationInput {
    pub fn normalised(mut self) -> Result<Self, Vec<FieldError>> {
        self.note = self.note.map(|n| text::clean(&n)).filter(|n| !n.is_empty());
        let mut errors = match self.validate() {
            Ok(()) => Vec::new(),
            Err(e) => crate::error::from_validation(&e),
        };
        if self.status == Decision::Rejected && self.note.is_none() {
            errors.push(FieldError::new("note", "required", "say what is wrong, so the department can put it right"));
        }
        if errors.is_empty() { Ok(self) } else { Err(errors) }
    }
}

pub const MAX_PARTICIPANTS: i32 = 100_000;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Validate, PartialEq)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"full_name": "Айгүл Нұрланқызы", "role": "speaker", "organisation": "Қалалық жастар ресурстық орталығы"}))]
pub struct Organiser {
    #[validate(length(min = 1, max = 200, message = "must be 1 to 200 characters"))]
    pub full_name: String,
    pub role: OrganiserRole,
    #[serde(default)]
    #[validate(length(max = 300, message = "must be at most 300 characters"))]
    pub organisation: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Validate, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BreakdownItem {
    pub audience: Audience,
    #[validate(range(min = 0, max = 100000, message = "must be 0 to 100000"))]
    pub count: i32,
}

fn default_basis() -> AttendanceBasis {
    AttendanceBasis::Headcount
}

/// Attendance: how many came, how the number was obtained, and by audience.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Validate, PartialEq)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"total": 64, "basis": "sign_in_sheet", "breakdown": [{"audience": "youth", "count": 40}]}))]
pub struct Attendance {
    #[validate(range(min = 0, max = 100000, message = "must be 0 to 100000"))]
    pub total: i32,
    /// `sign_in_sheet`, `headcount` (the default) or `estimate`.
    #[serde(default = "default_basis")]
    pub basis: AttendanceBasis,
    #[serde(default)]
    #[validate(nested)]
    pub breakdown: Vec<BreakdownItem>,
}

impl Attendance {
    /// Breakdown audiences distinct, their counts summing to at most `total`.
    pub fn check(&self, prefix: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if let Err(e) = self.validate() {
            errors.extend(crate::error::from_validation(&e).into_iter().map(|mut f| {
                f.field = join(prefix, &f.field);
                f
            }));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, b) in self.breakdown.iter().enumerate() {
            if !seen.insert(b.audience) {
                errors.push(FieldError::new(
                    join(prefix, &format!("breakdown[{i}].audience")),
                    "distinct",
                    "each audience may appear once",
                ));
            }
        }
        let sum: i64 = self.breakdown.iter().map(|b| b.count as i64).sum();
        if sum > self.total as i64 {
            errors.push(FieldError::new(
                join(prefix, "breakdown"),
                "sum",
                format!("the counts sum to {sum}, more than total {}", self.total),
            ));
        }
        errors
    }
}

fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() { field.to_string() } else { format!("{prefix}.{field}") }
}

/// An event's editable fields: a create's body, and the document a merge patch applies to, so
/// both are checked by the same rules.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "Сыбайлас жемқорлыққа қарсы мәдениет: дөңгелек үстел",
    "description": "Жастармен адалдық мәдениеті туралы пікірталас",
    "kind": "round_table", "format": "in_person",
    "starts_at": "2024-03-14T15:00:00+05:00", "ends_at": "2024-03-14T17:00:00+05:00",
    "venue": "Қалалық жастар ресурстық орталығы", "audiences": ["youth", "students"],
    "partner_department_ids": ["0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6f"],
    "organisers": [{"full_name": "Айгүл Нұрланқызы", "role": "speaker", "organisation": "Жастар орталығы"}],
    "planned_participants": 60
}))]
pub struct EventInput {
    /// 3–300 characters after trimming.
    #[validate(length(min = 3, max = 300, message = "must be 3 to 300 characters"))]
    pub title: String,
    #[serde(default)]
    #[validate(length(max = 20000, message = "must be at most 20000 characters"))]
    pub description: String,
    pub kind: EventKind,
    pub format: EventFormat,
    /// RFC 3339 with an offset; stored and returned in UTC.
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<FixedOffset>,
    /// After `starts_at`, at most 14 days later (92 for a campaign).
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<FixedOffset>,
    #[serde(default)]
    #[validate(length(max = 300, message = "must be at most 300 characters"))]
    pub venue: Option<String>,
    /// At least one, each once.
    pub audiences: Vec<Audience>,
    /// Defaults to the caller's department; only an admin may name another.
    #[serde(default)]
    pub lead_department_id: Option<String>,
    /// Distinct, existing, not the lead.
    #[serde(default)]
    pub partner_department_ids: Vec<String>,
    #[serde(default)]
    pub plan_item_id: Option<String>,
    #[serde(default)]
    #[validate(nested, length(max = 50, message = "at most 50 organisers"))]
    pub organisers: Vec<Organiser>,
    #[serde(default)]
    #[validate(range(min = 0, max = 100000, message = "must be 0 to 100000"))]
    pub planned_participants: Option<i32>,
    /// `planned` (the default) or `cancelled`; only recording attendance makes an event `held`.
    #[serde(default)]
    pub status: Option<EventStatus>,
    /// For an event that has started: record attendance in the same request (it is then `held`).
    #[serde(default)]
    pub attendance: Option<Attendance>,
}

impl EventInput {
    /// Trims and normalises the text, then checks every rule that needs no store.
    pub fn normalised(mut self) -> Result<Self, Vec<FieldError>> {
        self.title = text::clean(&self.title);
        self.description = text::clean(&self.description);
        self.venue = self.venue.map(|v| text::clean(&v)).filter(|v| !v.is_empty());
        for o in &mut self.organisers {
            o.full_name = text::clean(&o.full_name);
            o.organisation = o.organisation.as_deref().map(text::clean).filter(|v| !v.is_empty());
        }
        let mut errors = match self.validate() {
            Ok(()) => Vec::new(),
            Err(e) => crate::error::from_validation(&e),
        };
        errors.extend(check_times(self.starts_at.with_timezone(&Utc), self.ends_at.with_timezone(&Utc), self.kind));
        for (field, at) in [("starts_at", self.starts_at), ("ends_at", self.ends_at)] {
            errors.extend(crate::http::explain::instant_problem(field, &at.to_rfc3339()));
        }
        if self.audiences.is_empty() {
            errors.push(FieldError::new("audiences", "length", "name at least one audience"));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, a) in self.audiences.iter().enumerate() {
            if !seen.insert(*a) {
                errors.push(FieldError::new(format!("audiences[{i}]"), "distinct", "each audience may appear once"));
            }
        }
        let mut partners = std::collections::HashSet::new();
        for (i, p) in self.partner_department_ids.iter().enumerate() {
            if !partners.insert(p) {
                errors.push(FieldError::new(
                    format!("partner_department_ids[{i}]"),
                    "distinct",
                    "each partner may appear once",
                ));
            }
        }
        if let Some(a) = &self.attendance {
            errors.extend(a.check("attendance"));
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            errors.sort_by(|a, b| a.field.cmp(&b.field));
            Err(errors)
        }
    }
}

/// `ends_at` after `starts_at`, at most 14 days later (92 for a campaign).
pub fn check_times(starts: DateTime<Utc>, ends: DateTime<Utc>, kind: EventKind) -> Vec<FieldError> {
    let max_days = if kind == EventKind::Campaign { 92 } else { 14 };
    if ends <= starts {
        vec![FieldError::new("ends_at", "order", "must be after starts_at")]
    } else if ends - starts > Duration::days(max_days) {
        vec![FieldError::new("ends_at", "duration", format!("must be at most {max_days} days after starts_at"))]
    } else {
        Vec::new()
    }
}

/// A merge patch for an event: any editable field (`attendance` has its own route).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"venue": "Әкімдік мәжіліс залы", "status": "cancelled"}))]
#[allow(dead_code)]
pub struct EventPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub kind: Option<EventKind>,
    pub format: Option<EventFormat>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ends_at: Option<String>,
    pub venue: Option<String>,
    pub audiences: Option<Vec<Audience>>,
    pub lead_department_id: Option<String>,
    pub partner_department_ids: Option<Vec<String>>,
    pub plan_item_id: Option<String>,
    pub organisers: Option<Vec<Organiser>>,
    pub planned_participants: Option<i32>,
    /// `planned` ↔ `cancelled`.
    pub status: Option<EventStatus>,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(example = json!({
    "id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d71",
    "title": "Сыбайлас жемқорлыққа қарсы мәдениет: дөңгелек үстел", "description": "",
    "kind": "round_table", "format": "in_person",
    "starts_at": "2024-03-14T10:00:00Z", "ends_at": "2024-03-14T12:00:00Z",
    "venue": "Қалалық жастар ресурстық орталығы", "audiences": ["youth", "students"],
    "lead_department_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6f", "partner_department_ids": [],
    "plan_item_id": null, "organisers": [{"full_name": "Айгүл Нұрланқызы", "role": "speaker", "organisation": null}],
    "planned_participants": 60, "status": "held",
    "attendance": {"total": 64, "basis": "sign_in_sheet", "breakdown": [{"audience": "youth", "count": 40}]},
    "version": 3, "created_at": "2024-03-01T09:00:00Z", "updated_at": "2024-03-14T13:00:00Z",
    "created_by": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6e",
    "verification": {"status": "unverified", "by": null, "at": null, "note": null},
    "flags": ["no_evidence"], "evidence_count": 0
}))]
pub struct EventResponse {
    pub id: String,
    pub title: String,
    pub description: String,
    pub kind: EventKind,
    pub format: EventFormat,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub venue: Option<String>,
    pub audiences: Vec<Audience>,
    pub lead_department_id: String,
    pub partner_department_ids: Vec<String>,
    pub plan_item_id: Option<String>,
    pub organisers: Vec<Organiser>,
    pub planned_participants: Option<i32>,
    pub status: EventStatus,
    /// Null until recorded.
    pub attendance: Option<Attendance>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The account or client that created it.
    pub created_by: String,
    /// Whether the policy department has checked it; any later change makes it `unverified` again.
    pub verification: Verification,
    /// Computed from the event as it is now.
    pub flags: Vec<Flag>,
    /// Files and links showing it happened (`GET /api/v1/events/{id}/evidence`).
    pub evidence_count: i32,
}

impl EventResponse {
    /// The editable fields, the document a merge patch applies to.
    pub fn editable(&self) -> EventInput {
        let utc = FixedOffset::east_opt(0).expect("UTC");
        EventInput {
            title: self.title.clone(),
            description: self.description.clone(),
            kind: self.kind,
            format: self.format,
            starts_at: self.starts_at.with_timezone(&utc),
            ends_at: self.ends_at.with_timezone(&utc),
            venue: self.venue.clone(),
            audiences: self.audiences.clone(),
            lead_department_id: Some(self.lead_department_id.clone()),
            partner_department_ids: self.partner_department_ids.clone(),
            plan_item_id: self.plan_item_id.clone(),
            organisers: self.organisers.clone(),
            planned_participants: self.planned_participants,
            status: Some(self.status),
            attendance: None,
        }
    }
}

/// A deleted event, as a sync walk with `include_deleted=true` lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeletedEvent {
    pub id: String,
    /// Always true.
    pub deleted: bool,
    pub updated_at: DateTime<Utc>,
}

/// An item of an event list: an event, or (with `include_deleted=true`) a deletion marker.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum EventListItem {
    Event(Box<EventResponse>),
    Deleted(DeletedEvent),
}

impl crate::version::Versioned for EventResponse {
    fn version(&self) -> i64 {
        self.version
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn an_event_ends_after_it_starts_and_within_its_kinds_limit() {
        let start = at("2024-03-01T10:00:00Z");
        assert_eq!(check_times(start, start, EventKind::Lecture)[0].code, "order");
        assert!(check_times(start, at("2024-03-15T10:00:00Z"), EventKind::Lecture).is_empty());
        assert_eq!(check_times(start, at("2024-03-15T10:00:01Z"), EventKind::Lecture)[0].code, "duration");
        assert!(check_times(start, at("2024-05-31T10:00:00Z"), EventKind::Campaign).is_empty());
        assert_eq!(check_times(start, at("2024-06-01T10:00:01Z"), EventKind::Campaign)[0].code, "duration");
    }

    fn facts() -> FlagFacts {
        FlagFacts {
            status: EventStatus::Held,
            planned_participants: Some(50),
            attendance_total: Some(100),
            attendance_basis: Some(AttendanceBasis::Headcount),
            evidence_count: 1,
            ends_at: at("2024-03-01T12:00:00Z"),
            created_at: at("2024-03-31T12:00:00Z"),
        }
    }

    #[test]
    fn each_flag_starts_just_past_its_boundary() {
        // Twice planned exactly, 30 days exactly, one piece of evidence: nothing to flag.
        assert!(facts().flags().is_empty());
        let over = FlagFacts { attendance_total: Some(101), ..facts() };
        assert_eq!(over.flags(), vec![Flag::AttendanceAbovePlanned]);
        let unplanned = FlagFacts { planned_participants: Some(0), attendance_total: Some(5000), ..facts() };
        assert!(unplanned.flags().is_empty(), "no positive plan, nothing to exceed");
        let estimate = FlagFacts { attendance_basis: Some(AttendanceBasis::Estimate), ..facts() };
        assert_eq!(estimate.flags(), vec![Flag::EstimateOnly]);
        let bare = FlagFacts { evidence_count: 0, ..facts() };
        assert_eq!(bare.flags(), vec![Flag::NoEvidence]);
        let planned = FlagFacts { status: EventStatus::Planned, evidence_count: 0, ..facts() };
        assert!(planned.flags().is_empty(), "only a held event needs evidence");
        let late = FlagFacts { created_at: at("2024-03-31T12:00:00.000001Z"), ..facts() };
        assert_eq!(late.flags(), vec![Flag::LoggedLate]);
    }

    #[test]
    fn a_rejection_says_why() {
        let input = VerificationInput { status: Decision::Rejected, note: Some("   ".into()) };
        let errors = input.normalised().unwrap_err();
        assert_eq!((errors[0].field.as_str(), errors[0].code.as_str()), ("note", "required"));
        let ok = VerificationInput { status: Decision::Verified, note: None }.normalised().unwrap();
        assert_eq!(ok.note, None);
    }

    #[test]
    fn a_breakdown_may_not_exceed_the_total_nor_repeat_an_audience() {
        let a = Attendance {
            total: 10,
            basis: AttendanceBasis::Headcount,
            breakdown: vec![
                BreakdownItem { audience: Audience::Youth, count: 6 },
                BreakdownItem { audience: Audience::Youth, count: 5 },
            ],
        };
        let fields: Vec<String> = a.check("").into_iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["breakdown[1].audience", "breakdown"]);
    }
}
