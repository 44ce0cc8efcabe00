//! Lifecycle statuses of client apps, APIs, plans and contracts.
//!
//! Each status has a stable storage string ([`as_str`](ClientStatus::as_str),
//! also used by serde), a parser for it, and a human-readable label.

/// The lifecycle status of a client app version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ClientStatus {
    /// No contracts yet.
    Created,
    /// Has contracts and can be registered.
    Ready,
    /// At least one contract waits for approval by the plan's owner.
    AwaitingApproval,
    /// Registered with the gateway.
    Registered,
    /// Retired; final.
    Retired,
}

impl ClientStatus {
    /// Every client status, in lifecycle order.
    pub const ALL: [ClientStatus; 5] = [
        ClientStatus::Created,
        ClientStatus::Ready,
        ClientStatus::AwaitingApproval,
        ClientStatus::Registered,
        ClientStatus::Retired,
    ];

    /// The stable storage string, e.g. `"awaiting_approval"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientStatus::Created => "created",
            ClientStatus::Ready => "ready",
            ClientStatus::AwaitingApproval => "awaiting_approval",
            ClientStatus::Registered => "registered",
            ClientStatus::Retired => "retired",
        }
    }

    /// Parses the string form produced by [`ClientStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The human-readable label, e.g. `"Awaiting Approval"`.
    pub fn label(self) -> &'static str {
        match self {
            ClientStatus::Created => "Created",
            ClientStatus::Ready => "Ready",
            ClientStatus::AwaitingApproval => "Awaiting Approval",
            ClientStatus::Registered => "Registered",
            ClientStatus::Retired => "Retired",
        }
    }

    /// Recomputes a client app's status after its contracts changed.
    ///
    /// `contracts` is the total number of contracts and `awaiting_approval`
    /// how many of them still wait for approval. The first matching rule wins:
    ///
    /// 1. `Retired` stays `Retired`.
    /// 2. Any contract awaiting approval gives `AwaitingApproval`.
    /// 3. `Registered` stays `Registered`.
    /// 4. No contracts gives `Created`.
    /// 5. Otherwise `Ready`.
    pub fn determine(
        current: ClientStatus,
        contracts: usize,
        awaiting_approval: usize,
    ) -> ClientStatus {
        match current {
            ClientStatus::Retired => ClientStatus::Retired,
            _ if awaiting_approval > 0 => ClientStatus::AwaitingApproval,
            ClientStatus::Registered => ClientStatus::Registered,
            _ if contracts == 0 => ClientStatus::Created,
            _ => ClientStatus::Ready,
        }
    }
}

/// The lifecycle status of an API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ApiStatus {
    /// Missing an endpoint, or neither public nor offered in a plan.
    Created,
    /// Complete and ready to be published.
    Ready,
    /// Published to the gateway.
    Published,
    /// Retired; final.
    Retired,
}

impl ApiStatus {
    /// Every API status, in lifecycle order.
    pub const ALL: [ApiStatus; 4] = [
        ApiStatus::Created,
        ApiStatus::Ready,
        ApiStatus::Published,
        ApiStatus::Retired,
    ];

    /// The stable storage string, e.g. `"published"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiStatus::Created => "created",
            ApiStatus::Ready => "ready",
            ApiStatus::Published => "published",
            ApiStatus::Retired => "retired",
        }
    }

    /// Parses the string form produced by [`ApiStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The human-readable label, e.g. `"Published"`.
    pub fn label(self) -> &'static str {
        match self {
            ApiStatus::Created => "Created",
            ApiStatus::Ready => "Ready",
            ApiStatus::Published => "Published",
            ApiStatus::Retired => "Retired",
        }
    }

    /// Recomputes an API's status after its configuration changed.
    ///
    /// `Published` and `Retired` stay as they are. Otherwise the API is
    /// `Ready` if it has an endpoint and is either public or offered in at
    /// least one plan, and `Created` if not.
    pub fn determine(
        current: ApiStatus,
        has_endpoint: bool,
        is_public: bool,
        plan_count: usize,
    ) -> ApiStatus {
        match current {
            ApiStatus::Published | ApiStatus::Retired => current,
            _ if has_endpoint && (is_public || plan_count > 0) => ApiStatus::Ready,
            _ => ApiStatus::Created,
        }
    }
}

/// The lifecycle status of a plan version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PlanStatus {
    /// Still editable.
    Created,
    /// Locked; can be used in contracts but no longer changed.
    Locked,
}

impl PlanStatus {
    /// Every plan status, in lifecycle order.
    pub const ALL: [PlanStatus; 2] = [PlanStatus::Created, PlanStatus::Locked];

    /// The stable storage string, e.g. `"locked"`.
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Created => "created",
            PlanStatus::Locked => "locked",
        }
    }

    /// Parses the string form produced by [`PlanStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The human-readable label, e.g. `"Locked"`.
    pub fn label(self) -> &'static str {
        match self {
            PlanStatus::Created => "Created",
            PlanStatus::Locked => "Locked",
        }
    }
}

/// The status of a contract between a client app and an API plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ContractStatus {
    /// Waiting for the plan's owner to approve it.
    AwaitingApproval,
    /// Approved (or needing no approval) and in effect; labelled "Active".
    Created,
}

impl ContractStatus {
    /// Every contract status.
    pub const ALL: [ContractStatus; 2] =
        [ContractStatus::AwaitingApproval, ContractStatus::Created];

    /// The stable storage string, e.g. `"awaiting_approval"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ContractStatus::AwaitingApproval => "awaiting_approval",
            ContractStatus::Created => "created",
        }
    }

    /// Parses the string form produced by [`ContractStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The human-readable label: `"Awaiting Approval"` or `"Active"`.
    pub fn label(self) -> &'static str {
        match self {
            ContractStatus::AwaitingApproval => "Awaiting Approval",
            ContractStatus::Created => "Active",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_status_strings() {
        let cases = [
            (ClientStatus::Created, "created", "Created"),
            (ClientStatus::Ready, "ready", "Ready"),
            (
                ClientStatus::AwaitingApproval,
                "awaiting_approval",
                "Awaiting Approval",
            ),
            (ClientStatus::Registered, "registered", "Registered"),
            (ClientStatus::Retired, "retired", "Retired"),
        ];
        assert_eq!(ClientStatus::ALL.len(), cases.len());
        for (status, s, label) in cases {
            assert_eq!(status.as_str(), s);
            assert_eq!(ClientStatus::parse(s), Some(status));
            assert_eq!(status.label(), label);
        }
        for bad in ["", "Created", "awaiting-approval", "active"] {
            assert_eq!(ClientStatus::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn client_status_determine_rules() {
        use ClientStatus::*;
        // (current, contracts, awaiting approval, expected, rule)
        let cases = [
            // 1. Retired stays Retired, even with pending approvals.
            (Retired, 0, 0, Retired, "retired, nothing"),
            (Retired, 3, 0, Retired, "retired with contracts"),
            (Retired, 3, 2, Retired, "retired with pending"),
            // 2. Any pending approval wins over everything else.
            (Created, 1, 1, AwaitingApproval, "created -> pending"),
            (Ready, 2, 1, AwaitingApproval, "ready -> pending"),
            (Registered, 2, 1, AwaitingApproval, "registered -> pending"),
            (AwaitingApproval, 4, 4, AwaitingApproval, "still pending"),
            // 3. Registered stays Registered without pending approvals.
            (Registered, 2, 0, Registered, "registered with contracts"),
            (Registered, 0, 0, Registered, "registered without contracts"),
            // 4. No contracts means Created.
            (Created, 0, 0, Created, "created stays created"),
            (Ready, 0, 0, Created, "ready loses its contracts"),
            (AwaitingApproval, 0, 0, Created, "pending contract removed"),
            // 5. Otherwise Ready.
            (Created, 1, 0, Ready, "first contract"),
            (Ready, 5, 0, Ready, "ready stays ready"),
            (AwaitingApproval, 2, 0, Ready, "all approved"),
        ];
        for (current, contracts, awaiting, expected, rule) in cases {
            assert_eq!(
                ClientStatus::determine(current, contracts, awaiting),
                expected,
                "{rule}"
            );
        }
    }

    #[test]
    fn api_status_strings() {
        let cases = [
            (ApiStatus::Created, "created", "Created"),
            (ApiStatus::Ready, "ready", "Ready"),
            (ApiStatus::Published, "published", "Published"),
            (ApiStatus::Retired, "retired", "Retired"),
        ];
        assert_eq!(ApiStatus::ALL.len(), cases.len());
        for (status, s, label) in cases {
            assert_eq!(status.as_str(), s);
            assert_eq!(ApiStatus::parse(s), Some(status));
            assert_eq!(status.label(), label);
        }
        assert_eq!(ApiStatus::parse("Published"), None);
    }

    #[test]
    fn api_status_determine_rules() {
        use ApiStatus::*;
        // (current, has endpoint, public, plans, expected)
        let cases = [
            (Published, false, false, 0, Published),
            (Published, true, true, 3, Published),
            (Retired, false, false, 0, Retired),
            (Retired, true, true, 1, Retired),
            (Created, false, false, 0, Created),
            (Created, false, true, 2, Created),
            (Created, true, false, 0, Created),
            (Created, true, true, 0, Ready),
            (Created, true, false, 1, Ready),
            (Created, true, true, 2, Ready),
            (Ready, true, false, 0, Created),
            (Ready, false, true, 1, Created),
            (Ready, true, false, 3, Ready),
        ];
        for (current, endpoint, public, plans, expected) in cases {
            assert_eq!(
                ApiStatus::determine(current, endpoint, public, plans),
                expected,
                "{current:?} endpoint={endpoint} public={public} plans={plans}"
            );
        }
    }

    #[test]
    fn plan_status_strings() {
        let cases = [
            (PlanStatus::Created, "created", "Created"),
            (PlanStatus::Locked, "locked", "Locked"),
        ];
        for (status, s, label) in cases {
            assert_eq!(status.as_str(), s);
            assert_eq!(PlanStatus::parse(s), Some(status));
            assert_eq!(status.label(), label);
        }
        assert_eq!(PlanStatus::parse("published"), None);
    }

    #[test]
    fn contract_status_strings() {
        let cases = [
            (
                ContractStatus::AwaitingApproval,
                "awaiting_approval",
                "Awaiting Approval",
            ),
            (ContractStatus::Created, "created", "Active"),
        ];
        for (status, s, label) in cases {
            assert_eq!(status.as_str(), s);
            assert_eq!(ContractStatus::parse(s), Some(status));
            assert_eq!(status.label(), label);
        }
        assert_eq!(ContractStatus::parse("active"), None);
    }
}
