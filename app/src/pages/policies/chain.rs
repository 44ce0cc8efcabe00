//! The API page's "Effective policy chain": for calls without a key (a public API version) and
//! for each plan it offers, the order a request meets policies in.

use domain::EntityKind;
use domain::dto::{ApiChainsDto, PlanChainDto, PolicyDto};
use leptos::prelude::*;

use crate::api::policies::api_policy_chains;
use crate::components::ui::{Card, EmptyState, LoadError, SkeletonRows};
use crate::pages::entities::RouteParams;

/// "Effective policy chain": for each plan an API version offers, the order a request meets
/// policies in: the client's own, the plan's, then the API's; and for a public version, the
/// API's alone for calls without a key.
#[component]
pub fn PolicyChainCard(p: RouteParams, reload: RwSignal<u32>) -> impl IntoView {
    let chains = Resource::new(
        move || (p.org.get(), p.id.get(), p.version.get(), reload.get()),
        |(o, a, v, _)| api_policy_chains(o, a, v),
    );
    view! {
        <Card title="Effective policy chain">
                <p class="muted">
                    "The policies a request meets, in order: through each offered plan, the calling client's own, then the plan's, then this API's; without an API key (a public API), this API's alone."
                </p>
                <Transition fallback=|| view! { <SkeletonRows rows=2 /> }>
                    {move || Suspend::new(async move {
                        match chains.await {
                            Err(e) => view! { <LoadError error=e /> }.into_any(),
                            Ok(ApiChainsDto { public: None, plans }) if plans.is_empty() => {
                                let plans_tab = format!("{}/plans", p.base(EntityKind::Api).get_untracked());
                                view! {
                                    <EmptyState message="No plans offered yet.">
                                        <p>
                                            "Offer a plan on the "<a href=plans_tab>"Plans tab"</a>
                                            " to see the chain its requests meet."
                                        </p>
                                    </EmptyState>
                                }
                                    .into_any()
                            }
                            Ok(ApiChainsDto { public, plans }) => {
                                let org = p.org.get_untracked();
                                view! {
                                    <div class="chains">
                                        {public.map(public_chain)}
                                        {plans.into_iter().map(|c| chain(&org, c)).collect_view()}
                                    </div>
                                }
                                    .into_any()
                            }
                        }
                    })}
                </Transition>
        </Card>
    }
}

/// A stage of a chain: its label and its policies, each titled with its description.
fn stage(label: String, policies: Vec<PolicyDto>) -> AnyView {
    view! {
        <li class="chain__stage">
            <span class="chain__label">{label}</span>
            {if policies.is_empty() {
                view! { <span class="chain__none">"No policies"</span> }.into_any()
            } else {
                view! {
                    <ol class="chain__policies">
                        {policies
                            .into_iter()
                            .map(|p| {
                                view! {
                                    <li class="chain__policy" title=p.description.clone()>
                                        {p.name}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ol>
                }
                    .into_any()
            }}
        </li>
    }
    .into_any()
}

/// The chain of a public API version's calls without a key: its own policies only.
fn public_chain(api_policies: Vec<PolicyDto>) -> AnyView {
    view! {
        <div class="chain">
            <h3 class="chain__title">"Without an API key (public)"</h3>
            <ol class="chain__stages" aria-label="Policy chain without an API key">
                {stage("API".to_owned(), api_policies)}
            </ol>
        </div>
    }
    .into_any()
}

fn chain(org: &str, c: PlanChainDto) -> AnyView {
    let plan = format!("{} {}", c.plan_name, c.plan_version);
    let plan_href = EntityKind::Plan.page_url(org, &c.plan_id, &c.plan_version);
    view! {
        <div class="chain">
            <h3 class="chain__title">
                "Plan "<a href=plan_href>{plan.clone()}</a>
            </h3>
            <ol class="chain__stages" aria-label=format!("Policy chain through {plan}")>
                <li class="chain__stage chain__stage--client">
                    <span class="chain__label">"Client policies"</span>
                    <span class="chain__none">"the client's own, first"</span>
                </li>
                {stage(format!("Plan {plan}"), c.plan_policies)}
                {stage("API".to_owned(), c.api_policies)}
            </ol>
        </div>
    }
    .into_any()
}
