//! What the client page and the portal's My Clients share about a contract: the Change plan
//! dialog (the plans the contract may move to, with their limits and whether the move waits for
//! approval) and the note on a contract whose change of plan awaits approval.

use domain::dto::{ContractDto, PlanChoice, PlanChoices};
use domain::lifecycle::PlanChange;
use leptos::prelude::*;

use crate::api::contracts::{ChangeContractPlan, ContractPlanChoices};
use crate::api::portal::{PortalChangePlan, PortalPlanChoices};
use crate::components::toast::use_toasts;
use crate::components::ui::{ErrorAlert, LoadError, SkeletonRows};
use crate::error::AppError;

/// "Awaiting approval: Gold 1.0" under the plan of a contract whose change awaits approval.
#[component]
pub fn PendingPlanNote(contract: ContractDto) -> impl IntoView {
    contract.pending_plan.map(|p| {
        view! {
            <span class="badge badge--awaiting pending-plan" title=format!("Requested by {}. The current plan stays in force until an approver accepts the change.", p.requested_by)>
                {format!("Awaiting approval: {} {}", p.plan_name, p.plan_version)}
            </span>
        }
    })
}

/// Why a contract cannot change its plan now, if it cannot.
pub fn change_plan_blocked(c: &ContractDto) -> Option<&'static str> {
    if c.status == domain::ContractStatus::AwaitingApproval {
        Some("This contract awaits approval; its plan can change once it is approved.")
    } else if c.pending_plan.is_some() {
        Some("A change of plan awaits approval.")
    } else {
        None
    }
}

/// The Change plan dialog for the contract in `contract`: a radio list of the plans its API
/// version offers to the user, the current one marked. `portal` uses the Developer Portal's
/// server functions (for portal-only accounts). `reload` is bumped after a change.
#[component]
pub fn ChangePlanDialog(
    open: RwSignal<bool>,
    contract: RwSignal<Option<i64>>,
    #[prop(optional)] portal: bool,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let load = ServerAction::<ContractPlanChoices>::new();
    let load_portal = ServerAction::<PortalPlanChoices>::new();
    let change = ServerAction::<ChangeContractPlan>::new();
    let change_portal = ServerAction::<PortalChangePlan>::new();
    let chosen = RwSignal::new(String::new());
    let toasts = use_toasts();
    Effect::new(move |_| {
        if !open.get() {
            return;
        }
        let Some(id) = contract.get() else { return };
        chosen.set(String::new());
        change.value().set(None);
        change_portal.value().set(None);
        if portal {
            load_portal.dispatch(PortalPlanChoices { id });
        } else {
            load.dispatch(ContractPlanChoices { id });
        }
    });
    // The choices of the contract asked for (an answer for an earlier one is not shown).
    let choices = Signal::derive(move || {
        let value = if portal {
            load_portal.value().get()
        } else {
            load.value().get()
        };
        value.filter(|r: &Result<PlanChoices, AppError>| {
            r.as_ref()
                .map_or(true, |c| Some(c.contract.id) == contract.get())
        })
    });
    let result = Signal::derive(move || {
        if portal {
            change_portal.value().get()
        } else {
            change.value().get()
        }
    });
    let pending = Signal::derive(move || {
        if portal {
            change_portal.pending().get()
        } else {
            change.pending().get()
        }
    });
    let picked = Signal::derive(move || -> Option<(PlanChoice, PlanChoice)> {
        let Some(Ok(c)) = choices.get() else {
            return None;
        };
        let current = c
            .plans
            .iter()
            .find(|p| p.current)
            .cloned()
            .unwrap_or_else(|| PlanChoice {
                plan_id: c.contract.plan_id.clone(),
                plan_name: c.contract.plan_name.clone(),
                plan_version: c.contract.plan_version.clone(),
                current: true,
                needs_approval: false,
                limits: vec![],
            });
        let new = c
            .plans
            .into_iter()
            .find(|p| p.plan_id == chosen.get() && !p.current)?;
        Some((current, new))
    });
    Effect::new(move |_| {
        if let Some(Ok(how)) = result.get() {
            open.set(false);
            if let Some((from, to)) = picked.get_untracked() {
                toasts.success(match how {
                    PlanChange::Immediate => format!(
                        "The contract is on {} now, at the gateway too. Its limits start from zero.",
                        to.plan_name
                    ),
                    PlanChange::AwaitingApproval => format!(
                        "Change to {} requested. {} stays in force until the API's provider approves it.",
                        to.plan_name, from.plan_name
                    ),
                });
            }
            reload.update(|n| *n += 1);
        }
    });
    let submit = move || {
        let (Some(id), plan) = (contract.get_untracked(), chosen.get_untracked()) else {
            return;
        };
        if portal {
            change_portal.dispatch(PortalChangePlan { id, plan });
        } else {
            change.dispatch(ChangeContractPlan { id, plan });
        }
    };
    view! {
        <crate::components::ui::Dialog open title="Change plan">
            {move || match choices.get() {
                None => view! { <SkeletonRows rows=3 /> }.into_any(),
                Some(Err(e)) => view! {
                    <LoadError error=e />
                    <div class="dialog__actions"><button class="btn btn--secondary" on:click=move |_| open.set(false)>"Close"</button></div>
                }.into_any(),
                Some(Ok(c)) => {
                    let k = c.contract.clone();
                    let others = c.plans.iter().filter(|p| !p.current).count();
                    view! {
                        <p class="dialog__lead">
                            {format!("{} {} with client {} {}. ", k.api_name, k.api_version, k.client_name, k.client_version)}
                            "The client keeps its API key."
                        </p>
                        {(others == 0).then(|| view! {
                            <p class="alert alert--info">"This API version offers you no other plan."</p>
                        })}
                        <form on:submit=move |ev| { ev.prevent_default(); submit(); }>
                            <fieldset class="plan-options">
                                <legend class="field__label">"Plan"</legend>
                                {c.plans.into_iter().map(|p| {
                                    let id = p.plan_id.clone();
                                    let is = id.clone();
                                    let selected = Signal::derive(move || chosen.get() == is);
                                    view! {
                                        <label class="plan-option" class:plan-option--selected=selected class:plan-option--current=p.current>
                                            <input type="radio" name="change-plan" value=id.clone() disabled=p.current
                                                prop:checked=move || selected.get() || (p.current && chosen.get().is_empty())
                                                on:change=move |_| chosen.set(id.clone()) />
                                            <span class="plan-option__body">
                                                <span class="plan-option__name">
                                                    {p.plan_name.clone()}
                                                    <span class="plan-option__version">{p.plan_version.clone()}</span>
                                                </span>
                                                <span class="plan-option__limits">{p.limits.join(" · ")}</span>
                                            </span>
                                            <span class="plan-option__tags">
                                                {p.current.then(|| view! { <span class="badge badge--active">"Current plan"</span> })}
                                                {p.needs_approval.then(|| view! { <span class="badge badge--awaiting">"Approval required"</span> })}
                                            </span>
                                        </label>
                                    }
                                }).collect_view()}
                            </fieldset>
                            {move || picked.get().map(|(from, to)| if to.needs_approval {
                                view! {
                                    <p class="alert alert--warning" role="status">
                                        {format!("{} requires approval. The contract stays on {} until the API's provider approves the change; if they reject it, it keeps {}.", to.plan_name, from.plan_name, from.plan_name)}
                                    </p>
                                }.into_any()
                            } else {
                                view! {
                                    <p class="alert alert--info" role="status">
                                        {format!("{} takes effect at the gateway at once, and its limits start from zero.", to.plan_name)}
                                    </p>
                                }.into_any()
                            })}
                            <ErrorAlert error=Signal::derive(move || result.get().and_then(Result::err)) />
                            <div class="dialog__actions">
                                <button type="button" class="btn btn--secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                                <button type="submit" class="btn btn--primary" disabled=move || pending.get() || picked.get().is_none()>
                                    {move || if picked.get().is_some_and(|(_, to)| to.needs_approval) { "Request change" } else { "Change plan" }}
                                </button>
                            </div>
                        </form>
                    }.into_any()
                }
            }}
        </crate::components::ui::Dialog>
    }
}
