//! `/approvals`: contracts waiting for the signed-in user's decision (planAdmin of the API's
//! organization): new contracts, and changes of plan on contracts in force ("Change of plan:
//! Bronze → Gold"). Approve (a new contract optionally registering the client) or reject with a
//! reason (a rejected change of plan keeps the contract on its plan).

use domain::dto::ContractDto;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::contracts::{ApproveContract, RejectContract, pending_approvals};
use crate::components::form::FormErrors;
use crate::components::shell::use_inbox_refresh;
use crate::components::toast::use_toasts;
use crate::components::ui::{
    Dialog, EmptyState, ErrorAlert, Field, LoadError, SkeletonRows, described_by, format_time,
};
use domain::EntityKind;

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let pending = Resource::new(move || reload.get(), |_| pending_approvals());
    let approve = ServerAction::<ApproveContract>::new();
    let reject = ServerAction::<RejectContract>::new();
    let chosen: RwSignal<Option<ContractDto>> = RwSignal::new(None);
    let approve_open = RwSignal::new(false);
    let reject_open = RwSignal::new(false);
    let register = RwSignal::new(true);
    let reason = RwSignal::new(String::new());
    let toasts = use_toasts();
    let inbox = use_inbox_refresh();
    let is_change = move || chosen.with(|c| c.as_ref().is_some_and(|c| c.pending_plan.is_some()));
    Effect::new(move |_| {
        if let Some(Ok(status)) = approve.value().get() {
            approve_open.set(false);
            toasts.success(if is_change() {
                "Change of plan approved. The new plan is in force at the gateway.".to_owned()
            } else {
                format!(
                    "Contract approved. The client version is {}.",
                    status.label()
                )
            });
            reload.update(|n| *n += 1);
            inbox.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = reject.value().get() {
            reject_open.set(false);
            toasts.success(if is_change() {
                "Change of plan rejected. The contract keeps its plan; the requester was notified."
            } else {
                "Contract rejected. The requester was notified."
            });
            reload.update(|n| *n += 1);
            inbox.update(|n| *n += 1);
        }
    });
    let describe = move || {
        chosen.get().map(|c| match &c.pending_plan {
            Some(p) => format!(
                "{} ({}) asks to move the contract of client {} {} with {} {} from plan {} {} to {} {}.",
                p.requested_by,
                c.client_org_name,
                c.client_name,
                c.client_version,
                c.api_name,
                c.api_version,
                c.plan_name,
                c.plan_version,
                p.plan_name,
                p.plan_version
            ),
            None => format!(
                "{} ({}) asks to use {} {} through plan {} {} with client {} {}.",
                c.requested_by,
                c.client_org_name,
                c.api_name,
                c.api_version,
                c.plan_name,
                c.plan_version,
                c.client_name,
                c.client_version
            ),
        })
    };
    let reject_error = Signal::derive(move || reject.value().get().and_then(Result::err));
    let reject_errors = FormErrors::new(reject_error, "reject");
    view! {
        <Title text="Pending Approvals · Tollgate" />
        <div class="page-header">
            <h1 class="page-title">"Pending Approvals"</h1>
            <p class="muted">"New contracts and changes of plan for plans that require approval, in the organizations where you may approve them."</p>
        </div>
        <section class="card">
            <div class="card__body card--flush">
                <Transition fallback=|| view! { <SkeletonRows rows=3 /> }>
                    {move || Suspend::new(async move {
                        match pending.await {
                            Err(e) => view! { <LoadError error=e /> }.into_any(),
                            Ok(list) if list.is_empty() => view! {
                                <EmptyState message="Nothing awaits your approval.">
                                    <p class="muted">"Requests for plans that require approval appear here, and in the header's count."</p>
                                </EmptyState>
                            }.into_any(),
                            Ok(list) => view! {
                                <div class="table-wrap">
                                    <table class="table">
                                        <thead><tr><th>"Requested"</th><th>"By"</th><th>"Client"</th><th>"API"</th><th>"Plan"</th><th><span class="visually-hidden">"Decision"</span></th></tr></thead>
                                        <tbody>
                                            {list.into_iter().map(|c| {
                                                let (a, r) = (c.clone(), c.clone());
                                                let label = format!("{} {}", c.client_name, c.client_version);
                                                let (when, by) = match &c.pending_plan {
                                                    Some(p) => (p.requested_on, p.requested_by.clone()),
                                                    None => (c.created_on, c.requested_by.clone()),
                                                };
                                                let plan = match &c.pending_plan {
                                                    Some(p) => view! {
                                                        <div class="cell-stack">
                                                            <span class="badge badge--awaiting">"Change of plan"</span>
                                                            <span>{format!("{} {} → {} {}", c.plan_name, c.plan_version, p.plan_name, p.plan_version)}</span>
                                                        </div>
                                                    }.into_any(),
                                                    None => view! {
                                                        <div class="cell-stack">
                                                            <span class="badge badge--created">"New contract"</span>
                                                            <span>{format!("{} {}", c.plan_name, c.plan_version)}</span>
                                                        </div>
                                                    }.into_any(),
                                                };
                                                view! {
                                                    <tr>
                                                        <td>{format_time(&when)}</td>
                                                        <td>{by}</td>
                                                        <td>{format!("{} / {} {}", c.client_org_name, c.client_name, c.client_version)}</td>
                                                        <td><a href=EntityKind::Api.page_url(&c.api_org_id, &c.api_id, &c.api_version)>{format!("{} {}", c.api_name, c.api_version)}</a></td>
                                                        <td>{plan}</td>
                                                        <td class="row">
                                                            <button class="btn btn--primary btn--sm" aria-label=format!("Approve {label}")
                                                                on:click=move |_| { chosen.set(Some(a.clone())); register.set(true); approve_open.set(true); }>"Approve"</button>
                                                            <button class="btn btn--secondary btn--sm" aria-label=format!("Reject {label}")
                                                                on:click=move |_| { chosen.set(Some(r.clone())); reason.set(String::new()); reject_open.set(true); }>"Reject"</button>
                                                        </td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </div>
        </section>
        <Dialog open=approve_open title=Signal::derive(move || if is_change() { "Approve change of plan".to_owned() } else { "Approve contract".to_owned() })>
            <p>{describe}</p>
            {move || if is_change() {
                view! { <p class="alert alert--info">"The new plan takes effect at the gateway at once, and its limits start from zero."</p> }.into_any()
            } else {
                view! {
                    <label class="check">
                        <input type="checkbox" prop:checked=move || register.get() on:change=move |ev| register.set(event_target_checked(&ev)) />
                        "Register the client version when nothing else holds it back"
                    </label>
                }.into_any()
            }}
            <ErrorAlert error=Signal::derive(move || approve.value().get().and_then(Result::err)) />
            <div class="dialog__actions">
                <button class="btn btn--secondary" on:click=move |_| approve_open.set(false)>"Cancel"</button>
                <button class="btn btn--primary" disabled=move || approve.pending().get() on:click=move |_| {
                    if let Some(c) = chosen.get_untracked() { approve.dispatch(ApproveContract { id: c.id, register: register.get_untracked() }); }
                }>"Approve"</button>
            </div>
        </Dialog>
        <Dialog open=reject_open title=Signal::derive(move || if is_change() { "Reject change of plan".to_owned() } else { "Reject contract".to_owned() })>
            <p>{describe}</p>
            {move || is_change().then(|| view! { <p class="alert alert--info">"The contract stays in force on its current plan."</p> })}
            <Field id="reject-reason" label="Reason" required=true hint="The requester sees it in their notifications." error=reject_errors.field("reason", reason)>
                <textarea class="textarea" id="reject-reason" aria-describedby=described_by("reject-reason")
                    prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
            </Field>
            <ErrorAlert error=reject_error />
            <div class="dialog__actions">
                <button class="btn btn--secondary" on:click=move |_| reject_open.set(false)>"Cancel"</button>
                <button class="btn btn--danger" disabled=move || reject.pending().get() on:click=move |_| {
                    if let Some(c) = chosen.get_untracked() { reject.dispatch(RejectContract { id: c.id, reason: reason.get_untracked() }); }
                }>"Reject"</button>
            </div>
        </Dialog>
    }
}
