//! Clients, APIs and plans: the list tables (dashboard, top navigation, organization tabs) and the
//! pages of one version (`/orgs/{org}/{clients|apis|plans}/{id}/{version}[/{tab}]`).

use domain::dto::{
    ApiVersionDetail, ClientVersionDetail, DEFAULT_PAGE_SIZE, EntityHeader, EntitySummary,
    PlanVersionDetail,
};
use domain::{Description, Permission};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::api::catalog::{
    Kind, UpdateEntityDescription, client_contracts, client_policies, entity_change_log,
    get_api_version, get_client_version, get_plan_version, list_entities,
};
use crate::components::list::FilteredTable;
use crate::components::status::StatusBadge;
use crate::components::toast::use_toasts;
use crate::components::ui::{
    CopyField, EmptyState, ErrorAlert, LoadError, Pager, SkeletonRows, described_by, format_date,
};
use crate::error::AppError;
use crate::pages::orgs::ChangeLogTable;

/// A filterable, paged table of clients, APIs or plans (all the caller may view, or one
/// organization's). The empty state offers the matching Create wizard.
#[component]
pub fn EntityTable(kind: Kind, #[prop(optional)] org: Option<String>) -> impl IntoView {
    let show_org = org.is_none();
    let create_href = match &org {
        Some(o) => format!("/create/{}?org={o}", kind.noun().to_lowercase()),
        None => format!("/create/{}", kind.noun().to_lowercase()),
    };
    let org = StoredValue::new(org);
    let items = Resource::new(|| (), move |_| list_entities(kind, org.get_value()));
    let mut columns = vec!["Name"];
    if show_org {
        columns.push("Organization");
    }
    columns.extend(["Versions", "Description"]);
    let row = Callback::new(move |e: EntitySummary| {
        let latest = e
            .versions
            .first()
            .map(|v| v.version.clone())
            .unwrap_or_default();
        view! {
            <tr>
                <td><a href=kind.page_url(&e.org_id, &e.id, &latest)>{e.name.clone()}</a></td>
                {show_org.then(|| view! { <td><a href=format!("/orgs/{}", e.org_id)>{e.org_name.clone()}</a></td> })}
                <td>
                    <div class="row">
                        {e.versions.iter().map(|v| view! {
                            <a class="version-chip" href=kind.page_url(&e.org_id, &e.id, &v.version)>
                                <span class="mono">{v.version.clone()}</span>
                                <StatusBadge status=v.status.clone() />
                            </a>
                        }).collect_view()}
                    </div>
                </td>
                <td class="muted">{e.description.clone()}</td>
            </tr>
        }
        .into_any()
    });
    let empty = ViewFn::from(move || {
        let href = create_href.clone();
        view! {
            <EmptyState message=format!("No {} yet.", kind.plural().to_lowercase())>
                <a href=href>{format!("Click here to create a new {}", kind.noun())}</a>
            </EmptyState>
        }
    });
    view! {
        <FilteredTable
            items
            noun=kind.plural_lower()
            matches=|e: &EntitySummary, needle| {
                e.name.to_lowercase().contains(needle)
                    || e.description.to_lowercase().contains(needle)
                    || e.org_name.to_lowercase().contains(needle)
            }
            columns
            row
            empty
        />
    }
}

/// `/clients`, `/apis`, `/plans`: everything of that kind the caller may view.
#[component]
pub fn EntityListPage(kind: Kind) -> impl IntoView {
    view! {
        <Title text=format!("{} · Tollgate", kind.plural()) />
        <div class="page-header row">
            <h1 class="page-title">{kind.plural()}</h1>
            <span class="spacer"></span>
            <a class="btn btn--primary" href=format!("/create/{}", kind.noun().to_lowercase())>
                {format!("Create {}", if kind == Kind::Api { "API" } else if kind == Kind::Client { "Client" } else { "Plan" })}
            </a>
        </div>
        <section class="card">
            <div class="card__body">
                <EntityTable kind />
            </div>
        </section>
    }
}

/// The header of a client, API or plan page: "Organization / Name", description (editable in
/// place with the edit permission), version switcher and status.
#[component]
fn EntityHeaderView(
    kind: Kind,
    header: EntityHeader,
    status: String,
    reload: RwSignal<u32>,
    #[prop(default = None)] extra_badge: Option<(&'static str, &'static str)>,
) -> impl IntoView {
    let edit_permission = match kind {
        Kind::Client => Permission::ClientEdit,
        Kind::Api => Permission::ApiEdit,
        Kind::Plan => Permission::PlanEdit,
    };
    let can_edit = header.can(edit_permission);
    let editing = RwSignal::new(false);
    let draft = RwSignal::new(header.description.clone());
    let save = ServerAction::<UpdateEntityDescription>::new();
    let toasts = use_toasts();
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            editing.set(false);
            toasts.success("Description saved.");
            reload.update(|n| *n += 1);
        }
    });
    let local_error =
        Signal::derive(move || Description::parse(&draft.get()).err().map(|e| e.message));
    let server_error = Signal::derive(move || save.value().get().and_then(Result::err));
    let navigate = use_navigate();
    let h = StoredValue::new(header.clone());
    let description = header.description.clone();
    view! {
        <div class="page-header">
            <h1 class="page-title">
                <a href=format!("/orgs/{}", header.org_id)>{header.org_name.clone()}</a>
                " / "
                {header.name.clone()}
            </h1>
            <Show when=move || editing.get() fallback=move || {
                let description = description.clone();
                view! {
                    <p class=if description.is_empty() { "muted" } else { "" }>
                        {if description.is_empty() { "No description".to_owned() } else { description.clone() }}
                        {can_edit.then(|| view! {
                            " "
                            <button class="btn btn--ghost btn--sm" on:click=move |_| editing.set(true)>"Edit description"</button>
                        })}
                    </p>
                }
            }>
                <div class="field">
                    <label class="field__label" for="entity-description">"Description"</label>
                    <textarea class="textarea" id="entity-description" aria-describedby=described_by("entity-description")
                        prop:value=move || draft.get() on:input=move |ev| draft.set(event_target_value(&ev))></textarea>
                    <p class="field__error" id="entity-description-error" role="alert">
                        {move || local_error.get().or_else(|| server_error.get().and_then(|e| e.field("description")))}
                    </p>
                </div>
                <ErrorAlert error=server_error />
                <div class="row">
                    <button class="btn btn--primary btn--sm" disabled=move || save.pending().get() || local_error.get().is_some()
                        on:click=move |_| { save.dispatch(UpdateEntityDescription { kind, org: h.with_value(|h| h.org_id.clone()), id: h.with_value(|h| h.id.clone()), description: draft.get() }); }>
                        "Save"
                    </button>
                    <button class="btn btn--secondary btn--sm" on:click=move |_| editing.set(false)>"Cancel"</button>
                </div>
            </Show>
            <div class="page-subtitle">
                <span class="mono version-current" title="Version">{header.version.clone()}</span>
                    <select class="version-switcher" aria-label="Change version" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        navigate(&h.with_value(|h| kind.page_url(&h.org_id, &h.id, &v)), Default::default());
                    }>
                        <option value="" selected=true disabled=true>"Change v…"</option>
                        {header.versions.iter().map(|v| {
                            let label = if v.version == header.version { format!("{} (current)", v.version) } else { v.version.clone() };
                            view! { <option value=v.version.clone()>{label}</option> }
                        }).collect_view()}
                    </select>
                <StatusBadge status />
                {extra_badge.map(|(label, modifier)| view! { <crate::components::ui::Badge label modifier /> })}
            </div>
        </div>
    }
}

#[component]
fn EntityTabs(
    #[prop(into)] base: Signal<String>,
    tabs: &'static [(&'static str, &'static str)],
    #[prop(into)] tab: Signal<String>,
) -> impl IntoView {
    view! {
        <nav class="tabs" aria-label="Sections">
            {tabs.iter().map(|(slug, label)| {
                let slug = *slug;
                let href = move || if slug.is_empty() { base.get() } else { format!("{}/{slug}", base.get()) };
                view! { <a class="tab" href=href aria-current=move || (tab.get() == slug).then_some("page")>{*label}</a> }
            }).collect_view()}
        </nav>
    }
}

/// The route parameters of a version page.
#[derive(Clone, Copy)]
struct RouteParams {
    org: Memo<String>,
    id: Memo<String>,
    version: Memo<String>,
    tab: Memo<String>,
}

impl RouteParams {
    fn base(self, kind: Kind) -> Signal<String> {
        Signal::derive(move || kind.page_url(&self.org.get(), &self.id.get(), &self.version.get()))
    }
}

fn route_params() -> RouteParams {
    let params = use_params_map();
    let get = move |k: &'static str| Memo::new(move |_| params.read().get(k).unwrap_or_default());
    RouteParams {
        org: get("org"),
        id: get("id"),
        version: get("version"),
        tab: get("tab"),
    }
}

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
                        view! {
                            <Title text=format!("{} / {} · Tollgate", h.org_name, h.name) />
                            <EntityHeaderView kind=Kind::Client header=h status=d.status.as_str().to_owned() reload extra_badge=unpublished />
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <EntityTabs base=p.base(Kind::Client) tabs=CLIENT_TABS tab=p.tab />
        {move || match p.tab.get().as_str() {
            "" => view! { <ClientOverview p detail /> }.into_any(),
            "contracts" => view! { <ContractsCard p full=true /> }.into_any(),
            "policies" => view! { <PoliciesCard p /> }.into_any(),
            "metrics" => view! {
                <section class="card"><div class="card__body">
                    <EmptyState message="No traffic yet.">
                        <p class="muted">"Requests, response codes and latency appear here once this client version calls APIs through the gateway with its API key."</p>
                    </EmptyState>
                </div></section>
            }.into_any(),
            "changelog" => view! { <ChangeLogCard kind=Kind::Client org=p.org.get() id=p.id.get() /> }.into_any(),
            _ => view! { <EmptyState message="This tab does not exist." /> }.into_any(),
        }}
    }
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
        Kind::Client.page_url(&d.header.org_id, &d.header.id, &d.header.version)
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

fn api_key(d: ClientVersionDetail) -> AnyView {
    match d.api_key {
        Some(key) => view! {
            <CopyField value=key label="API key" />
            <p class="alert alert--info">"This API key is valid for all contracts of the client version"</p>
        }
        .into_any(),
        None => view! {
            <p class="muted">"Only members who may edit this client can see its API key."</p>
        }
        .into_any(),
    }
}

fn useful_information(d: ClientVersionDetail) -> AnyView {
    view! {
        <dl class="info-list">
            <dt>"Pending Approvals"</dt><dd>{d.pending_approvals.to_string()}</dd>
            <dt>"Active Contracts"</dt><dd>{d.active_contracts.to_string()}</dd>
            <dt>"Created"</dt><dd>{format!("{} by {}", format_date(&d.header.created_on), d.header.created_by)}</dd>
        </dl>
    }
    .into_any()
}

#[component]
fn ClientOverview(p: RouteParams, detail: ClientResource) -> impl IntoView {
    view! {
        <div class="grid-main">
            <div class="stack">
                <ContractsCard p full=false />
                <DetailCard title="Attached Policies" detail body=attached_policies />
            </div>
            <div class="stack">
                <DetailCard title="API Key" detail body=api_key />
                <DetailCard title="Useful Information" detail body=useful_information />
            </div>
        </div>
    }
}

/// The contracts of a client version: on the Overview (`full = false`: the four columns of the
/// seed) and on the Contracts tab (more columns).
#[component]
fn ContractsCard(p: RouteParams, full: bool) -> impl IntoView {
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
            )
        },
        move |(o, c, v, pg, n)| client_contracts(o, c, v, pg, n),
    );
    let contracts_tab = Signal::derive(move || format!("{}/contracts", p.base(Kind::Client).get()));
    view! {
        <section class="card">
            <div class="card__header"><h2 class="card__title">"Contracts"</h2></div>
            <div class="card__body card--flush">
                <Transition fallback=|| view! { <SkeletonRows rows=2 /> }>
                    {move || Suspend::new(async move {
                        match contracts.await {
                            Err(e) => view! { <LoadError error=e /> }.into_any(),
                            Ok(result) => {
                                let total = result.total;
                                view! {
                                <div class="table-wrap">
                                    <table class="table">
                                        <thead><tr>
                                            <th>"API Organisation"</th><th>"API Name"</th>
                                            {full.then(|| view! { <th>"Version"</th><th>"Plan"</th> })}
                                            <th>"URL"</th><th>"State"</th>
                                            {full.then(|| view! { <th>"Created"</th> })}
                                        </tr></thead>
                                        <tbody>
                                            {result.items.into_iter().map(|c| view! {
                                                <tr>
                                                    <td><a href=format!("/orgs/{}", c.api_org_id)>{c.api_org_name.clone()}</a></td>
                                                    <td><a href=Kind::Api.page_url(&c.api_org_id, &c.api_id, &c.api_version)>{c.api_name.clone()}</a></td>
                                                    {full.then(|| view! { <td class="mono">{c.api_version.clone()}</td><td>{format!("{} {}", c.plan_id, c.plan_version)}</td> })}
                                                    <td class="mono">{format!("/{}/{}/{}", c.api_org_id, c.api_id, c.api_version)}</td>
                                                    <td><StatusBadge status=c.status.as_str().to_owned() /></td>
                                                    {full.then(|| view! { <td>{format_date(&c.created_on)}</td> })}
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                {(total == 0).then(|| view! {
                                    <EmptyState message="No contracts available">
                                        <p>"Click here to "<a href=contracts_tab.get()>"learn more about contracts"</a>" in the API Developer Portal"</p>
                                    </EmptyState>
                                })}
                            <Pager page per_page total />
                            }.into_any()
                            }
                        }
                    })}
                </Transition>
                {full.then(|| view! {
                    <p class="card__note muted">"A contract connects this client version to an API through one of the API's plans. Contracts are created by signing up for a plan in the API Developer Portal; the plan's policies then apply to every call made with this version's API key."</p>
                })}
            </div>
        </section>
    }
}

#[component]
fn PoliciesCard(p: RouteParams) -> impl IntoView {
    let policies = Resource::new(
        move || (p.org.get(), p.id.get(), p.version.get()),
        |(o, c, v)| client_policies(o, c, v),
    );
    view! {
        <section class="card">
            <div class="card__header"><h2 class="card__title">"Policies"</h2></div>
            <div class="card__body">
                <Transition fallback=|| view! { <SkeletonRows rows=2 /> }>
                    {move || Suspend::new(async move {
                        match policies.await {
                            Err(e) => view! { <LoadError error=e /> }.into_any(),
                            Ok(list) if list.is_empty() => view! {
                                <EmptyState message="No policies attached">
                                    <p class="muted">"Client policies run first on every request made with this version's API key, before the plan's and the API's policies."</p>
                                </EmptyState>
                            }.into_any(),
                            Ok(list) => view! {
                                <ol class="stack">
                                    {list.into_iter().map(|p| view! { <li><strong>{p.definition_id}</strong>" "<code class="mono">{p.configuration}</code></li> }).collect_view()}
                                </ol>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </div>
        </section>
    }
}

#[component]
fn ChangeLogCard(kind: Kind, org: String, id: String) -> impl IntoView {
    let page = RwSignal::new(1u64);
    let per_page = RwSignal::new(DEFAULT_PAGE_SIZE);
    let key = StoredValue::new((org, id));
    let entries = Resource::new(
        move || (page.get(), per_page.get()),
        move |(p, n)| {
            let (o, i) = key.get_value();
            entity_change_log(kind, o, i, p, n)
        },
    );
    view! { <ChangeLogTable entries page per_page /> }
}

const SIMPLE_TABS: &[(&str, &str)] = &[("", "Overview"), ("changelog", "Change Log")];

/// The page of an API or plan version: header, tabs Overview and Change Log. `overview` renders
/// the Overview card from the loaded details.
#[component]
fn SimpleVersionPage<T>(
    kind: Kind,
    detail: Resource<Result<T, AppError>>,
    header: fn(&T) -> (EntityHeader, String),
    overview: fn(T) -> AnyView,
) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
{
    let p = route_params();
    let reload = RwSignal::new(0u32);
    Effect::new(move |_| {
        if reload.get() > 0 {
            detail.refetch();
        }
    });
    view! {
        <Transition fallback=|| view! { <SkeletonRows rows=3 /> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(d) => {
                        let (h, status) = header(&d);
                        view! {
                            <Title text=format!("{} / {} · Tollgate", h.org_name, h.name) />
                            <EntityHeaderView kind header=h status reload />
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <EntityTabs base=p.base(kind) tabs=SIMPLE_TABS tab=p.tab />
        {move || if p.tab.get() == "changelog" {
            view! { <ChangeLogCard kind org=p.org.get() id=p.id.get() /> }.into_any()
        } else {
            view! {
                <Transition fallback=|| view! { <SkeletonRows rows=3 /> }>
                    {move || Suspend::new(async move {
                        match detail.await {
                            Ok(d) => overview(d),
                            Err(_) => ().into_any(),
                        }
                    })}
                </Transition>
            }.into_any()
        }}
    }
}

fn api_overview(d: ApiVersionDetail) -> AnyView {
    let h = d.header;
    view! {
        <section class="card">
            <div class="card__header"><h2 class="card__title">"Implementation"</h2></div>
            <div class="card__body">
                <dl class="info-list">
                    <dt>"Endpoint"</dt>
                    <dd class="mono">{d.endpoint_url.unwrap_or_else(|| "Not set yet".to_owned())}</dd>
                    <dt>"Endpoint type"</dt><dd>"REST"</dd>
                    <dt>"Public API"</dt><dd>{if d.public_api { "Yes" } else { "No" }}</dd>
                    <dt>"Created"</dt><dd>{format!("{} by {}", format_date(&h.created_on), h.created_by)}</dd>
                </dl>
            </div>
        </section>
    }
    .into_any()
}

fn plan_overview(d: PlanVersionDetail) -> AnyView {
    let h = d.header;
    view! {
        <section class="card">
            <div class="card__header"><h2 class="card__title">"About this plan"</h2></div>
            <div class="card__body">
                <dl class="info-list">
                    <dt>"Status"</dt><dd><StatusBadge status=d.status.as_str().to_owned() /></dd>
                    <dt>"Locked"</dt><dd>{d.locked_on.map_or_else(|| "Not yet: a plan version can be offered by APIs once it is locked.".to_owned(), |t| format_date(&t))}</dd>
                    <dt>"Created"</dt><dd>{format!("{} by {}", format_date(&h.created_on), h.created_by)}</dd>
                </dl>
            </div>
        </section>
    }
    .into_any()
}

/// `/orgs/{org}/apis/{id}/{version}[/{tab}]`.
#[component]
pub fn ApiPage() -> impl IntoView {
    let p = route_params();
    let detail = Resource::new(
        move || (p.org.get(), p.id.get(), p.version.get()),
        |(o, a, v)| get_api_version(o, a, v),
    );
    view! {
        <SimpleVersionPage kind=Kind::Api detail
            header=|d: &ApiVersionDetail| (d.header.clone(), d.status.as_str().to_owned())
            overview=api_overview />
    }
}

/// `/orgs/{org}/plans/{id}/{version}[/{tab}]`.
#[component]
pub fn PlanPage() -> impl IntoView {
    let p = route_params();
    let detail = Resource::new(
        move || (p.org.get(), p.id.get(), p.version.get()),
        |(o, pl, v)| get_plan_version(o, pl, v),
    );
    view! {
        <SimpleVersionPage kind=Kind::Plan detail
            header=|d: &PlanVersionDetail| (d.header.clone(), d.status.as_str().to_owned())
            overview=plan_overview />
    }
}
