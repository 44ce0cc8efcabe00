//! The page of one plan version (`/orgs/{org}/plans/{id}/{version}[/{tab}]`): header with
//! status and actions (Lock, Delete), tabs Overview, Policies, Change Log.

use domain::dto::PlanVersionDetail;
use domain::{Permission, PlanStatus};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::entities::get_plan_version;
use crate::api::lifecycle::VersionAction;
use crate::components::status::StatusBadge;
use crate::components::ui::{EmptyState, LoadError, SkeletonRows, format_date};
use crate::pages::entities::{
    ActionSpec, ChangeLogCard, EntityHeaderView, EntityTabs, VersionActions, route_params,
};
use crate::pages::policies::{PoliciesTab, plan_access};
use domain::EntityKind;

const PLAN_TABS: &[(&str, &str)] = &[
    ("", "Overview"),
    ("policies", "Policies"),
    ("changelog", "Change Log"),
];

/// `/orgs/{org}/plans/{id}/{version}[/{tab}]`.
#[component]
pub fn PlanPage() -> impl IntoView {
    let p = route_params();
    let reload = RwSignal::new(0u32);
    let detail = Resource::new(
        move || (p.org.get(), p.id.get(), p.version.get(), reload.get()),
        |(o, pl, v, _)| get_plan_version(o, pl, v),
    );
    view! {
        <Transition fallback=|| view! { <SkeletonRows rows=3 /> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(d) => {
                        let h = d.header.clone();
                        let for_actions = d.clone();
                        view! {
                            <Title text=format!("{} / {} · Tollgate", h.org_name, h.name) />
                            <EntityHeaderView kind=EntityKind::Plan header=h status=d.status.as_str().to_owned() reload
                                actions=move || plan_actions(for_actions.clone(), reload) />
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <EntityTabs base=p.base(EntityKind::Plan) tabs=PLAN_TABS tab=p.tab />
        {move || match p.tab.get().as_str() {
            "" => view! {
                <Transition fallback=|| view! { <SkeletonRows rows=3 /> }>
                    {move || Suspend::new(async move {
                        match detail.await {
                            Ok(d) => overview(d),
                            Err(_) => ().into_any(),
                        }
                    })}
                </Transition>
            }.into_any(),
            "policies" => view! { <PoliciesTab kind=EntityKind::Plan p detail access=plan_access reload note="Plan policies, such as rate limits and quotas, apply to every client with a contract for this plan. A locked plan version takes no policy changes." /> }.into_any(),
            "changelog" => view! { <ChangeLogCard kind=EntityKind::Plan org=p.org.get() id=p.id.get() /> }.into_any(),
            _ => view! { <EmptyState message="This tab does not exist." /> }.into_any(),
        }}
    }
}

fn plan_actions(d: PlanVersionDetail, reload: RwSignal<u32>) -> AnyView {
    let h = d.header.clone();
    let admin = h.can(Permission::PlanAdmin);
    let mut primary = Vec::new();
    if admin && d.status == PlanStatus::Created {
        primary.push(ActionSpec {
            action: VersionAction::Lock,
            label: "Lock",
            confirm: Some((
                "Lock plan version".to_owned(),
                format!(
                    "Lock {} {}? APIs can offer it from then on, and its policies can no longer change. This cannot be undone.",
                    h.name, h.version
                ),
                "Lock",
            )),
        });
    }
    let ever_locked = h
        .versions
        .iter()
        .any(|v| v.status == PlanStatus::Locked.as_str());
    let delete = (admin && !ever_locked).then(|| {
        format!(
            "Delete the plan '{}' with all its versions? This cannot be undone.",
            h.name
        )
    });
    view! { <VersionActions kind=EntityKind::Plan header=h reload primary delete /> }.into_any()
}

fn overview(d: PlanVersionDetail) -> AnyView {
    let h = d.header;
    view! {
        <section class="card">
            <div class="card__header"><h2 class="card__title">"About this plan"</h2></div>
            <div class="card__body">
                <dl class="info-list">
                    <dt>"Status"</dt><dd><StatusBadge status=d.status.as_str().to_owned() /></dd>
                    <dt>"Locked"</dt><dd>{d.locked_on.map_or_else(|| "Not yet: a plan version can be offered by APIs once it is locked.".to_owned(), |t| format_date(&t))}</dd>
                    <dt>"Policies"</dt><dd>{d.policy_count.to_string()}</dd>
                    <dt>"Offered by"</dt><dd>{format!("{} API version(s)", d.offered_by)}</dd>
                    <dt>"Created"</dt><dd>{format!("{} by {}", format_date(&h.created_on), h.created_by)}</dd>
                </dl>
            </div>
        </section>
    }
    .into_any()
}
