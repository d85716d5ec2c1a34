//! Roles and scopes: what an account's role or a client's grant lets it use.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Scope {
    #[serde(rename = "events:read")]
    EventsRead,
    #[serde(rename = "events:write")]
    EventsWrite,
    #[serde(rename = "attendees:read")]
    AttendeesRead,
    #[serde(rename = "attendees:write")]
    AttendeesWrite,
    #[serde(rename = "reports:read")]
    ReportsRead,
    #[serde(rename = "plans:write")]
    PlansWrite,
    #[serde(rename = "audit:read")]
    AuditRead,
    #[serde(rename = "webhooks:manage")]
    WebhooksManage,
    #[serde(rename = "events:verify")]
    EventsVerify,
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 10] = [
        Scope::EventsRead,
        Scope::EventsWrite,
        Scope::AttendeesRead,
        Scope::AttendeesWrite,
        Scope::ReportsRead,
        Scope::PlansWrite,
        Scope::AuditRead,
        Scope::WebhooksManage,
        Scope::EventsVerify,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::EventsRead => "events:read",
            Scope::EventsWrite => "events:write",
            Scope::AttendeesRead => "attendees:read",
            Scope::AttendeesWrite => "attendees:write",
            Scope::ReportsRead => "reports:read",
            Scope::PlansWrite => "plans:write",
            Scope::AuditRead => "audit:read",
            Scope::WebhooksManage => "webhooks:manage",
            Scope::EventsVerify => "events:verify",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of scopes; prints as the space-separated list a token's `scope` claim carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScopeSet(u16);

impl ScopeSet {
    pub fn all() -> Self {
        Scope::ALL.into_iter().collect()
    }
    pub fn contains(self, s: Scope) -> bool {
        self.0 & s.bit() != 0
    }
    pub fn intersect(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 & other.0)
    }
    pub fn is_subset(self, other: ScopeSet) -> bool {
        self.0 & !other.0 == 0
    }
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }
    pub fn to_vec(self) -> Vec<Scope> {
        self.iter().collect()
    }
    /// Parses a space-separated list; `None` names the first unknown scope.
    pub fn parse(text: &str) -> Result<ScopeSet, String> {
        text.split_whitespace().map(|s| Scope::parse(s).ok_or_else(|| s.to_string())).collect()
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        ScopeSet(iter.into_iter().fold(0, |acc, s| acc | s.bit()))
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&names.join(" "))
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, diesel::AsExpression, diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Coordinator,
    Organiser,
    Viewer,
}

crate::stored_text!(Role);

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::Organiser => "organiser",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Admin, Role::Coordinator, Role::Organiser, Role::Viewer].into_iter().find(|r| r.as_str() == s)
    }

    /// The contract's role → scope table.
    pub fn scopes(self) -> ScopeSet {
        use Scope::*;
        match self {
            Role::Admin => ScopeSet::all(),
            Role::Coordinator => [EventsRead, ReportsRead, PlansWrite, EventsVerify].into_iter().collect(),
            Role::Organiser => {
                [EventsRead, EventsWrite, AttendeesRead, AttendeesWrite, ReportsRead].into_iter().collect()
            }
            Role::Viewer => [EventsRead, ReportsRead].into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_map_to_the_contracts_scopes() {
        assert_eq!(Role::Coordinator.scopes().to_string(), "events:read reports:read plans:write events:verify");
        assert_eq!(
            Role::Organiser.scopes().to_string(),
            "events:read events:write attendees:read attendees:write reports:read"
        );
        assert_eq!(Role::Viewer.scopes().to_string(), "events:read reports:read");
        assert_eq!(Role::Admin.scopes(), ScopeSet::all());
    }

    #[test]
    fn scope_lists_parse_and_refuse_unknown_names() {
        assert_eq!(ScopeSet::parse("reports:read events:read").unwrap().to_string(), "events:read reports:read");
        assert_eq!(ScopeSet::parse("events:read root").unwrap_err(), "root");
    }
}
