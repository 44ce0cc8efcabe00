use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::shell::use_user;
use crate::pages::orgs::OrgTable;

#[component]
pub fn Dashboard() -> impl IntoView {
    let user = use_user();
    view! {
        <Title text="Dashboard · Tollgate" />
        <div class="page-header">
            <h1 class="page-title">"Dashboard"</h1>
            <p class="muted">{format!("Welcome back, {}.", user.display_name)}</p>
        </div>
        <section class="card">
            <div class="card__header">
                <h2 class="card__title">"My Organizations"</h2>
                <a class="btn btn--secondary btn--sm" href="/create/organization">"Create Organization"</a>
            </div>
            <div class="card__body">
                <OrgTable />
            </div>
        </section>
    }
}
