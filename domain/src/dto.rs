//! Data transfer objects: what the server sends to the browser and back. Plain serde structs
//! shared by the service layer (which builds them) and the UI (which shows them); database
//! models never cross this line.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Permission, Role};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserDto {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
    pub portal_only: bool,
}

/// An account as a platform administrator sees it (`/admin/accounts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountDto {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
    pub portal_only: bool,
    /// Its owner must choose a new password at the next sign-in.
    pub must_change_password: bool,
    pub created_on: DateTime<Utc>,
}

/// Who may create organizations: a platform setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum OrgCreation {
    /// Every signed-in management user (the default).
    #[default]
    Anyone,
    /// Platform administrators only.
    AdminsOnly,
}

impl OrgCreation {
    pub const ALL: [OrgCreation; 2] = [OrgCreation::Anyone, OrgCreation::AdminsOnly];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgCreation::Anyone => "anyone",
            OrgCreation::AdminsOnly => "admins",
        }
    }

    pub fn parse(s: &str) -> Option<OrgCreation> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            OrgCreation::Anyone => "Any signed-in user",
            OrgCreation::AdminsOnly => "Platform administrators only",
        }
    }
}

/// The platform-wide settings a platform administrator edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlatformSettings {
    pub org_creation: OrgCreation,
}

/// One page of a list, with what a pager needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgSummary {
    pub id: String,
    pub name: String,
    pub description: String,
    /// The caller's role; `None` for a platform administrator who is not a member.
    pub role: Option<Role>,
    pub created_on: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberDto {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub since: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// One Change Log row: who did what to which entity, when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionSummary {
    pub version: String,
    /// The status's storage string (`ClientStatus::as_str` etc.).
    pub status: String,
}

/// A client, API or plan in a list: name, versions with status, description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientVersionDetail {
    pub header: EntityHeader,
    pub status: crate::ClientStatus,
    /// Registered and changed since registration.
    pub unpublished_changes: bool,
    /// The version's API keys, newest first (never the keys themselves: those are shown one at
    /// a time, on an explicit Show, to those who may edit the client).
    pub keys: Vec<ApiKeyDto>,
    pub pending_approvals: u64,
    pub active_contracts: u64,
    pub policy_count: u64,
    pub registered_on: Option<DateTime<Utc>>,
    pub retired_on: Option<DateTime<Utc>>,
    /// Why Register (or Re-register) is refused now; `None` when it is allowed.
    pub register_refusal: Option<String>,
}

/// A plan offered by an API version, with its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiPlanDto {
    pub plan_id: String,
    pub plan_name: String,
    pub plan_version: String,
    pub requires_approval: bool,
    pub discoverability: crate::Discoverability,
}

/// One plan an API version is to offer, as the Plans tab sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanOffer {
    pub plan_id: String,
    pub plan_version: String,
    pub requires_approval: bool,
    pub discoverability: crate::Discoverability,
}

/// What is known about an API version's OpenAPI definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DefinitionInfo {
    pub format: crate::DefinitionFormat,
    pub title: String,
    pub operations: usize,
    pub bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiVersionDetail {
    pub header: EntityHeader,
    /// The API's tags (shared by all versions); `featured` puts it on the portal's home page.
    pub tags: Vec<String>,
    pub status: crate::ApiStatus,
    pub endpoint_url: Option<String>,
    pub endpoint_type: String,
    pub content_type: crate::ContentType,
    pub public_api: bool,
    /// The largest request body in bytes; `None`: the default
    /// (`gateway_bounds::DEFAULT_REQUEST_BODY_LIMIT`).
    pub request_body_limit: Option<u64>,
    /// Whether request paths may contain `%2F`.
    pub allow_encoded_slashes: bool,
    /// Whether the gateway takes the API key from `?apikey=` too (else only `X-API-Key`).
    pub accept_key_in_query: bool,
    /// How long the gateway waits for a connection to the backend, in milliseconds; `None`: the
    /// default (`gateway_bounds::DEFAULT_CONNECT_TIMEOUT_MS`, 5 s).
    pub connect_timeout_ms: Option<u64>,
    /// How long the gateway waits for the backend's answer once connected, in milliseconds;
    /// `None`: the default (`gateway_bounds::DEFAULT_RESPONSE_TIMEOUT_MS`, 30 s).
    pub response_timeout_ms: Option<u64>,
    /// How many requests may be in flight towards the backend at once on one gateway node;
    /// `None`: the default (`gateway_bounds::DEFAULT_MAX_CONCURRENT_REQUESTS`, 256).
    pub max_concurrent_requests: Option<u32>,
    /// Why the gateway refuses to connect to the endpoint, if it does.
    pub endpoint_refusal: Option<String>,
    pub definition: Option<DefinitionInfo>,
    /// Markdown source.
    pub extended_description: String,
    /// The Markdown rendered to HTML on the server, with raw HTML escaped and unsafe links
    /// removed.
    pub extended_description_html: String,
    /// In their order.
    pub plans: Vec<ApiPlanDto>,
    /// "Why can't I publish?": what is missing; empty when nothing is.
    pub publish_checklist: Vec<String>,
    /// The gateway URL of this version: `{gateway}/{org}/{api}/{version}`.
    pub gateway_url: String,
    pub published_on: Option<DateTime<Utc>>,
    pub retired_on: Option<DateTime<Utc>>,
    pub contract_count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanVersionDetail {
    pub header: EntityHeader,
    pub status: crate::PlanStatus,
    pub locked_on: Option<DateTime<Utc>>,
    pub policy_count: u64,
    /// How many API versions offer this plan version.
    pub offered_by: u64,
}

/// A plan with its locked versions: what an API's Plans tab can offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LockedPlan {
    pub plan_id: String,
    pub plan_name: String,
    /// Newest first.
    pub versions: Vec<String>,
}

/// A published API version a user may sign a contract with, and the plans visible to them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiOffer {
    pub org_id: String,
    pub org_name: String,
    pub api_id: String,
    pub api_name: String,
    pub version: String,
    pub plans: Vec<ApiPlanDto>,
}

/// A contract of a client version with an API version through a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContractDto {
    pub id: i64,
    pub client_org_id: String,
    pub client_org_name: String,
    pub client_id: String,
    pub client_name: String,
    pub client_version: String,
    pub api_org_id: String,
    pub api_org_name: String,
    pub api_id: String,
    pub api_name: String,
    pub api_version: String,
    pub plan_id: String,
    pub plan_name: String,
    pub plan_version: String,
    pub status: crate::ContractStatus,
    /// The gateway URL of the API version.
    pub gateway_url: String,
    pub requested_by: String,
    pub created_on: DateTime<Utc>,
    /// A change to another plan that awaits approval; the plan above stays in force until then.
    #[serde(default)]
    pub pending_plan: Option<PendingPlan>,
}

/// The plan a contract is to move to once an approver accepts the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingPlan {
    pub plan_id: String,
    pub plan_name: String,
    pub plan_version: String,
    pub requested_by: String,
    pub requested_on: DateTime<Utc>,
}

/// A plan a contract may move to: one its API version offers and the user may see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanChoice {
    pub plan_id: String,
    pub plan_name: String,
    pub plan_version: String,
    /// The plan in force on the contract.
    pub current: bool,
    /// Moving to it waits for an approver (the plan asks for approval and the user may not
    /// approve it).
    pub needs_approval: bool,
    /// `domain::portal::limits_summary` of the plan's policies.
    pub limits: Vec<String>,
}

/// What the Change plan dialog shows: the contract and the plans it may move to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanChoices {
    pub contract: ContractDto,
    pub plans: Vec<PlanChoice>,
}

/// One notification of the signed-in user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationDto {
    pub id: i64,
    /// "approval_requested", "contract_approved", "contract_rejected", "contract_revoked",
    /// "client_status".
    pub reason: String,
    pub message: String,
    /// Where it leads, if anywhere.
    pub link: Option<String>,
    pub read: bool,
    pub created_on: DateTime<Utc>,
}

/// What the header bell and the approvals link count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboxCounts {
    pub unread_notifications: u64,
    pub pending_approvals: u64,
}

/// A policy attached to a client, plan or API version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyDto {
    pub id: i64,
    pub definition_id: String,
    /// The definition's name, e.g. "Rate Limiting".
    pub name: String,
    /// "Security", "Limitation", "Modification" or "Other".
    pub category: String,
    /// One line from the configuration, e.g. "Consumers are limited to 100 requests per
    /// Minute per Client".
    pub description: String,
    pub order: i32,
    /// The configuration as JSON (what the edit form starts from).
    pub configuration: String,
}

/// A policy definition the Policies wizard offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyDefinitionDto {
    pub id: String,
    pub name: String,
    pub category: String,
    pub summary: String,
}

/// The policy chains an API version's callers meet: without a key (a public API), and through
/// each plan it offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiChainsDto {
    /// For a public API version: its own policies, all a call without an API key meets.
    pub public: Option<Vec<PolicyDto>>,
    /// The chain through each plan it offers, in the offer's order.
    pub plans: Vec<PlanChainDto>,
}

/// The policies a request through one offered plan of an API version meets, after the client's
/// own: the plan's, then the API's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanChainDto {
    pub plan_id: String,
    pub plan_name: String,
    pub plan_version: String,
    pub plan_policies: Vec<PolicyDto>,
    pub api_policies: Vec<PolicyDto>,
}

/// Traffic of one chart bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricsPoint {
    /// Start of the bucket, epoch minutes (UTC).
    pub minute: i64,
    /// Responses by class: 1xx … 5xx.
    pub by_class: [u64; 5],
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
}

/// Requests attributed to one client version or plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageRow {
    pub label: String,
    pub requests: u64,
    /// Responses with status 4xx or 5xx.
    pub errors: u64,
}

/// What the Metrics tab of a client or API version shows for one time range.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricsDto {
    /// `domain::metrics::Range::as_str`.
    pub range: String,
    pub bucket_minutes: i64,
    pub points: Vec<MetricsPoint>,
    pub total: u64,
    pub by_class: [u64; 5],
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// API page: requests by client version ("Org / Client 1.0", or "Anonymous").
    pub by_client: Vec<UsageRow>,
    /// Requests by plan ("Gold 1.0"); on a client page, by API and plan.
    pub by_plan: Vec<UsageRow>,
}

/// Where a contract stands against one limiting policy (portal's My Clients).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LimitUsage {
    /// "Rate limit", "Quota" or "Transfer quota".
    pub kind: String,
    /// "100 requests per Minute", "1 GB per Month".
    pub summary: String,
    pub limit: u64,
    pub used: u64,
    pub remaining: u64,
    /// Seconds until the counter resets; `None` when nothing was counted yet.
    pub resets_in: Option<u64>,
}

/// An API in the portal's catalog: its newest published version the visitor may see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalApiCard {
    pub org_id: String,
    pub org_name: String,
    pub api_id: String,
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    pub version: String,
}

/// A plan card on an API's portal page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalPlan {
    pub plan_id: String,
    pub name: String,
    pub description: String,
    pub version: String,
    /// "100 requests per Minute", ... or "Unlimited".
    pub limits: Vec<String>,
    pub requires_approval: bool,
}

/// An API's portal page ("Learn More") for one published version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalApiDetail {
    pub org_id: String,
    pub org_name: String,
    pub api_id: String,
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    pub extended_description_html: String,
    /// Published versions the visitor may see, newest first.
    pub versions: Vec<String>,
    pub version: String,
    pub gateway_url: String,
    pub public_api: bool,
    pub has_definition: bool,
    pub operations: Vec<crate::portal::OperationGroup>,
    pub plans: Vec<PortalPlan>,
}

/// A client version the user may pick in the Sign Up wizard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientChoice {
    pub org_id: String,
    pub org_name: String,
    pub client_id: String,
    pub name: String,
    pub version: String,
    /// The contract this version already has with the API version, if any.
    pub existing_contract: Option<String>,
}

/// What the Sign Up wizard needs: the user's client versions and organizations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignUpOptions {
    pub clients: Vec<ClientChoice>,
    /// Organizations where the user may create clients (empty: a home organization will be
    /// created on the fly).
    pub orgs: Vec<OrgSummary>,
}

/// The outcome of a portal sign-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignUpResult {
    pub org_id: String,
    pub client_id: String,
    pub version: String,
    pub status: crate::ClientStatus,
    pub contract: crate::ContractStatus,
    /// Who decides when the contract awaits approval ("the plan administrators of X").
    pub approver: Option<String>,
}

/// A client version on the portal's My Clients page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyClientVersion {
    pub org_id: String,
    pub org_name: String,
    pub client_id: String,
    pub name: String,
    pub version: String,
    pub status: crate::ClientStatus,
    pub unpublished_changes: bool,
    /// The version's API keys, newest first (see [`ClientVersionDetail::keys`]).
    pub keys: Vec<ApiKeyDto>,
    /// Whether the caller holds clientEdit: may show, rotate, add and revoke keys, and change
    /// plans or break contracts.
    pub can_edit: bool,
    pub contracts: Vec<ContractDto>,
    /// Per contract (by id): where it stands against its limiting policies.
    pub usage: Vec<ContractUsage>,
    pub can_admin: bool,
}

/// A contract's limits and what is used of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContractUsage {
    pub contract_id: i64,
    pub limits: Vec<LimitUsage>,
}

/// One API key of a client version, without the key itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyDto {
    pub id: i64,
    pub label: Option<String>,
    /// The key's last four characters ("…a1b2").
    pub last4: String,
    pub created_on: DateTime<Utc>,
    /// The creator's display name.
    pub created_by: String,
    pub expires_on: Option<DateTime<Utc>>,
    pub revoked_on: Option<DateTime<Utc>>,
    /// The minute of the last request with this key through the gateway.
    pub last_used_on: Option<DateTime<Utc>>,
    /// The state when the list was read.
    pub state: crate::credentials::KeyState,
}

impl ApiKeyDto {
    /// The newest key that works: the one the API Key card shows.
    pub fn current(keys: &[ApiKeyDto]) -> Option<&ApiKeyDto> {
        keys.iter()
            .filter(|k| k.state.works())
            .max_by_key(|k| (k.created_on, k.id))
    }
}

/// A key just created (rotated, added or brought): the key itself is in `secret`, shown once.
/// Its `Debug` leaves the secret out.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewApiKey {
    pub key: ApiKeyDto,
    pub secret: String,
}

/// What a key change asks for: a rotation with its overlap, or a new key next to the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum KeyRequest {
    /// A new key; the current one keeps working for the overlap.
    Rotate {
        overlap: crate::credentials::Overlap,
        label: String,
    },
    /// An additional key: generated, or `own` (brought from another gateway), with an optional
    /// expiry.
    Add {
        label: String,
        own: Option<String>,
        expires_on: Option<DateTime<Utc>>,
    },
}

/// An organization a personal access token is limited to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenOrg {
    pub id: String,
    pub name: String,
}

/// One of the caller's personal access tokens, without the token itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessTokenDto {
    pub id: String,
    pub name: String,
    pub scope: crate::access_tokens::TokenScope,
    /// `None`: every organization of its owner.
    pub orgs: Option<Vec<TokenOrg>>,
    /// The token's last four characters ("…Ab3x").
    pub last_four: String,
    pub created_on: DateTime<Utc>,
    /// The last day it works (through the end of that day, UTC).
    pub expires_on: chrono::NaiveDate,
    /// The minute of its last use.
    pub last_used_on: Option<DateTime<Utc>>,
    pub revoked_on: Option<DateTime<Utc>>,
    /// The state when the list was read.
    pub state: crate::access_tokens::TokenState,
}

/// What the Generate new token form asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccessToken {
    pub name: String,
    /// The last day it works.
    pub expires_on: chrono::NaiveDate,
    pub read_only: bool,
    /// Organization ids to limit it to; `None`: all of the owner's organizations.
    pub orgs: Option<Vec<String>>,
}

/// A token just created: the token itself is in `secret`, shown once. Its `Debug` leaves the
/// secret out.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedAccessToken {
    pub token: AccessTokenDto,
    pub secret: String,
}

impl std::fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewApiKey")
            .field("key", &self.key)
            .field("secret", &"…")
            .finish()
    }
}

impl std::fmt::Debug for CreatedAccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedAccessToken")
            .field("token", &self.token)
            .field("secret", &"…")
            .finish()
    }
}
