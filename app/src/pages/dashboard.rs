use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::shell::use_user;
use crate::pages::entities::EntityTable;
use crate::pages::orgs::OrgTable;
use domain::EntityKind;

#[component]
pub fn Dashboard() -> impl IntoView {
    let user = use_user();
    let section =
        |title: &'static str, create: &'static str, create_label: &'static str, table: AnyView| {
            view! {
                <section class="card">
                    <div class="card__header">
                        <h2 class="card__title">{title}</h2>
                        <a class="btn btn--secondary btn--sm" href=create>{create_label}</a>
                    </div>
                    <div class="card__body">{table}</div>
                </section>
            }
        };
    view! {
        <Title text="Dashboard · Tollgate" />
        <div class="page-header">
            <h1 class="page-title">"Dashboard"</h1>
            <p class="muted">{format!("Welcome back, {}.", user.display_name)}</p>
        </div>
        <div class="stack">
            {section("My Organizations", "/create/organization", "Create Organization", view! { <OrgTable /> }.into_any())}
            {section("My Clients", "/create/client", "Create Client", view! { <EntityTable kind=EntityKind::Client /> }.into_any())}
            {section("My APIs", "/create/api", "Create API", view! { <EntityTable kind=EntityKind::Api /> }.into_any())}
            {section("My Plans", "/create/plan", "Create Plan", view! { <EntityTable kind=EntityKind::Plan /> }.into_any())}
        </div>
    }
}
