//! The page of one client version (`/orgs/{org}/clients/{id}/{version}[/{tab}]`): header with
//! status and actions (Register, Re-register, Unregister, Delete), tabs Overview (with the API
//! Key card and the Keys list of `components::keys`), Contracts (New Contract, Change plan,
//! Break, Break all), Policies, Metrics, Change Log.

use domain::dto::{ApiOffer, ClientVersionDetail, DEFAULT_PAGE_SIZE};
use domain::{ClientStatus, ContractStatus, Permission};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::contracts::{
    BreakAllContracts, BreakContract, ContractOffers, CreateContract, client_contracts,
};
use crate::api::entities::get_client_version;
use crate::api::lifecycle::VersionAction;
use crate::components::contracts::{ChangePlanDialog, PendingPlanNote, change_plan_blocked};
use crate::components::keys::{ApiKeyCard, KeyActions, KeyDialogs, KeyOwner, KeysCard};
use crate::components::status::ContractBadge;
use crate::components::toast::use_toasts;
use crate::components::ui::{
    ConfirmDialog, Dialog, EmptyState, LoadError, Pager, SkeletonRows, format_date,
};
use crate::error::AppError;
use crate::pages::entities::{
    ActionSpec, ChangeLogCard, EntityHeaderView, EntityTabs, RouteParams, VersionActions,
    route_params,
};
use crate::pages::metrics::MetricsTab;
use crate::pages::policies::{PoliciesTab, client_access};
use domain::EntityKind;

type ClientResource = Resource<Result<ClientVersionDetail, AppError>>;

const CLIENT_TABS: &[(&str, &str)] = &[
    ("", "Overview"),
    ("contracts", "Contracts"),
    ("policies", "Policies"),
    ("metrics", "Metrics"),
    ("changelog", "Change Log"),
];

/// `/orgs/{org}/clients/{id}/{version}[/{tab}]`. The header and every card wait for their data
/// in their own `Transition`, side by side (nested Suspense does not hydrate reliably).
#[component]
pub fn ClientPage() -> impl IntoView {
    let p = route_params();
    let reload = RwSignal::new(0u32);
    let detail: ClientResource = Resource::new(
        move || (p.org.get(), p.id.get(), p.version.get(), reload.get()),
        |(o, c, v, _)| get_client_version(o, c, v),
    );
    view! {
        <Transition fallback=|| view! { <SkeletonRows rows=3 /> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(d) => {
                        let h = d.header.clone();
                        let unpublished = d.unpublished_changes.then_some(("Unpublished Changes", "unpublished"));
                        let hint = register_hint(&d);
                        let actions_for = d.clone();
                        view! {
                            <Title text=format!("{} / {} · Tollgate", h.org_name, h.name) />
                            <EntityHeaderView kind=EntityKind::Client header=h status=d.status.as_str().to_owned() reload extra_badge=unpublished
                                actions=move || client_actions(actions_for.clone(), reload) />
                            {hint.map(|m| view! { <p class="alert alert--info" role="status">{m}</p> })}
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <EntityTabs base=p.base(EntityKind::Client) tabs=CLIENT_TABS tab=p.tab />
        {move || match p.tab.get().as_str() {
            "" => view! { <ClientOverview p detail reload /> }.into_any(),
            "contracts" => view! { <ContractsCard p detail reload full=true /> }.into_any(),
            "policies" => view! { <PoliciesTab kind=EntityKind::Client p detail access=client_access reload note="Client policies run first on every request made with this version's API key, before the plan's and the API's policies." /> }.into_any(),
            "metrics" => view! { <MetricsTab kind=EntityKind::Client p help="Requests, response codes and latency appear here once this client version calls APIs through the gateway with its API key." /> }.into_any(),
            "changelog" => view! { <ChangeLogCard kind=EntityKind::Client org=p.org.get() id=p.id.get() /> }.into_any(),
            _ => view! { <EmptyState message="This tab does not exist." /> }.into_any(),
        }}
    }
}

/// What the user should know about registering, when it cannot be done yet.
fn register_hint(d: &ClientVersionDetail) -> Option<String> {
    if !d.header.can(Permission::ClientAdmin) {
        return None;
    }
    match d.status {
        ClientStatus::Created => Some(
            "Add a contract on the Contracts tab, then register this version to activate its API key at the gateway.".to_owned(),
        ),
        ClientStatus::AwaitingApproval => Some(
            "A contract awaits approval by the API's provider. You can register this version once it is approved.".to_owned(),
        ),
        ClientStatus::Registered if d.unpublished_changes => Some(
            "This version changed since it was registered. Re-register it to publish the changes to the gateway.".to_owned(),
        ),
        _ => None,
    }
}

fn client_actions(d: ClientVersionDetail, reload: RwSignal<u32>) -> AnyView {
    let h = d.header.clone();
    let admin = h.can(Permission::ClientAdmin);
    let name = format!("{} {}", h.name, h.version);
    let mut primary = Vec::new();
    if admin && d.register_refusal.is_none() {
        primary.push(ActionSpec {
            action: VersionAction::Register,
            label: if d.status == ClientStatus::Registered {
                "Re-register"
            } else {
                "Register"
            },
            confirm: None,
        });
    }
    let mut menu = Vec::new();
    if admin
        && matches!(
            d.status,
            ClientStatus::Registered | ClientStatus::AwaitingApproval
        )
    {
        menu.push(ActionSpec {
            action: VersionAction::Unregister,
            label: "Unregister",
            confirm: Some((
                "Unregister client version".to_owned(),
                format!("Unregister {name}? Its API key stops working at the gateway at once, and the version is retired."),
                "Unregister",
            )),
        });
    }
    let delete = admin.then(|| {
        format!(
            "Delete the client '{}' with all its versions, contracts and policies? This cannot be undone.",
            h.name
        )
    });
    view! { <VersionActions kind=EntityKind::Client header=h reload primary menu delete /> }
        .into_any()
}

/// A card whose body waits for the client version's details.
#[component]
fn DetailCard(
    title: &'static str,
    detail: ClientResource,
    body: fn(ClientVersionDetail) -> AnyView,
) -> impl IntoView {
    view! {
        <section class="card">
            <div class="card__header"><h2 class="card__title">{title}</h2></div>
            <div class="card__body">
                <Transition fallback=|| view! { <SkeletonRows rows=2 /> }>
                    {move || Suspend::new(async move {
                        match detail.await {
                            Ok(d) => body(d),
                            Err(_) => ().into_any(),
                        }
                    })}
                </Transition>
            </div>
        </section>
    }
}

fn attached_policies(d: ClientVersionDetail) -> AnyView {
    let href = format!(
        "{}/policies",
        EntityKind::Client.page_url(&d.header.org_id, &d.header.id, &d.header.version)
    );
    if d.policy_count == 0 {
        view! {
            <EmptyState message="No policies attached">
                <p>"Click here to "<a href=href>"attach a new policy"</a></p>
            </EmptyState>
        }
        .into_any()
    } else {
        view! { <p><a href=href>{format!("{} policies attached", d.policy_count)}</a></p> }
            .into_any()
    }
}

fn useful_information(d: ClientVersionDetail) -> AnyView {
    view! {
        <dl class="info-list">
            <dt>"Pending Approvals"</dt><dd>{d.pending_approvals.to_string()}</dd>
            <dt>"Active Contracts"</dt><dd>{d.active_contracts.to_string()}</dd>
            <dt>"Registered"</dt><dd>{d.registered_on.map_or_else(|| "Never".to_owned(), |t| format_date(&t))}</dd>
            {d.retired_on.map(|t| view! { <dt>"Retired"</dt><dd>{format_date(&t)}</dd> })}
            <dt>"Created"</dt><dd>{format!("{} by {}", format_date(&d.header.created_on), d.header.created_by)}</dd>
        </dl>
    }
    .into_any()
}

#[component]
fn ClientOverview(p: RouteParams, detail: ClientResource, reload: RwSignal<u32>) -> impl IntoView {
    let owner = Signal::derive(move || KeyOwner {
        org: p.org.get(),
        client: p.id.get(),
        version: p.version.get(),
        portal: false,
    });
    let ka = KeyActions::new(owner, reload);
    view! {
        <div class="grid-main">
            <div class="stack">
                <ContractsCard p detail reload full=false />
                <DetailCard title="Attached Policies" detail body=attached_policies />
            </div>
            <div class="stack">
                <ApiKeyCard detail ka />
                <DetailCard title="Useful Information" detail body=useful_information />
            </div>
        </div>
        <KeysCard detail ka />
        <KeyDialogs ka />
    }
}

/// The contracts of a client version: on the Overview (`full = false`: the four columns of the
/// seed) and on the Contracts tab (more columns, New Contract, Break, Break all).
#[component]
fn ContractsCard(
    p: RouteParams,
    detail: ClientResource,
    reload: RwSignal<u32>,
    full: bool,
) -> impl IntoView {
    let page = RwSignal::new(1u64);
    let per_page = RwSignal::new(DEFAULT_PAGE_SIZE);
    let contracts = Resource::new(
        move || {
            (
                p.org.get(),
                p.id.get(),
                p.version.get(),
                page.get(),
                per_page.get(),
                reload.get(),
            )
        },
        move |(o, c, v, pg, n, _)| client_contracts(o, c, v, pg, n),
    );
    let contracts_tab =
        Signal::derive(move || format!("{}/contracts", p.base(EntityKind::Client).get()));
    let new_open = RwSignal::new(false);
    let break_one = ServerAction::<BreakContract>::new();
    let break_all = ServerAction::<BreakAllContracts>::new();
    let to_break: RwSignal<Option<(i64, String)>> = RwSignal::new(None);
    let break_open = RwSignal::new(false);
    let break_all_open = RwSignal::new(false);
    let to_change: RwSignal<Option<i64>> = RwSignal::new(None);
    let change_open = RwSignal::new(false);
    let toasts = use_toasts();
    Effect::new(move |_| {
        if let Some(Ok(())) = break_one.value().get() {
            break_open.set(false);
            toasts.success("The contract was broken.");
            reload.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(n)) = break_all.value().get() {
            break_all_open.set(false);
            toasts.success(format!("{n} contract(s) were broken."));
            reload.update(|n| *n += 1);
        }
    });
    view! {
        <section class="card">
            <div class="card__header">
                <h2 class="card__title">"Contracts"</h2>
            </div>
            <div class="card__body card--flush">
                <Transition fallback=|| view! { <SkeletonRows rows=2 /> }>
                    {move || Suspend::new(async move {
                        let d = detail.await;
                        match contracts.await {
                            Err(e) => view! { <LoadError error=e /> }.into_any(),
                            Ok(result) => {
                                let total = result.total;
                                let can_edit = full && d.as_ref().is_ok_and(|d| d.header.can(Permission::ClientEdit));
                                let retired = d.as_ref().is_ok_and(|d| d.status == ClientStatus::Retired);
                                view! {
                                {can_edit.then(|| view! {
                                    <div class="table-toolbar row">
                                        <button class="btn btn--primary btn--sm" disabled=retired
                                            title=if retired { "A retired client version gets no new contracts." } else { "" }
                                            on:click=move |_| new_open.set(true)>"New Contract"</button>
                                        {(total > 0).then(|| view! {
                                            <button class="btn btn--secondary btn--sm" on:click=move |_| break_all_open.set(true)>"Break all"</button>
                                        })}
                                    </div>
                                })}
                                <div class="table-wrap">
                                    <table class="table">
                                        <thead><tr>
                                            <th>"API Organisation"</th><th>"API Name"</th>
                                            {full.then(|| view! { <th>"Version"</th><th>"Plan"</th> })}
                                            <th>"URL"</th><th>"State"</th>
                                            {full.then(|| view! { <th>"Created"</th> })}
                                            {can_edit.then(|| view! { <th><span class="visually-hidden">"Actions"</span></th> })}
                                        </tr></thead>
                                        <tbody>
                                            {result.items.into_iter().map(|c| {
                                                let label = format!("{} {}", c.api_name, c.api_version);
                                                let blocked = change_plan_blocked(&c);
                                                let pending_note = c.clone();
                                                view! {
                                                <tr>
                                                    <td><a href=format!("/orgs/{}", c.api_org_id)>{c.api_org_name.clone()}</a></td>
                                                    <td><a href=EntityKind::Api.page_url(&c.api_org_id, &c.api_id, &c.api_version)>{c.api_name.clone()}</a></td>
                                                    {full.then(|| view! { <td class="mono">{c.api_version.clone()}</td><td><div class="cell-stack">{format!("{} {}", c.plan_name, c.plan_version)}<PendingPlanNote contract=pending_note /></div></td> })}
                                                    <td class="mono">{c.gateway_url.clone()}</td>
                                                    <td><ContractBadge status=c.status /></td>
                                                    {full.then(|| view! { <td>{format_date(&c.created_on)}</td> })}
                                                    {can_edit.then(|| {
                                                        let change_label = format!("Change plan of the contract with {label}");
                                                        view! {
                                                        <td class="row-actions">
                                                            <button class="btn btn--ghost btn--sm" aria-label=change_label disabled={blocked.is_some() || retired}
                                                                title=blocked.unwrap_or_default()
                                                                on:click=move |_| { to_change.set(Some(c.id)); change_open.set(true); }>"Change plan"</button>
                                                            <button class="btn btn--ghost btn--sm" aria-label=format!("Break contract with {label}")
                                                                on:click=move |_| { to_break.set(Some((c.id, label.clone()))); break_open.set(true); }>"Break"</button>
                                                        </td>
                                                    }})}
                                                </tr>
                                            }}).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                {(total == 0).then(|| view! {
                                    <EmptyState message="No contracts available">
                                        {if full {
                                            view! { <p class="muted">"Create a contract with New Contract, or sign up for a plan in the API Developer Portal."</p> }.into_any()
                                        } else {
                                            view! { <p>"Click here to "<a href=contracts_tab.get()>"learn more about contracts"</a>" in the API Developer Portal"</p> }.into_any()
                                        }}
                                    </EmptyState>
                                })}
                            <Pager page per_page total />
                            }.into_any()
                            }
                        }
                    })}
                </Transition>
                {full.then(|| view! {
                    <p class="card__note muted">"A contract connects this client version to an API version through one of the API's plans. The plan's policies then apply to every call made with this version's API key."</p>
                })}
            </div>
        </section>
        {full.then(|| view! {
            <NewContractDialog p open=new_open reload />
            <ChangePlanDialog open=change_open contract=to_change reload />
        })}
        <ConfirmDialog
            open=break_open
            title="Break contract"
            message=Signal::derive(move || to_break.get().map(|(_, l)| format!("Break the contract with {l}? Calls with this version's API key to that API are refused from now on.")).unwrap_or_default())
            confirm_label="Break contract"
            pending=break_one.pending()
            error=Signal::derive(move || break_one.value().get().and_then(Result::err))
            on_confirm=move || {
                if let Some((id, _)) = to_break.get_untracked() {
                    break_one.dispatch(BreakContract { id });
                }
            }
        />
        <ConfirmDialog
            open=break_all_open
            title="Break all contracts"
            message=Signal::derive(move || "Break every contract of this client version? A registered version without contracts is retired.".to_owned())
            confirm_label="Break all"
            pending=break_all.pending()
            error=Signal::derive(move || break_all.value().get().and_then(Result::err))
            on_confirm=move || {
                break_all.dispatch(BreakAllContracts { org: p.org.get_untracked(), client: p.id.get_untracked(), version: p.version.get_untracked() });
            }
        />
    }
}

/// "New Contract": an API version the user may see, then one of its plans.
#[component]
fn NewContractDialog(p: RouteParams, open: RwSignal<bool>, reload: RwSignal<u32>) -> impl IntoView {
    let offers = ServerAction::<ContractOffers>::new();
    let create = ServerAction::<CreateContract>::new();
    let chosen_api = RwSignal::new(None::<usize>);
    let chosen_plan = RwSignal::new(String::new());
    let toasts = use_toasts();
    Effect::new(move |_| {
        if open.get() {
            chosen_api.set(None);
            chosen_plan.set(String::new());
            offers.dispatch(ContractOffers {});
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(status)) = create.value().get() {
            open.set(false);
            toasts.success(match status {
                ContractStatus::AwaitingApproval => {
                    "Contract requested. It awaits approval by the API's provider."
                }
                ContractStatus::Created => "Contract created.",
            });
            reload.update(|n| *n += 1);
        }
    });
    let list = Signal::derive(move || {
        offers
            .value()
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
    });
    let selected =
        Signal::derive(move || chosen_api.get().and_then(|i| list.get().get(i).cloned()));
    let plan = Signal::derive(move || {
        selected
            .get()
            .and_then(|o: ApiOffer| o.plans.into_iter().find(|p| p.plan_id == chosen_plan.get()))
    });
    let server_error = Signal::derive(move || create.value().get().and_then(Result::err));
    view! {
        <Dialog open title="New Contract">
            {move || match offers.value().get() {
                None => view! { <SkeletonRows rows=2 /> }.into_any(),
                Some(Err(e)) => view! { <LoadError error=e /> }.into_any(),
                Some(Ok(l)) if l.is_empty() => view! {
                    <EmptyState message="No APIs available">
                        <p class="muted">"There is no published API with a plan you may use yet."</p>
                    </EmptyState>
                    <div class="dialog__actions"><button class="btn btn--secondary" on:click=move |_| open.set(false)>"Close"</button></div>
                }.into_any(),
                Some(Ok(l)) => {
                    let mut groups: Vec<(String, Vec<(usize, ApiOffer)>)> = Vec::new();
                    for (i, o) in l.into_iter().enumerate() {
                        match groups.last_mut() {
                            Some((org, items)) if *org == o.org_name => items.push((i, o)),
                            _ => groups.push((o.org_name.clone(), vec![(i, o)])),
                        }
                    }
                    view! {
                        <form class="form-grid" on:submit=move |ev| {
                            ev.prevent_default();
                            if let Some(o) = selected.get() {
                                create.dispatch(CreateContract {
                                    org: p.org.get_untracked(), client: p.id.get_untracked(), version: p.version.get_untracked(),
                                    api_org: o.org_id, api: o.api_id, api_version: o.version, plan: chosen_plan.get(),
                                });
                            }
                        }>
                            <div class="field">
                                <label class="field__label" for="contract-api">"API"</label>
                                <select class="select" id="contract-api" required on:change=move |ev| {
                                    chosen_api.set(event_target_value(&ev).parse().ok());
                                    chosen_plan.set(selected.get().and_then(|o| o.plans.first().map(|p| p.plan_id.clone())).unwrap_or_default());
                                }>
                                    <option value="" selected=true disabled=true>"Choose an API…"</option>
                                    {groups.into_iter().map(|(org, items)| view! {
                                        <optgroup label=org>
                                            {items.into_iter().map(|(i, o)| view! { <option value=i.to_string()>{format!("{} {}", o.api_name, o.version)}</option> }).collect_view()}
                                        </optgroup>
                                    }).collect_view()}
                                </select>
                                <p class="field__hint">"Published API versions you may use."</p>
                            </div>
                            <div class="field">
                                <label class="field__label" for="contract-plan">"Plan"</label>
                                <select class="select" id="contract-plan" required disabled=move || selected.get().is_none()
                                    on:change=move |ev| chosen_plan.set(event_target_value(&ev))>
                                    {move || selected.get().map(|o| o.plans.into_iter().map(|p| {
                                        let label = if p.requires_approval { format!("{} {} (approval required)", p.plan_name, p.plan_version) } else { format!("{} {}", p.plan_name, p.plan_version) };
                                        let is_chosen = p.plan_id == chosen_plan.get_untracked();
                                        view! { <option value=p.plan_id.clone() selected=is_chosen>{label}</option> }
                                    }).collect_view())}
                                </select>
                            </div>
                            {move || plan.get().filter(|p| p.requires_approval).map(|_| view! {
                                <p class="alert alert--warning">"This plan requires approval: the contract waits until an approver of the API's organization accepts it, and the client version can be registered after that."</p>
                            })}
                            <p class="field__error" role="alert">{move || server_error.get().map(|e| e.message())}</p>
                            <div class="dialog__actions">
                                <button type="button" class="btn btn--secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                                <button type="submit" class="btn btn--primary" disabled=move || create.pending().get() || plan.get().is_none()>"Create Contract"</button>
                            </div>
                        </form>
                    }.into_any()
                }
            }}
        </Dialog>
    }
}
