//! Lifecycle transitions of client, API and plan versions and the rules for new contracts
//! (spec §2). Each action is one pure function: it takes the facts and answers the new status or
//! the reason for refusing, in words the user sees.

use crate::{ApiStatus, ClientStatus, ContractStatus, PlanStatus};

/// Why an action is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

fn refuse<T>(message: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal(message.into()))
}

/// What the register action needs to know about a client version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientFacts {
    pub status: ClientStatus,
    pub contracts: usize,
    pub awaiting_approval: usize,
    /// Registered and changed since (policies or contracts added, changed, removed).
    pub changed_since_registration: bool,
}

/// Register (or re-register) a client version with the gateway.
pub fn register(f: ClientFacts) -> Result<ClientStatus, Refusal> {
    if f.awaiting_approval > 0 {
        return refuse("The client version cannot be registered while a contract awaits approval.");
    }
    if f.contracts == 0 {
        return refuse(
            "The client version needs at least one contract before it can be registered.",
        );
    }
    if f.status == ClientStatus::Registered && !f.changed_since_registration {
        return refuse("The client version has not changed since it was last registered.");
    }
    Ok(ClientStatus::Registered)
}

/// Unregister (= retire) a client version: allowed from Registered or Awaiting Approval.
pub fn unregister(status: ClientStatus) -> Result<ClientStatus, Refusal> {
    match status {
        ClientStatus::Registered | ClientStatus::AwaitingApproval => Ok(ClientStatus::Retired),
        ClientStatus::Retired => refuse("The client version is already retired."),
        _ => refuse(
            "Only a registered client version (or one awaiting approval) can be unregistered.",
        ),
    }
}

/// Delete a client (all its versions): refused while any version is Registered.
pub fn delete_client(statuses: &[ClientStatus]) -> Result<(), Refusal> {
    if statuses.contains(&ClientStatus::Registered) {
        return refuse("Unregister every registered version before deleting the client.");
    }
    Ok(())
}

/// What is missing before an API version can be published ("Why can't I publish?").
pub fn api_publish_checklist(
    has_endpoint: bool,
    is_public: bool,
    plans: usize,
) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if !has_endpoint {
        missing.push("Set the endpoint URL on the Implementation tab.");
    }
    if !is_public && plans == 0 {
        missing.push("Offer at least one locked plan, or make the API public.");
    }
    missing
}

/// Publish an API version: needs Ready.
pub fn publish_api(status: ApiStatus) -> Result<ApiStatus, Refusal> {
    match status {
        ApiStatus::Ready => Ok(ApiStatus::Published),
        ApiStatus::Published => refuse("The API version is already published."),
        ApiStatus::Retired => refuse("A retired API version cannot be published again."),
        ApiStatus::Created => refuse("The API version is not ready to be published."),
    }
}

/// Retire an API version: only from Published.
pub fn retire_api(status: ApiStatus) -> Result<ApiStatus, Refusal> {
    match status {
        ApiStatus::Published => Ok(ApiStatus::Retired),
        _ => refuse("Only a published API version can be retired."),
    }
}

/// Delete an API: refused while any version is Published.
pub fn delete_api(statuses: &[ApiStatus]) -> Result<(), Refusal> {
    if statuses.contains(&ApiStatus::Published) {
        return refuse("Retire every published version before deleting the API.");
    }
    Ok(())
}

/// Lock a plan version (irreversible).
pub fn lock_plan(status: PlanStatus) -> Result<PlanStatus, Refusal> {
    match status {
        PlanStatus::Created => Ok(PlanStatus::Locked),
        PlanStatus::Locked => refuse("The plan version is already locked."),
    }
}

/// Delete a plan: refused once any version was locked.
pub fn delete_plan(statuses: &[PlanStatus]) -> Result<(), Refusal> {
    if statuses.contains(&PlanStatus::Locked) {
        return refuse("A plan with a locked version cannot be deleted.");
    }
    Ok(())
}

/// The facts that decide whether a new contract may be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContractFacts {
    pub client_status: ClientStatus,
    pub api_status: ApiStatus,
    /// The API version offers the chosen plan.
    pub plan_offered: bool,
    pub plan_status: PlanStatus,
    /// A contract between this client version and API version already exists.
    pub exists: bool,
}

/// Checks the rules for a new contract, each refusal with its own message.
pub fn new_contract(f: ContractFacts) -> Result<(), Refusal> {
    if f.client_status == ClientStatus::Retired {
        return refuse("A retired client version cannot get new contracts.");
    }
    if f.api_status != ApiStatus::Published {
        return refuse("Contracts can only be made with a published API version.");
    }
    if !f.plan_offered {
        return refuse("The API version does not offer this plan.");
    }
    if f.plan_status != PlanStatus::Locked {
        return refuse("The plan version is not locked.");
    }
    if f.exists {
        return refuse("This client version already has a contract with this API version.");
    }
    Ok(())
}

/// The status of a new contract: Awaiting Approval when the plan requires approval and the
/// requester may not approve it themselves, in effect ("Created") otherwise.
pub fn contract_status(requires_approval: bool, requester_may_approve: bool) -> ContractStatus {
    if requires_approval && !requester_may_approve {
        ContractStatus::AwaitingApproval
    } else {
        ContractStatus::Created
    }
}

/// What an approver decides on: a new contract, or a change of plan on one in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    NewContract,
    PlanChange,
}

/// Approve or reject a contract: one that awaits approval, or one whose change of plan does.
pub fn decide_contract(
    status: ContractStatus,
    plan_change_pending: bool,
) -> Result<Decision, Refusal> {
    match status {
        ContractStatus::AwaitingApproval => Ok(Decision::NewContract),
        ContractStatus::Created if plan_change_pending => Ok(Decision::PlanChange),
        ContractStatus::Created => refuse("This contract was already approved."),
    }
}

/// The facts that decide whether a contract may move to another plan of its API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanChangeFacts {
    pub client_status: ClientStatus,
    pub api_status: ApiStatus,
    pub contract_status: ContractStatus,
    /// A change of plan on this contract already awaits approval.
    pub change_pending: bool,
    /// The chosen plan is the one in force.
    pub same_plan: bool,
    /// The API version offers the chosen plan to the requester (a hidden plan is not offered).
    pub plan_offered: bool,
    pub plan_status: PlanStatus,
    /// The API version asks for approval of the chosen plan.
    pub requires_approval: bool,
    /// The requester may approve contracts of the API's organization.
    pub requester_may_approve: bool,
}

/// How a change of plan takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PlanChange {
    /// The new plan is in force at once (its limits count from zero).
    Immediate,
    /// The old plan stays in force until an approver accepts the new one; a rejection keeps it.
    AwaitingApproval,
}

/// Change the plan of a contract, keeping the client version's key. One request at a time: a
/// second one is refused until the first is decided, so that an approver always decides on
/// the plan they were shown.
pub fn change_contract_plan(f: PlanChangeFacts) -> Result<PlanChange, Refusal> {
    if f.contract_status == ContractStatus::AwaitingApproval {
        return refuse("This contract still awaits approval; wait for the decision first.");
    }
    if f.change_pending {
        return refuse(
            "A change of plan on this contract already awaits approval; wait for the decision first.",
        );
    }
    if f.client_status == ClientStatus::Retired {
        return refuse("A retired client version cannot change its contracts.");
    }
    if f.api_status != ApiStatus::Published {
        return refuse("Only a contract with a published API version can change its plan.");
    }
    if !f.plan_offered {
        return refuse("The API version does not offer this plan.");
    }
    if f.plan_status != PlanStatus::Locked {
        return refuse("The plan version is not locked.");
    }
    if f.same_plan {
        return refuse("The contract already uses this plan.");
    }
    Ok(
        match contract_status(f.requires_approval, f.requester_may_approve) {
            ContractStatus::AwaitingApproval => PlanChange::AwaitingApproval,
            ContractStatus::Created => PlanChange::Immediate,
        },
    )
}

/// What happens to a client version when contracts are removed (break, reject):
/// a Registered version that loses its last contract is retired; otherwise the status is
/// recomputed (a Registered version stays Registered: the gateway is updated at once).
pub fn after_contract_removed(
    status: ClientStatus,
    remaining: usize,
    awaiting_approval: usize,
) -> ClientStatus {
    if status == ClientStatus::Registered && remaining == 0 {
        ClientStatus::Retired
    } else {
        ClientStatus::determine(status, remaining, awaiting_approval)
    }
}

/// A part of an API version's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiPart {
    /// Endpoint URL, endpoint type and content type, and how the gateway treats the backend
    /// (request body limit, encoded slashes, key in the query, timeouts, concurrency bound):
    /// operational settings a published version may still change.
    Endpoint,
    PublicFlag,
    Definition,
    ExtendedDescription,
    /// Which plans are offered, and their order.
    PlanSet,
    /// The approval and discoverability flags of plans already offered.
    PlanFlags,
    Policies,
}

impl ApiPart {
    fn noun(self) -> &'static str {
        match self {
            ApiPart::Endpoint => "endpoint",
            ApiPart::PublicFlag => "public flag",
            ApiPart::Definition => "definition",
            ApiPart::ExtendedDescription => "extended description",
            ApiPart::PlanSet => "plans",
            ApiPart::PlanFlags => "plan settings",
            ApiPart::Policies => "policies",
        }
    }
}

/// Whether a part of an API version may still change. A published version is frozen except
/// its extended description, endpoint properties and per-plan flags; a retired one is final.
pub fn change_api(status: ApiStatus, part: ApiPart) -> Result<(), Refusal> {
    match status {
        ApiStatus::Created | ApiStatus::Ready => Ok(()),
        ApiStatus::Published
            if matches!(
                part,
                ApiPart::Endpoint | ApiPart::ExtendedDescription | ApiPart::PlanFlags
            ) =>
        {
            Ok(())
        }
        ApiStatus::Published => refuse(format!(
            "A published API version cannot change its {}; create a new version instead.",
            part.noun()
        )),
        ApiStatus::Retired => refuse("A retired API version cannot be changed."),
    }
}

/// A locked plan version takes no policy changes.
pub fn change_plan_policies(status: PlanStatus) -> Result<(), Refusal> {
    match status {
        PlanStatus::Created => Ok(()),
        PlanStatus::Locked => {
            refuse("A locked plan version takes no policy changes; create a new version instead.")
        }
    }
}

/// Only locked plan versions can be offered by an API.
pub fn offer_plan(status: PlanStatus) -> Result<(), Refusal> {
    match status {
        PlanStatus::Locked => Ok(()),
        PlanStatus::Created => refuse("Lock the plan version before an API offers it."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ClientStatus as C;

    fn facts(status: C, contracts: usize, awaiting: usize, changed: bool) -> ClientFacts {
        ClientFacts {
            status,
            contracts,
            awaiting_approval: awaiting,
            changed_since_registration: changed,
        }
    }

    #[test]
    fn register_transitions() {
        let cases = [
            (facts(C::Ready, 1, 0, false), Ok(C::Registered)),
            (facts(C::Retired, 1, 0, false), Ok(C::Registered)),
            (facts(C::Registered, 2, 0, true), Ok(C::Registered)),
            (facts(C::Registered, 2, 0, false), Err("has not changed")),
            (
                facts(C::AwaitingApproval, 1, 1, false),
                Err("awaits approval"),
            ),
            (facts(C::Created, 0, 0, false), Err("at least one contract")),
        ];
        for (f, expected) in cases {
            match (register(f), expected) {
                (Ok(s), Ok(e)) => assert_eq!(s, e, "{f:?}"),
                (Err(r), Err(e)) => assert!(r.0.contains(e), "{f:?}: {r}"),
                (got, e) => panic!("{f:?}: got {got:?}, expected {e:?}"),
            }
        }
    }

    #[test]
    fn unregister_transitions() {
        for s in C::ALL {
            let allowed = matches!(s, C::Registered | C::AwaitingApproval);
            assert_eq!(unregister(s).is_ok(), allowed, "{s:?}");
            if allowed {
                assert_eq!(unregister(s).unwrap(), C::Retired);
            }
        }
    }

    #[test]
    fn deletes() {
        assert!(delete_client(&[C::Created, C::Retired]).is_ok());
        assert!(delete_client(&[C::Created, C::Registered]).is_err());
        assert!(delete_api(&[ApiStatus::Retired, ApiStatus::Created]).is_ok());
        assert!(delete_api(&[ApiStatus::Published]).is_err());
        assert!(delete_plan(&[PlanStatus::Created]).is_ok());
        assert!(delete_plan(&[PlanStatus::Created, PlanStatus::Locked]).is_err());
    }

    #[test]
    fn api_transitions() {
        for s in ApiStatus::ALL {
            assert_eq!(
                publish_api(s).is_ok(),
                s == ApiStatus::Ready,
                "publish {s:?}"
            );
            assert_eq!(
                retire_api(s).is_ok(),
                s == ApiStatus::Published,
                "retire {s:?}"
            );
        }
        assert_eq!(api_publish_checklist(true, false, 1), Vec::<&str>::new());
        assert_eq!(api_publish_checklist(true, true, 0), Vec::<&str>::new());
        assert_eq!(api_publish_checklist(false, false, 0).len(), 2);
    }

    #[test]
    fn plan_transitions() {
        assert_eq!(lock_plan(PlanStatus::Created), Ok(PlanStatus::Locked));
        assert!(lock_plan(PlanStatus::Locked).is_err());
    }

    #[test]
    fn contract_rules_each_with_its_message() {
        let ok = ContractFacts {
            client_status: C::Ready,
            api_status: ApiStatus::Published,
            plan_offered: true,
            plan_status: PlanStatus::Locked,
            exists: false,
        };
        assert!(new_contract(ok).is_ok());
        let refusals = [
            (
                ContractFacts {
                    client_status: C::Retired,
                    ..ok
                },
                "retired client",
            ),
            (
                ContractFacts {
                    api_status: ApiStatus::Ready,
                    ..ok
                },
                "published API",
            ),
            (
                ContractFacts {
                    plan_offered: false,
                    ..ok
                },
                "does not offer",
            ),
            (
                ContractFacts {
                    plan_status: PlanStatus::Created,
                    ..ok
                },
                "not locked",
            ),
            (
                ContractFacts { exists: true, ..ok },
                "already has a contract",
            ),
        ];
        for (f, msg) in refusals {
            let r = new_contract(f).unwrap_err();
            assert!(r.0.contains(msg), "{f:?}: {r}");
        }
    }

    #[test]
    fn contract_approval_and_removal() {
        use ContractStatus as K;
        assert_eq!(contract_status(true, false), K::AwaitingApproval);
        assert_eq!(contract_status(true, true), K::Created);
        assert_eq!(contract_status(false, false), K::Created);
        assert_eq!(
            decide_contract(K::AwaitingApproval, false),
            Ok(Decision::NewContract)
        );
        assert_eq!(decide_contract(K::Created, true), Ok(Decision::PlanChange));
        assert!(decide_contract(K::Created, false).is_err());
        // (status, remaining, awaiting, expected)
        let cases = [
            (C::Registered, 0, 0, C::Retired),
            (C::Registered, 1, 0, C::Registered),
            (C::Ready, 0, 0, C::Created),
            (C::AwaitingApproval, 1, 0, C::Ready),
            (C::AwaitingApproval, 0, 0, C::Created),
            (C::Retired, 0, 0, C::Retired),
        ];
        for (s, remaining, awaiting, expected) in cases {
            assert_eq!(
                after_contract_removed(s, remaining, awaiting),
                expected,
                "{s:?}"
            );
        }
    }

    #[test]
    fn plan_change_rules_each_with_its_message() {
        let ok = PlanChangeFacts {
            client_status: C::Registered,
            api_status: ApiStatus::Published,
            contract_status: ContractStatus::Created,
            change_pending: false,
            same_plan: false,
            plan_offered: true,
            plan_status: PlanStatus::Locked,
            requires_approval: false,
            requester_may_approve: false,
        };
        assert_eq!(change_contract_plan(ok), Ok(PlanChange::Immediate));
        let approval = PlanChangeFacts {
            requires_approval: true,
            ..ok
        };
        assert_eq!(
            change_contract_plan(approval),
            Ok(PlanChange::AwaitingApproval)
        );
        assert_eq!(
            change_contract_plan(PlanChangeFacts {
                requester_may_approve: true,
                ..approval
            }),
            Ok(PlanChange::Immediate),
            "an approver needs no approval"
        );
        for s in [C::Created, C::Ready, C::AwaitingApproval] {
            let f = PlanChangeFacts {
                client_status: s,
                ..ok
            };
            assert!(change_contract_plan(f).is_ok(), "{s:?}");
        }
        let refusals = [
            (
                PlanChangeFacts {
                    contract_status: ContractStatus::AwaitingApproval,
                    ..ok
                },
                "still awaits approval",
            ),
            (
                PlanChangeFacts {
                    change_pending: true,
                    ..ok
                },
                "already awaits approval",
            ),
            (
                PlanChangeFacts {
                    client_status: C::Retired,
                    ..ok
                },
                "retired client",
            ),
            (
                PlanChangeFacts {
                    api_status: ApiStatus::Retired,
                    ..ok
                },
                "published API",
            ),
            (
                PlanChangeFacts {
                    plan_offered: false,
                    ..ok
                },
                "does not offer",
            ),
            (
                PlanChangeFacts {
                    plan_status: PlanStatus::Created,
                    ..ok
                },
                "not locked",
            ),
            (
                PlanChangeFacts {
                    same_plan: true,
                    ..ok
                },
                "already uses this plan",
            ),
        ];
        for (f, msg) in refusals {
            let r = change_contract_plan(f).unwrap_err();
            assert!(r.0.contains(msg), "{f:?}: {r}");
        }
    }

    #[test]
    fn api_parts_by_status() {
        use ApiPart::*;
        let parts = [
            Endpoint,
            PublicFlag,
            Definition,
            ExtendedDescription,
            PlanSet,
            PlanFlags,
            Policies,
        ];
        for part in parts {
            assert!(change_api(ApiStatus::Created, part).is_ok());
            assert!(change_api(ApiStatus::Ready, part).is_ok());
            assert!(change_api(ApiStatus::Retired, part).is_err());
            let allowed = matches!(part, Endpoint | ExtendedDescription | PlanFlags);
            assert_eq!(
                change_api(ApiStatus::Published, part).is_ok(),
                allowed,
                "{part:?}"
            );
        }
        let r = change_api(ApiStatus::Published, Definition).unwrap_err();
        assert!(r.0.contains("cannot change its definition"), "{r}");
    }

    #[test]
    fn plan_policies_and_offers() {
        assert!(change_plan_policies(PlanStatus::Created).is_ok());
        assert!(change_plan_policies(PlanStatus::Locked).is_err());
        assert!(offer_plan(PlanStatus::Locked).is_ok());
        assert!(offer_plan(PlanStatus::Created).is_err());
    }
}
