//! The API Developer Portal (`/portal`): its own header, the home page with featured APIs and a
//! search box, the catalog, an API's page with documentation and plan cards, the Sign Up
//! wizard, and My Clients. Anonymous visitors see what discoverability allows.

use domain::dto::{
    ClientChoice, LimitUsage, MyClientVersion, PortalApiCard, PortalApiDetail, SignUpResult,
};
use domain::portal::thousands;
use domain::{ClientStatus, ContractStatus, EntityName, Version};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Outlet};
use leptos_router::hooks::{use_location, use_navigate, use_params_map, use_query_map};

use crate::api::auth::SignOut;
use crate::api::portal::{
    MyClientAction, MyClientActionFn, PortalBreakContract, PortalSignUp, SignUpRequest,
    get_sign_up_options, my_clients, portal_api, portal_catalog,
};
use crate::components::contracts::{ChangePlanDialog, PendingPlanNote, change_plan_blocked};
use crate::components::form::FormErrors;
use crate::components::keys::{
    AddKeyButton, ApiKeyPanel, KeyActions, KeyDialogs, KeyOwner, KeysTable,
};
use crate::components::operations::Operations;
use crate::components::shell::CurrentUser;
use crate::components::status::{ContractBadge, StatusBadge};
use crate::components::toast::{ToastRegion, use_toasts};
use crate::components::ui::{
    Badge, ConfirmDialog, CopyField, EmptyState, ErrorAlert, Field, LoadError, Pager, SkeletonRows,
    Stepper, described_by, urlencode,
};

/// The portal's frame: header with its own navigation, sign-in state, and the page.
#[component]
pub fn PortalShell() -> impl IntoView {
    let user = expect_context::<CurrentUser>().0;
    let location = use_location();
    let sign_out = ServerAction::<SignOut>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            let _ = window().location().set_href("/portal");
        }
    });
    let here = move || format!("{}{}", location.pathname.get(), location.search.get());
    view! {
        <div class="shell">
            <header class="topbar topbar--portal">
                <a class="topbar__brand" href="/portal">"Tollgate"<span class="topbar__sub">"Developer Portal"</span></a>
                <nav class="topbar__nav" aria-label="Portal">
                    <A href="/portal" exact=true>"Home"</A>
                    <A href="/portal/apis">"APIs"</A>
                    <A href="/portal/clients">"My Clients"</A>
                </nav>
                <div class="topbar__right portal-user">
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match user.await {
                                Ok(Some(u)) => view! {
                                    {(!u.portal_only || u.is_admin).then(|| view! { <a class="inbox__link" href="/">"API Management"</a> })}
                                    <span class="portal-user__name">{u.display_name.clone()}</span>
                                    <a class="inbox__link" href="/portal/account">"Account settings"</a>
                                    <button class="btn btn--ghost btn--sm portal-user__out" on:click=move |_| { sign_out.dispatch(SignOut {}); }>"Sign out"</button>
                                }.into_any(),
                                _ => view! {
                                    <a class="inbox__link" href=move || format!("/signin?next={}", urlencode(&here()))>"Sign in"</a>
                                    <a class="btn btn--primary btn--sm" href=move || format!("/signup?next={}", urlencode(&here()))>"Sign up"</a>
                                }.into_any(),
                            }
                        })}
                    </Suspense>
                </div>
            </header>
            <main class="page" id="main">
                <Outlet />
            </main>
            <ToastRegion />
        </div>
    }
}

fn api_href(c: &PortalApiCard) -> String {
    format!("/portal/apis/{}/{}", c.org_id, c.api_id)
}

#[component]
fn ApiCards(cards: Vec<PortalApiCard>) -> impl IntoView {
    view! {
        <div class="api-cards">
            {cards.into_iter().map(|c| view! {
                <article class="api-card">
                    <h3 class="api-card__name">{c.name.clone()}</h3>
                    <p class="api-card__org muted">{format!("{} · version {}", c.org_name, c.version)}</p>
                    <p class="api-card__description">{if c.description.is_empty() { "No description.".to_owned() } else { c.description.clone() }}</p>
                    <div class="api-card__tags">
                        {c.tags.iter().map(|t| view! { <a class="tag" href=format!("/portal/apis?tag={}", urlencode(t))>{t.clone()}</a> }).collect_view()}
                    </div>
                    <a class="btn btn--secondary btn--sm" href=api_href(&c) aria-label=format!("Learn More about {}", c.name)>"Learn More"</a>
                </article>
            }).collect_view()}
        </div>
    }
}

#[component]
fn SearchBox(#[prop(into)] value: String) -> impl IntoView {
    view! {
        <form class="portal-search" action="/portal/apis" method="get" role="search">
            <label class="visually-hidden" for="portal-q">"Search APIs"</label>
            <input class="input" id="portal-q" name="q" type="search" value=value placeholder="Search APIs by name, description or tag" />
            <button class="btn btn--primary" type="submit">"Search"</button>
        </form>
    }
}

/// `/portal`: search and featured APIs.
#[component]
pub fn PortalHome() -> impl IntoView {
    let featured = Resource::new(
        || (),
        |_| portal_catalog(String::new(), "featured".into(), 1, 6),
    );
    view! {
        <Title text="API Developer Portal · Tollgate" />
        <section class="portal-hero">
            <h1>"Find an API, sign up for a plan, start calling"</h1>
            <p class="muted">"Browse the APIs published on this Tollgate. Sign up for a plan to get an API key for your client."</p>
            <SearchBox value="" />
        </section>
        <h2 class="section-title">"Featured APIs"</h2>
        <Transition fallback=|| view! { <SkeletonRows rows=3 /> }>
            {move || Suspend::new(async move {
                match featured.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok((page, _)) if page.items.is_empty() => view! {
                        <EmptyState message="No featured APIs yet.">
                            <p><a href="/portal/apis">"Browse all APIs"</a></p>
                        </EmptyState>
                    }.into_any(),
                    Ok((page, _)) => view! {
                        <ApiCards cards=page.items />
                        <p><a href="/portal/apis">"Browse all APIs"</a></p>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// `/portal/apis?q=&tag=`: the catalog.
#[component]
pub fn PortalCatalog() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.read().get("q").unwrap_or_default());
    let tag = Memo::new(move |_| query.read().get("tag").unwrap_or_default());
    let page = RwSignal::new(1u64);
    let per_page = RwSignal::new(24u64);
    let result = Resource::new(
        move || (q.get(), tag.get(), page.get(), per_page.get()),
        |(q, t, p, n)| portal_catalog(q, t, p, n),
    );
    view! {
        <Title text="APIs · Developer Portal" />
        <div class="page-header">
            <h1 class="page-title">"APIs"</h1>
        </div>
        {move || view! { <SearchBox value=q.get() /> }}
        <Transition fallback=|| view! { <SkeletonRows rows=4 /> }>
            {move || Suspend::new(async move {
                match result.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok((found, tags)) => {
                        let total = found.total;
                        let current = tag.get_untracked();
                        view! {
                            <nav class="tag-filter" aria-label="Filter by tag">
                                <a class="tag" href="/portal/apis" aria-current=current.is_empty().then_some("page")>"All"</a>
                                {tags.into_iter().map(|t| {
                                    let active = t == current;
                                    view! { <a class="tag" href=format!("/portal/apis?tag={}", urlencode(&t)) aria-current=active.then_some("page")>{t.clone()}</a> }
                                }).collect_view()}
                            </nav>
                            <p class="muted" role="status">{format!("{total} API{} found", if total == 1 { "" } else { "s" })}</p>
                            {if found.items.is_empty() {
                                view! { <EmptyState message="No API matches your search."><p><a href="/portal/apis">"Show all APIs"</a></p></EmptyState> }.into_any()
                            } else {
                                view! { <ApiCards cards=found.items /> }.into_any()
                            }}
                            <Pager page per_page total />
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// `/portal/apis/{org}/{api}?version=`: "Learn More".
#[component]
pub fn PortalApiPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let org = Memo::new(move |_| params.read().get("org").unwrap_or_default());
    let api = Memo::new(move |_| params.read().get("api").unwrap_or_default());
    let version = Memo::new(move |_| query.read().get("version").unwrap_or_default());
    let detail = Resource::new(
        move || (org.get(), api.get(), version.get()),
        |(o, a, v)| portal_api(o, a, v),
    );
    view! {
        <Transition fallback=|| view! { <SkeletonRows rows=5 /> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(d) => api_page(d),
                }
            })}
        </Transition>
    }
}

fn api_page(d: PortalApiDetail) -> AnyView {
    let navigate = use_navigate();
    let base = format!("/portal/apis/{}/{}", d.org_id, d.api_id);
    let base_for_select = base.clone();
    let download = format!("{base}/{}/definition", d.version);
    let signup = |plan: &str| {
        format!(
            "/portal/signup/{}/{}/{}/{plan}",
            d.org_id, d.api_id, d.version
        )
    };
    view! {
        <Title text=format!("{} · Developer Portal", d.name) />
        <div class="page-header">
            <p class="muted"><a href="/portal/apis">"APIs"</a>" / "{d.org_name.clone()}</p>
            <h1 class="page-title">{d.name.clone()}</h1>
            <p>{d.description.clone()}</p>
            <div class="page-subtitle">
                <label class="visually-hidden" for="portal-version">"Version"</label>
                <select class="version-switcher" id="portal-version" on:change=move |ev| {
                    navigate(&format!("{base_for_select}?version={}", urlencode(&event_target_value(&ev))), Default::default());
                }>
                    {d.versions.iter().map(|v| view! { <option value=v.clone() selected=*v == d.version>{format!("Version {v}")}</option> }).collect_view()}
                </select>
                {d.tags.iter().map(|t| view! { <a class="tag" href=format!("/portal/apis?tag={}", urlencode(t))>{t.clone()}</a> }).collect_view()}
            </div>
        </div>
        <div class="grid-main">
            <div class="stack">
                <section class="card">
                    <div class="card__header"><h2 class="card__title">"Plans"</h2></div>
                    <div class="card__body">
                        <div class="plan-cards">
                            {d.plans.iter().map(|p| view! {
                                <article class="plan-card" aria-label=format!("Plan {}", p.name)>
                                    <h3 class="plan-card__name">{p.name.clone()}</h3>
                                    {p.requires_approval.then(|| view! { <Badge label="Approval required" modifier="awaiting" /> })}
                                    <p class="muted">{if p.description.is_empty() { format!("Version {}", p.version) } else { p.description.clone() }}</p>
                                    <ul class="plan-card__limits">
                                        {p.limits.iter().map(|l| view! { <li>{l.clone()}</li> }).collect_view()}
                                    </ul>
                                    <a class="btn btn--primary btn--block" href=signup(&p.plan_id) rel="external" aria-label=format!("Sign Up for {}", p.name)>"Sign Up"</a>
                                </article>
                            }).collect_view()}
                        </div>
                    </div>
                </section>
                <section class="card">
                    <div class="card__header"><h2 class="card__title">"Documentation"</h2></div>
                    <div class="card__body stack">
                        {if d.extended_description_html.trim().is_empty() { ().into_any() } else {
                            view! { <div class="markdown" inner_html=d.extended_description_html.clone()></div> }.into_any()
                        }}
                        {if d.operations.is_empty() {
                            view! { <p class="muted">"This API version has no OpenAPI definition yet."</p> }.into_any()
                        } else {
                            view! { <Operations groups=d.operations.clone() /> }.into_any()
                        }}
                        {d.has_definition.then(|| view! { <p><a href=download.clone() download="">"Download the OpenAPI definition"</a></p> })}
                    </div>
                </section>
            </div>
            <div class="stack">
                <section class="card">
                    <div class="card__header"><h2 class="card__title">"Endpoint"</h2></div>
                    <div class="card__body stack">
                        <CopyField value=d.gateway_url.clone() label="Endpoint URL" />
                        <p class="muted">"Call it with your client's API key in the X-API-Key header, or as ?apikey= in the URL."</p>
                    </div>
                </section>
            </div>
        </div>
    }
    .into_any()
}

const SIGN_UP_STEPS: &[&str] = &["Client", "Summary"];

/// `/portal/signup/{org}/{api}/{version}/{plan}`: choose or create a client, confirm.
#[component]
pub fn PortalSignUpPage() -> impl IntoView {
    let params = use_params_map();
    let get = move |k: &'static str| Memo::new(move |_| params.read().get(k).unwrap_or_default());
    let (org, api, version, plan) = (get("org"), get("api"), get("version"), get("plan"));
    let data = Resource::new(
        move || (org.get(), api.get(), version.get()),
        |(o, a, v)| async move {
            let detail = portal_api(o.clone(), a.clone(), v.clone()).await?;
            let options = get_sign_up_options(o, a, v).await?;
            Ok::<_, crate::error::AppError>((detail, options))
        },
    );
    view! {
        <Title text="Sign Up · Developer Portal" />
        <Transition fallback=|| view! { <SkeletonRows rows=4 /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok((detail, options)) => view! { <SignUpWizard detail clients=options.clients orgs=options.orgs plan=plan.get_untracked() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SignUpWizard(
    detail: PortalApiDetail,
    clients: Vec<ClientChoice>,
    orgs: Vec<domain::dto::OrgSummary>,
    plan: String,
) -> impl IntoView {
    let step = RwSignal::new(0usize);
    let use_existing = RwSignal::new(!clients.is_empty());
    let chosen = RwSignal::new(clients.first().map(|_| 0usize));
    let name = RwSignal::new(String::new());
    let version = RwSignal::new("1.0".to_owned());
    let org = RwSignal::new(orgs.first().map(|o| o.id.clone()).unwrap_or_default());
    let submit = ServerAction::<PortalSignUp>::new();
    let clients = StoredValue::new(clients);
    let orgs = StoredValue::new(orgs);
    let Some(p) = detail.plans.iter().find(|p| p.plan_id == plan).cloned() else {
        return view! { <EmptyState message="This plan is not offered by the API version."><p><a href="/portal/apis">"Back to the APIs"</a></p></EmptyState> }.into_any();
    };
    let picked = move || {
        chosen
            .get()
            .and_then(|i| clients.with_value(|c| c.get(i).cloned()))
    };
    // A new client's name and version: checked as they are typed, and the server's answer
    // until they change.
    let errors = FormErrors::new(
        Signal::derive(move || submit.value().get().and_then(Result::err)),
        "signup",
    );
    let own_name = Signal::derive(move || EntityName::parse(&name.get()).err().map(|e| e.message));
    let own_version =
        Signal::derive(move || Version::parse(&version.get()).err().map(|e| e.message));
    let (name_message, version_message) = (
        errors.field_or("name", name, own_name),
        errors.field_or("version", version, own_version),
    );
    let name_error =
        Signal::derive(move || (!use_existing.get()).then(|| name_message.get()).flatten());
    let version_error = Signal::derive(move || {
        (!use_existing.get())
            .then(|| version_message.get())
            .flatten()
    });
    let existing_error = Signal::derive(move || {
        if use_existing.get() {
            picked().and_then(|c| c.existing_contract)
        } else {
            None
        }
    });
    let step_ok = Signal::derive(move || {
        if use_existing.get() {
            picked().is_some() && existing_error.get().is_none()
        } else {
            name_error.get().is_none()
                && version_error.get().is_none()
                && !name.get().trim().is_empty()
        }
    });
    let multi_org = orgs.with_value(|o| o.len() > 1);
    let no_org = orgs.with_value(Vec::is_empty);
    let d = StoredValue::new(detail);
    let plan_for_submit = p.clone();
    let confirm = move |_| {
        let (o, a, v) = d.with_value(|d| (d.org_id.clone(), d.api_id.clone(), d.version.clone()));
        let (client_org, client, client_version) = if use_existing.get() {
            picked()
                .map(|c| (c.org_id, c.client_id, c.version))
                .unwrap_or_default()
        } else {
            Default::default()
        };
        let request = SignUpRequest {
            org: o,
            api: a,
            version: v,
            plan: plan_for_submit.plan_id.clone(),
            client_org,
            client,
            client_version,
            new_name: name.get(),
            new_version: version.get(),
            new_org: if multi_org { org.get() } else { String::new() },
        };
        submit.dispatch(PortalSignUp { request });
    };
    let server_error = Signal::derive(move || submit.value().get().and_then(Result::err));
    let p_summary = p.clone();
    view! {
        {move || match submit.value().get() {
            Some(Ok(r)) => signed_up(r).into_any(),
            _ => {
                let p = p_summary.clone();
                let confirm = confirm.clone();
                view! {
                <div class="wizard card"><div class="wizard__body">
                    <h1 class="page-title">{d.with_value(|d| format!("Sign up for {} {}", d.name, d.version))}</h1>
                    <Stepper steps=SIGN_UP_STEPS current=step />
                    {move || (step.get() == 0).then(|| view! {
                        <fieldset class="form-grid">
                            {clients.with_value(|c| !c.is_empty()).then(|| view! {
                                <label class="check"><input type="radio" name="client-mode" prop:checked=move || use_existing.get() on:change=move |_| use_existing.set(true) />"Use an existing client"</label>
                            })}
                            {move || use_existing.get().then(|| view! {
                                <div class="field">
                                    <label class="field__label" for="signup-client">"Client"</label>
                                    <select class="select" id="signup-client" aria-describedby="signup-client-error" on:change=move |ev| chosen.set(event_target_value(&ev).parse().ok())>
                                        {clients.with_value(|list| {
                                            let mut groups: Vec<(String, Vec<(usize, ClientChoice)>)> = Vec::new();
                                            for (i, c) in list.iter().cloned().enumerate() {
                                                match groups.last_mut() {
                                                    Some((o, items)) if *o == c.org_name => items.push((i, c)),
                                                    _ => groups.push((c.org_name.clone(), vec![(i, c)])),
                                                }
                                            }
                                            groups.into_iter().map(|(o, items)| view! {
                                                <optgroup label=o>
                                                    {items.into_iter().map(|(i, c)| view! { <option value=i.to_string() selected=chosen.get_untracked() == Some(i)>{format!("{} {}", c.name, c.version)}</option> }).collect_view()}
                                                </optgroup>
                                            }).collect_view()
                                        })}
                                    </select>
                                    <p class="field__error" id="signup-client-error" role="alert">{move || existing_error.get()}</p>
                                </div>
                            })}
                            <label class="check"><input type="radio" name="client-mode" prop:checked=move || !use_existing.get() on:change=move |_| use_existing.set(false) />"Create a new client"</label>
                            {move || (!use_existing.get()).then(|| view! {
                                <Field id="signup-name" label="Client name" required=true error=name_error>
                                    <input class="input" id="signup-name" autocomplete="off" aria-describedby=described_by("signup-name")
                                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                                </Field>
                                <Field id="signup-version" label="Version" required=true error=version_error>
                                    <input class="input" id="signup-version" autocomplete="off" aria-describedby=described_by("signup-version")
                                        prop:value=move || version.get() on:input=move |ev| version.set(event_target_value(&ev)) />
                                </Field>
                                {multi_org.then(|| view! {
                                    <div class="field">
                                        <label class="field__label" for="signup-org">"Organization"</label>
                                        <select class="select" id="signup-org" on:change=move |ev| org.set(event_target_value(&ev))>
                                            {orgs.with_value(|o| o.iter().map(|o| view! { <option value=o.id.clone()>{o.name.clone()}</option> }).collect_view())}
                                        </select>
                                    </div>
                                })}
                                {no_org.then(|| view! { <p class="muted">"Your client will be created in a new organization named after you."</p> })}
                            })}
                            <div class="form-actions">
                                <a class="btn btn--secondary" href=d.with_value(|d| format!("/portal/apis/{}/{}", d.org_id, d.api_id))>"Cancel"</a>
                                <button class="btn btn--primary" type="button" disabled=move || !step_ok.get() on:click=move |_| step.set(1)>"Next"</button>
                            </div>
                        </fieldset>
                    })}
                    {move || (step.get() == 1).then(|| {
                        let p = p.clone();
                        let confirm = confirm.clone();
                        let client_line = if use_existing.get() { picked().map(|c| format!("{} {}", c.name, c.version)).unwrap_or_default() } else { format!("{} {} (new)", name.get(), version.get()) };
                        let org_line = if use_existing.get() { picked().map(|c| c.org_name).unwrap_or_default() }
                            else if no_org { "A new organization named after you".to_owned() }
                            else { orgs.with_value(|o| o.iter().find(|o| o.id == org.get()).map(|o| o.name.clone()).unwrap_or_default()) };
                        view! {
                            <p>"Please confirm the sign-up:"</p>
                            <dl class="info-list">
                                <dt>"API"</dt><dd>{d.with_value(|d| d.name.clone())}</dd>
                                <dt>"Version"</dt><dd>{d.with_value(|d| d.version.clone())}</dd>
                                <dt>"Plan"</dt><dd>{format!("{} {}", p.name, p.version)}{p.requires_approval.then_some(" (approval required: the provider decides before your key works for this API)")}</dd>
                                <dt>"Client"</dt><dd>{client_line}</dd>
                                <dt>"Organization"</dt><dd>{org_line}</dd>
                            </dl>
                            <ErrorAlert error=server_error />
                            <p class="field__error" role="alert">{move || server_error.get().and_then(|e| e.field("name").or_else(|| e.field("version")).or_else(|| e.field("org")))}</p>
                            <div class="form-actions">
                                <button class="btn btn--secondary" type="button" on:click=move |_| step.set(0)>"Back"</button>
                                <button class="btn btn--primary" type="button" disabled=move || submit.pending().get() on:click=confirm>"Confirm"</button>
                            </div>
                        }
                    })}
                </div></div>
                }.into_any()
            }
        }}
    }
    .into_any()
}

fn signed_up(r: SignUpResult) -> impl IntoView {
    let (title, text) = match r.contract {
        ContractStatus::AwaitingApproval => (
            "Your request awaits approval".to_owned(),
            format!(
                "The plan requires approval: {} decide. You will be notified; once approved, register the client version in My Clients.",
                r.approver.clone().unwrap_or_else(|| "the API's provider".to_owned())
            ),
        ),
        ContractStatus::Created if r.status == ClientStatus::Registered => (
            "You are signed up".to_owned(),
            "Your client version is registered: its API key works for this API now.".to_owned(),
        ),
        ContractStatus::Created => (
            "You are signed up".to_owned(),
            "The contract is in place. Register the client version in My Clients to activate its API key.".to_owned(),
        ),
    };
    view! {
        <section class="card signed-up">
            <div class="card__body stack">
                <h1 class="page-title">{title}</h1>
                <p>{text}</p>
                <p><StatusBadge status=r.status.as_str().to_owned() />" "{format!("{} {}", r.client_id, r.version)}</p>
                <p><a class="btn btn--primary" href="/portal/clients">"Go to My Clients"</a></p>
            </div>
        </section>
    }
}

/// `/portal/clients`: the user's client versions with keys, contracts and how to call.
#[component]
pub fn MyClientsPage() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let list = Resource::new(move || reload.get(), |_| my_clients());
    view! {
        <Title text="My Clients · Developer Portal" />
        <div class="page-header"><h1 class="page-title">"My Clients"</h1></div>
        <Transition fallback=|| view! { <SkeletonRows rows=4 /> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(items) if items.is_empty() => view! {
                        <EmptyState message="You have no clients yet.">
                            <p><a href="/portal/apis">"Find an API"</a>" and sign up for a plan: the wizard creates your client."</p>
                        </EmptyState>
                    }.into_any(),
                    Ok(items) => {
                        let mut groups: Vec<(String, Vec<MyClientVersion>)> = Vec::new();
                        for c in items {
                            match groups.last_mut() {
                                Some((o, list)) if *o == c.org_name => list.push(c),
                                _ => groups.push((c.org_name.clone(), vec![c])),
                            }
                        }
                        groups.into_iter().map(|(org, list)| view! {
                            <h2 class="section-title">{org}</h2>
                            <div class="stack">
                                {list.into_iter().map(|c| view! { <MyClientCard c reload /> }).collect_view()}
                            </div>
                        }).collect_view().into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn MyClientCard(c: MyClientVersion, reload: RwSignal<u32>) -> impl IntoView {
    let act = ServerAction::<MyClientActionFn>::new();
    let break_one = ServerAction::<PortalBreakContract>::new();
    let remove_open = RwSignal::new(false);
    let to_change: RwSignal<Option<i64>> = RwSignal::new(None);
    let change_open = RwSignal::new(false);
    let toasts = use_toasts();
    Effect::new(move |_| match act.value().get() {
        Some(Ok(())) => {
            remove_open.set(false);
            toasts.success("Done.");
            reload.update(|n| *n += 1);
        }
        Some(Err(e)) if !remove_open.get_untracked() => toasts.error(e.message()),
        _ => {}
    });
    Effect::new(move |_| match break_one.value().get() {
        Some(Ok(())) => {
            toasts.success("The contract was broken.");
            reload.update(|n| *n += 1);
        }
        Some(Err(e)) => toasts.error(e.message()),
        None => {}
    });
    let at = StoredValue::new((c.org_id.clone(), c.client_id.clone(), c.version.clone()));
    let run = move |action: MyClientAction| {
        let (org, client, version) = at.get_value();
        act.dispatch(MyClientActionFn {
            org,
            client,
            version,
            action,
        });
    };
    let can_register = c.can_admin
        && !c.contracts.is_empty()
        && (matches!(c.status, ClientStatus::Ready | ClientStatus::Retired)
            || c.unpublished_changes);
    let title = format!("{} {}", c.name, c.version);
    let ka = KeyActions::new(
        Signal::stored(KeyOwner {
            org: c.org_id.clone(),
            client: c.client_id.clone(),
            version: c.version.clone(),
            portal: true,
        }),
        reload,
    );
    let current_key = domain::dto::ApiKeyDto::current(&c.keys).map(|k| k.id);
    // The examples carry the key once it was shown on this page.
    let key = move || {
        current_key
            .and_then(|id| ka.secret(id))
            .unwrap_or_else(|| "YOUR-API-KEY".to_owned())
    };
    let keys = c.keys.clone();
    // Keys and contracts are changed only while the version is not retired.
    let can_edit = c.can_edit && c.status != ClientStatus::Retired;
    view! {
        <section class="card" aria-label=title.clone()>
            <div class="card__header row">
                <h3 class="card__title">{title.clone()}</h3>
                <StatusBadge status=c.status.as_str().to_owned() />
                {c.unpublished_changes.then(|| view! { <Badge label="Unpublished Changes" modifier="unpublished" /> })}
                <span class="spacer"></span>
                {can_register.then(|| view! {
                    <button class="btn btn--primary btn--sm" disabled=move || act.pending().get() on:click=move |_| run(MyClientAction::Register)>
                        {if c.status == ClientStatus::Registered { "Re-register" } else { "Register" }}
                    </button>
                })}
                {c.can_admin.then(|| view! {
                    <button class="btn btn--secondary btn--sm" on:click=move |_| remove_open.set(true)>"Remove client"</button>
                })}
            </div>
            <div class="card__body stack">
                <div class="my-keys">
                    <div class="my-keys__current">
                        <h4 class="my-keys__title">"API Key"</h4>
                        <ApiKeyPanel keys=keys.clone() can_edit ka />
                    </div>
                    <section class="my-keys__list" aria-label="Keys">
                        <div class="my-keys__head">
                            <h4 class="my-keys__title">"Keys"</h4>
                            {can_edit.then(|| view! { <AddKeyButton ka /> })}
                        </div>
                        <div class="my-keys__table"><KeysTable keys can_edit ka /></div>
                    </section>
                </div>
                {if c.contracts.is_empty() {
                    view! { <p class="muted">"No contracts. Sign up for a plan of an API to use this client with it."</p> }.into_any()
                } else {
                    let usage = c.usage.clone();
                    let registered = c.status == ClientStatus::Registered;
                    c.contracts.into_iter().map(|k| {
                        let limits = usage
                            .iter()
                            .find(|u| u.contract_id == k.id)
                            .map(|u| u.limits.clone())
                            .unwrap_or_default();
                        let url = k.gateway_url.clone();
                        let header_example = move || format!("curl -H \"X-API-Key: {}\" {url}/", key());
                        let id = k.id;
                        let label = format!("{} {}", k.api_name, k.api_version);
                        let blocked = change_plan_blocked(&k);
                        view! {
                            <div class="contract-box">
                                <div class="row">
                                    <strong>{label.clone()}</strong>
                                    <span class="muted">{format!("{} · plan {} {}", k.api_org_name, k.plan_name, k.plan_version)}</span>
                                    <ContractBadge status=k.status />
                                    <PendingPlanNote contract=k.clone() />
                                    <span class="spacer"></span>
                                    {can_edit.then(|| view! {
                                        <button class="btn btn--ghost btn--sm" aria-label=format!("Change plan of the contract with {label}") disabled=blocked.is_some()
                                            title=blocked.unwrap_or_default()
                                            on:click=move |_| { to_change.set(Some(id)); change_open.set(true); }>"Change plan"</button>
                                    })}
                                    <button class="btn btn--ghost btn--sm" aria-label=format!("Break contract with {label}") on:click=move |_| { break_one.dispatch(PortalBreakContract { id }); }>"Break contract"</button>
                                </div>
                                <CopyField value=k.gateway_url.clone() label=format!("Endpoint of {label}") />
                                <p class="muted">"How to call it, with your API key in a header:"</p>
                                <pre class="schema">{header_example}</pre>
                                <p class="muted my-keys__note">{can_edit.then_some("Show your API key above to put it into the example. ")}"Some APIs also accept the key as ?apikey= in the query string; a header keeps it out of server logs and browser histories."</p>
                                <ContractLimits limits registered label=label.clone() />
                            </div>
                        }
                    }).collect_view().into_any()
                }}
            </div>
        </section>
        <ChangePlanDialog open=change_open contract=to_change portal=true reload />
        <ConfirmDialog
            open=remove_open
            title="Remove client"
            message=Signal::derive(move || format!("Remove the client '{}'? It is unregistered, its contracts end and it is deleted with all its versions.", at.get_value().1))
            confirm_label="Remove client"
            pending=act.pending()
            error=Signal::derive(move || act.value().get().and_then(Result::err))
            on_confirm=move || run(MyClientAction::Remove)
        />
        <KeyDialogs ka />
    }
}

/// Where a contract stands against its plan's limits: used, remaining and when it resets.
#[component]
fn ContractLimits(limits: Vec<LimitUsage>, registered: bool, label: String) -> impl IntoView {
    if !registered {
        return view! { <p class="muted">"Usage appears here once the client is registered."</p> }
            .into_any();
    }
    if limits.is_empty() {
        return view! { <p class="muted">"This plan sets no rate limit or quota."</p> }.into_any();
    }
    view! {
        <ul class="usage-list" aria-label=format!("Usage of {label}")>
            {limits.into_iter().map(|l| {
                let pct = if l.limit == 0 { 0.0 } else { l.used as f64 * 100.0 / l.limit as f64 };
                let tone = if pct >= 100.0 { "usage__bar usage__bar--full" } else if pct >= 80.0 { "usage__bar usage__bar--high" } else { "usage__bar" };
                let resets = match l.resets_in {
                    Some(s) if l.used > 0 => format!(" · resets in {}", duration(s)),
                    _ => String::new(),
                };
                view! {
                    <li class="usage">
                        <div class="row">
                            <strong>{l.kind.clone()}</strong>
                            <span class="muted">{l.summary.clone()}</span>
                            <span class="spacer"></span>
                            <span>{format!("{} used · {} remaining{resets}", thousands(l.used), thousands(l.remaining))}</span>
                        </div>
                        <div class="usage__track" role="meter" aria-label=format!("{} used", l.kind) aria-valuemin="0" aria-valuemax=l.limit.to_string() aria-valuenow=l.used.to_string()>
                            <div class=tone style=format!("width: {:.1}%", pct.min(100.0))></div>
                        </div>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// `90` → "1 min 30 s", `7200` → "2 h".
fn duration(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 if secs.is_multiple_of(60) => format!("{} min", secs / 60),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        3600..86_400 => format!("{} h {} min", secs / 3600, (secs % 3600) / 60),
        _ => format!("{} d {} h", secs / 86_400, (secs % 86_400) / 3600),
    }
}
