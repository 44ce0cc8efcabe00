//! Per-organization roles and the permissions they grant.

/// An action a member may be allowed to perform within an organization.
///
/// Serialized (and stored) as the camelCase string from [`Permission::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Permission {
    /// See the organization and its members.
    OrgView,
    /// Change the organization's details.
    OrgEdit,
    /// Manage members and delete the organization.
    OrgAdmin,
    /// See APIs.
    ApiView,
    /// Create and change APIs.
    ApiEdit,
    /// Publish, retire and delete APIs.
    ApiAdmin,
    /// See client apps.
    ClientView,
    /// Create and change client apps.
    ClientEdit,
    /// Register, retire and delete client apps.
    ClientAdmin,
    /// See plans.
    PlanView,
    /// Create and change plans.
    PlanEdit,
    /// Lock and delete plans, approve contracts.
    PlanAdmin,
}

impl Permission {
    /// Every permission, in a stable order.
    pub const ALL: [Permission; 12] = [
        Permission::OrgView,
        Permission::OrgEdit,
        Permission::OrgAdmin,
        Permission::ApiView,
        Permission::ApiEdit,
        Permission::ApiAdmin,
        Permission::ClientView,
        Permission::ClientEdit,
        Permission::ClientAdmin,
        Permission::PlanView,
        Permission::PlanEdit,
        Permission::PlanAdmin,
    ];

    /// The stable string form, e.g. `"orgView"` or `"clientAdmin"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::OrgView => "orgView",
            Permission::OrgEdit => "orgEdit",
            Permission::OrgAdmin => "orgAdmin",
            Permission::ApiView => "apiView",
            Permission::ApiEdit => "apiEdit",
            Permission::ApiAdmin => "apiAdmin",
            Permission::ClientView => "clientView",
            Permission::ClientEdit => "clientEdit",
            Permission::ClientAdmin => "clientAdmin",
            Permission::PlanView => "planView",
            Permission::PlanEdit => "planEdit",
            Permission::PlanAdmin => "planAdmin",
        }
    }

    /// Whether it only lets one see (what a read-only personal access token keeps).
    pub fn is_view(self) -> bool {
        matches!(
            self,
            Permission::OrgView
                | Permission::ApiView
                | Permission::ClientView
                | Permission::PlanView
        )
    }

    /// Parses the string form produced by [`Permission::as_str`].
    pub fn parse(s: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A member's role within one organization.
///
/// Serialized (and stored) as the snake_case string from [`Role::as_str`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    /// Organization Owner: every permission.
    Owner,
    /// API Developer: APIs, plans, and viewing the organization.
    ApiDeveloper,
    /// Client App Developer: client apps and viewing the organization.
    ClientAppDeveloper,
    /// Viewer: read-only access to everything.
    Viewer,
}

impl Role {
    /// Every role, from most to least privileged.
    pub const ALL: [Role; 4] = [
        Role::Owner,
        Role::ApiDeveloper,
        Role::ClientAppDeveloper,
        Role::Viewer,
    ];

    /// The stable storage string, e.g. `"api_developer"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::ApiDeveloper => "api_developer",
            Role::ClientAppDeveloper => "client_app_developer",
            Role::Viewer => "viewer",
        }
    }

    /// Parses the string form produced by [`Role::as_str`].
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The human-readable name, e.g. `"Organization Owner"`.
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Organization Owner",
            Role::ApiDeveloper => "API Developer",
            Role::ClientAppDeveloper => "Client App Developer",
            Role::Viewer => "Viewer",
        }
    }

    /// A one-sentence summary of what the role may do.
    pub fn description(self) -> &'static str {
        match self {
            Role::Owner => {
                "Full control of the organization, its members, APIs, plans and client apps."
            }
            Role::ApiDeveloper => {
                "Creates and manages APIs and plans, and can view the organization."
            }
            Role::ClientAppDeveloper => {
                "Creates and manages client apps and their contracts, and can view the organization."
            }
            Role::Viewer => {
                "Read-only access to the organization, its APIs, plans and client apps."
            }
        }
    }

    /// The permissions this role grants.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Owner => &Permission::ALL,
            Role::ApiDeveloper => &[
                OrgView, ApiView, ApiEdit, ApiAdmin, PlanView, PlanEdit, PlanAdmin,
            ],
            Role::ClientAppDeveloper => &[OrgView, ClientView, ClientEdit, ClientAdmin],
            Role::Viewer => &[OrgView, ApiView, ClientView, PlanView],
        }
    }

    /// Returns `true` if this role grants `p`.
    pub fn grants(self, p: Permission) -> bool {
        self.permissions().contains(&p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn permission_strings_round_trip() {
        let expected = [
            "orgView",
            "orgEdit",
            "orgAdmin",
            "apiView",
            "apiEdit",
            "apiAdmin",
            "clientView",
            "clientEdit",
            "clientAdmin",
            "planView",
            "planEdit",
            "planAdmin",
        ];
        for (p, s) in Permission::ALL.into_iter().zip(expected) {
            assert_eq!(p.as_str(), s);
            assert_eq!(Permission::parse(s), Some(p));
        }
        let unique: HashSet<_> = Permission::ALL.into_iter().collect();
        assert_eq!(unique.len(), Permission::ALL.len());
        assert_eq!(Permission::parse("OrgView"), None);
        assert_eq!(Permission::parse(""), None);
    }

    #[test]
    fn role_strings_round_trip() {
        let cases = [
            (Role::Owner, "owner", "Organization Owner"),
            (Role::ApiDeveloper, "api_developer", "API Developer"),
            (
                Role::ClientAppDeveloper,
                "client_app_developer",
                "Client App Developer",
            ),
            (Role::Viewer, "viewer", "Viewer"),
        ];
        assert_eq!(Role::ALL.len(), cases.len());
        for (role, s, label) in cases {
            assert!(Role::ALL.contains(&role));
            assert_eq!(role.as_str(), s);
            assert_eq!(Role::parse(s), Some(role));
            assert_eq!(role.label(), label);
            assert!(role.description().ends_with('.'));
        }
        for bad in ["", "Owner", "admin", "api-developer", " owner"] {
            assert_eq!(Role::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn role_permission_table() {
        // Rows: roles. Columns follow Permission::ALL:
        // org(View Edit Admin) api(...) client(...) plan(...)
        let table: [(Role, [bool; 12]); 4] = [
            (Role::Owner, [true; 12]),
            (
                Role::ApiDeveloper,
                [
                    true, false, false, // org
                    true, true, true, // api
                    false, false, false, // client
                    true, true, true, // plan
                ],
            ),
            (
                Role::ClientAppDeveloper,
                [
                    true, false, false, // org
                    false, false, false, // api
                    true, true, true, // client
                    false, false, false, // plan
                ],
            ),
            (
                Role::Viewer,
                [
                    true, false, false, // org
                    true, false, false, // api
                    true, false, false, // client
                    true, false, false, // plan
                ],
            ),
        ];
        for (role, row) in table {
            let expected: HashSet<Permission> = Permission::ALL
                .into_iter()
                .zip(row)
                .filter_map(|(p, granted)| granted.then_some(p))
                .collect();
            let actual: HashSet<Permission> = role.permissions().iter().copied().collect();
            assert_eq!(actual, expected, "{role:?}");
            assert_eq!(
                role.permissions().len(),
                expected.len(),
                "{role:?} has duplicates"
            );
            for (p, granted) in Permission::ALL.into_iter().zip(row) {
                assert_eq!(role.grants(p), granted, "{role:?} {p:?}");
            }
        }
    }

    #[test]
    fn roles_order_from_most_privileged() {
        let mut sorted = Role::ALL;
        sorted.sort();
        assert_eq!(sorted, Role::ALL);
    }
}
