//! Status badges for clients, APIs, plans and contracts, from their stored status strings.

use domain::{ApiStatus, ClientStatus, ContractStatus, PlanStatus};
use leptos::prelude::*;

use crate::components::ui::Badge;

/// The label and `.badge--*` modifier of a stored status string.
pub fn status_style(status: &str) -> (&'static str, &'static str) {
    if let Some(s) = ClientStatus::parse(status) {
        let modifier = match s {
            ClientStatus::Created => "created",
            ClientStatus::Ready => "ready",
            ClientStatus::AwaitingApproval => "awaiting",
            ClientStatus::Registered => "registered",
            ClientStatus::Retired => "retired",
        };
        return (s.label(), modifier);
    }
    if let Some(s) = ApiStatus::parse(status) {
        let modifier = match s {
            ApiStatus::Created => "created",
            ApiStatus::Ready => "ready",
            ApiStatus::Published => "published",
            ApiStatus::Retired => "retired",
        };
        return (s.label(), modifier);
    }
    if let Some(s) = PlanStatus::parse(status) {
        return (
            s.label(),
            if s == PlanStatus::Locked {
                "locked"
            } else {
                "created"
            },
        );
    }
    if let Some(s) = ContractStatus::parse(status) {
        return (
            s.label(),
            if s == ContractStatus::Created {
                "active"
            } else {
                "awaiting"
            },
        );
    }
    ("Unknown", "created")
}

#[component]
pub fn StatusBadge(#[prop(into)] status: String) -> impl IntoView {
    let (label, modifier) = status_style(&status);
    view! { <Badge label modifier /> }
}

#[cfg(test)]
mod tests {
    use super::status_style;

    #[test]
    fn styles() {
        assert_eq!(status_style("registered"), ("Registered", "registered"));
        assert_eq!(
            status_style("awaiting_approval"),
            ("Awaiting Approval", "awaiting")
        );
        assert_eq!(status_style("published"), ("Published", "published"));
        assert_eq!(status_style("locked"), ("Locked", "locked"));
        assert_eq!(status_style("nonsense"), ("Unknown", "created"));
    }
}

/// The badge of a contract's state: "Active" or "Awaiting Approval".
#[component]
pub fn ContractBadge(status: ContractStatus) -> impl IntoView {
    let modifier = match status {
        ContractStatus::Created => "active",
        ContractStatus::AwaitingApproval => "awaiting",
    };
    view! { <Badge label=status.label() modifier /> }
}
