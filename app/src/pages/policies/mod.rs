//! The Policies tab of client, plan and API versions, in one folder:
//!
//! - this module: who may change a version's policies ([`PolicyAccess`]);
//! - `list`: the tab itself, the ordered list (Edit, Remove, reorder by drag and drop or with
//!   Move up / Move down) and the Remove dialog;
//! - `editor`: the Add Policy wizard (1 choose from the policy catalogue, 2 configure) and the
//!   Edit Policy dialog;
//! - `forms`: one configuration form per policy type (`domain::policy::PolicyKind`), built with
//!   the form kit of `components::form`;
//! - `chain`: the API page's "Effective policy chain".
//!
//! The forms build the configuration from the typed structs of `domain::policy` and send it as
//! JSON; the server validates it and answers with per-field errors (camelCase JSON paths such as
//! `limit` or `rules[0].pathPattern`), shown next to their inputs.

mod chain;
mod editor;
mod forms;
mod list;

use domain::dto::{ApiVersionDetail, ClientVersionDetail, PlanVersionDetail};
use domain::lifecycle::{ApiPart, change_api, change_plan_policies};
use domain::{ClientStatus, Permission};

pub use chain::PolicyChainCard;
pub use list::{ATTACH_POLICY, PoliciesTab};

/// What the current user may do with the policies of a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyAccess {
    /// Add, edit, remove and reorder.
    pub editable: bool,
    /// Why not, or what to keep in mind (shown above the list).
    pub notice: Option<String>,
}

impl PolicyAccess {
    fn of(permitted: bool, frozen: Option<String>) -> Self {
        match (permitted, frozen) {
            (false, _) => Self {
                editable: false,
                notice: Some("You may view these policies but not change them.".to_owned()),
            },
            (true, Some(reason)) => Self {
                editable: false,
                notice: Some(reason),
            },
            (true, None) => Self {
                editable: true,
                notice: None,
            },
        }
    }

    fn read_only() -> Self {
        Self {
            editable: false,
            notice: None,
        }
    }
}

/// Client versions: clientEdit, and not retired. A registered version applies changes once it is
/// re-registered.
pub fn client_access(d: &ClientVersionDetail) -> PolicyAccess {
    let frozen = (d.status == ClientStatus::Retired).then(|| {
        "A retired client version cannot change; create a new version instead.".to_owned()
    });
    let mut access = PolicyAccess::of(d.header.can(Permission::ClientEdit), frozen);
    if access.editable && d.status == ClientStatus::Registered {
        access.notice = Some(
            "This version is registered: the gateway applies policy changes once you re-register it."
                .to_owned(),
        );
    }
    access
}

/// Plan versions: planEdit, and not locked.
pub fn plan_access(d: &PlanVersionDetail) -> PolicyAccess {
    PolicyAccess::of(
        d.header.can(Permission::PlanEdit),
        change_plan_policies(d.status).err().map(|r| r.0),
    )
}

/// API versions: apiEdit, and neither published nor retired.
pub fn api_access(d: &ApiVersionDetail) -> PolicyAccess {
    PolicyAccess::of(
        d.header.can(Permission::ApiEdit),
        change_api(d.status, ApiPart::Policies).err().map(|r| r.0),
    )
}
