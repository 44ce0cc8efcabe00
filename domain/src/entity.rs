//! Clients, APIs and plans: the three kinds of versioned things an organization holds, and the
//! one name every layer uses for them.

use serde::{Deserialize, Serialize};

use crate::Permission;

/// A client, an API or a plan: what a version page, a policy's owner, a Change Log row or a
/// Metrics tab is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EntityKind {
    Client,
    Api,
    Plan,
}

impl EntityKind {
    /// Every kind, in the order the navigation shows them.
    pub const ALL: [EntityKind; 3] = [EntityKind::Client, EntityKind::Api, EntityKind::Plan];

    /// The stored name (`"client"`, `"api"`, `"plan"`): Change Log rows, policy owners.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Client => "client",
            EntityKind::Api => "api",
            EntityKind::Plan => "plan",
        }
    }

    /// The kind stored as `s` ([`as_str`](Self::as_str)).
    pub fn parse(s: &str) -> Option<EntityKind> {
        EntityKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The URL segment: `/orgs/{org}/{segment}/{id}/{version}`.
    pub fn segment(self) -> &'static str {
        match self {
            EntityKind::Client => "clients",
            EntityKind::Api => "apis",
            EntityKind::Plan => "plans",
        }
    }

    /// "client", "API", "plan".
    pub fn noun(self) -> &'static str {
        match self {
            EntityKind::Client => "client",
            EntityKind::Api => "API",
            EntityKind::Plan => "plan",
        }
    }

    /// "Clients", "APIs", "Plans".
    pub fn plural(self) -> &'static str {
        match self {
            EntityKind::Client => "Clients",
            EntityKind::Api => "APIs",
            EntityKind::Plan => "Plans",
        }
    }

    /// "clients", "APIs", "plans".
    pub fn plural_lower(self) -> &'static str {
        match self {
            EntityKind::Client => "clients",
            EntityKind::Api => "APIs",
            EntityKind::Plan => "plans",
        }
    }

    /// The page of one version: `/orgs/{org}/{segment}/{id}/{version}`.
    pub fn page_url(self, org: &str, id: &str, version: &str) -> String {
        format!("/orgs/{org}/{}/{id}/{version}", self.segment())
    }

    /// The permission to see one (and its Change Log, policies, metrics).
    pub fn view_permission(self) -> Permission {
        match self {
            EntityKind::Client => Permission::ClientView,
            EntityKind::Api => Permission::ApiView,
            EntityKind::Plan => Permission::PlanView,
        }
    }

    /// The permission to change one (its description, its policies).
    pub fn edit_permission(self) -> Permission {
        match self {
            EntityKind::Client => Permission::ClientEdit,
            EntityKind::Api => Permission::ApiEdit,
            EntityKind::Plan => Permission::PlanEdit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_read_back() {
        for kind in EntityKind::ALL {
            assert_eq!(EntityKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EntityKind::parse("organization"), None);
    }

    #[test]
    fn urls_and_words() {
        assert_eq!(
            EntityKind::Api.page_url("acme", "weather", "1.0"),
            "/orgs/acme/apis/weather/1.0"
        );
        assert_eq!(EntityKind::Plan.plural(), "Plans");
        assert_eq!(EntityKind::Api.plural_lower(), "APIs");
        assert_eq!(EntityKind::Client.noun(), "client");
    }
}
