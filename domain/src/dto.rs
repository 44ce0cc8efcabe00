//! Data transfer objects: what the server sends to the browser and back. Plain serde structs
//! shared by the service layer (which builds them) and the UI (which shows them); database
//! models never cross this line.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Permission, Role};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDto {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
    pub portal_only: bool,
}

/// One page of a list, with what a pager needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    /// 1-based.
    pub page: u64,
    pub per_page: u64,
}

impl<T> Page<T> {
    pub fn page_count(&self) -> u64 {
        self.total.div_ceil(self.per_page.max(1))
    }
}

/// The page sizes a table offers ("Items per page").
pub const PAGE_SIZES: [u64; 4] = [10, 25, 50, 100];
pub const DEFAULT_PAGE_SIZE: u64 = 25;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgSummary {
    pub id: String,
    pub name: String,
    pub description: String,
    /// The caller's role; `None` for a platform administrator who is not a member.
    pub role: Option<Role>,
    pub created_on: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgDetail {
    pub id: String,
    pub name: String,
    pub description: String,
    pub created_by: String,
    pub created_on: DateTime<Utc>,
    pub member_count: u64,
    pub role: Option<Role>,
    /// What the caller may do here, so that the UI can hide what the server would refuse.
    pub permissions: Vec<Permission>,
}

impl OrgDetail {
    pub fn can(&self, p: Permission) -> bool {
        self.permissions.contains(&p)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberDto {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub since: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// One Change Log row: who did what to which entity, when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntryDto {
    pub id: i64,
    pub who: String,
    pub entity_type: String,
    pub entity_id: String,
    pub entity_version: Option<String>,
    pub what: String,
    pub when: DateTime<Utc>,
    /// A sentence for people, e.g. "Granted Viewer to jane@example.com".
    pub summary: String,
    pub changes: Vec<FieldChange>,
}

/// One version in a list row or a version switcher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionSummary {
    pub version: String,
    /// The status's storage string (`ClientStatus::as_str` etc.).
    pub status: String,
}

/// A client, API or plan in a list: name, versions with status, description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntitySummary {
    pub org_id: String,
    pub org_name: String,
    pub id: String,
    pub name: String,
    pub description: String,
    /// Newest first.
    pub versions: Vec<VersionSummary>,
}

/// What the header of a client, API or plan page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityHeader {
    pub org_id: String,
    pub org_name: String,
    pub id: String,
    pub name: String,
    pub description: String,
    pub version: String,
    /// Every version, newest first.
    pub versions: Vec<VersionSummary>,
    pub created_by: String,
    pub created_on: DateTime<Utc>,
    /// The caller's permissions in the organization.
    pub permissions: Vec<Permission>,
}

impl EntityHeader {
    pub fn can(&self, p: Permission) -> bool {
        self.permissions.contains(&p)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientVersionDetail {
    pub header: EntityHeader,
    pub status: crate::ClientStatus,
    /// Registered and changed since registration.
    pub unpublished_changes: bool,
    /// The version's API key: a credential, sent only to callers who may edit the client.
    pub api_key: Option<String>,
    pub pending_approvals: u64,
    pub active_contracts: u64,
    pub policy_count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiVersionDetail {
    pub header: EntityHeader,
    pub status: crate::ApiStatus,
    pub endpoint_url: Option<String>,
    pub public_api: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanVersionDetail {
    pub header: EntityHeader,
    pub status: crate::PlanStatus,
    pub locked_on: Option<DateTime<Utc>>,
}

/// A contract of a client version with an API version through a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractDto {
    pub id: i64,
    pub api_org_id: String,
    pub api_org_name: String,
    pub api_id: String,
    pub api_name: String,
    pub api_version: String,
    pub plan_id: String,
    pub plan_version: String,
    pub status: crate::ContractStatus,
    pub created_on: DateTime<Utc>,
}

/// A policy attached to a client, plan or API version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyDto {
    pub id: i64,
    pub definition_id: String,
    pub order: i32,
    pub configuration: String,
}
