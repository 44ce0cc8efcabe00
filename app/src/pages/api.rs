//! The page of one API version (`/orgs/{org}/apis/{id}/{version}[/{tab}]`): header with status
//! and actions (Publish, Retire, Delete), tabs Overview ("Why can't I publish?"),
//! Implementation, Definition, Plans, Policies, Contracts (Revoke), Metrics, Change Log.

use domain::dto::{ApiVersionDetail, ContractDto, DEFAULT_PAGE_SIZE, LockedPlan, PlanOffer};
use domain::gateway_bounds::{
    check_connect_timeout, check_max_concurrent_requests, check_request_body_limit,
    check_response_timeout,
};
use domain::lifecycle::{ApiPart, change_api};
use domain::{ApiStatus, ContentType, Discoverability, EndpointUrl, Permission};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::contracts::RevokeContract;
use crate::api::entities::get_api_version;
use crate::api::lifecycle::{
    ApiDefinition, LockedPlans, SetApiPlans, UpdateApiDefinition, UpdateApiExtendedDescription,
    UpdateApiImplementation, VersionAction, api_contracts,
};
use crate::api::portal::SetApiTags;
use crate::components::contracts::PendingPlanNote;
use crate::components::form::FormErrors;
use crate::components::status::{ContractBadge, StatusBadge};
use crate::components::toast::use_toasts;
use crate::components::ui::{
    CopyField, Dialog, EmptyState, ErrorAlert, Field, LoadError, Pager, SkeletonRows, described_by,
    format_date,
};
use crate::error::AppError;
use crate::pages::entities::{
    ActionSpec, ChangeLogCard, EntityHeaderView, EntityTabs, RouteParams, VersionActions,
    route_params,
};
use crate::pages::metrics::MetricsTab;
use crate::pages::policies::{PoliciesTab, PolicyChainCard, api_access};
use domain::EntityKind;

type ApiResource = Resource<Result<ApiVersionDetail, AppError>>;

const API_TABS: &[(&str, &str)] = &[
    ("", "Overview"),
    ("implementation", "Implementation"),
    ("definition", "Definition"),
    ("plans", "Plans"),
    ("policies", "Policies"),
    ("contracts", "Contracts"),
    ("metrics", "Metrics"),
    ("changelog", "Change Log"),
];

/// `/orgs/{org}/apis/{id}/{version}[/{tab}]`.
#[component]
pub fn ApiPage() -> impl IntoView {
    let p = route_params();
    let reload = RwSignal::new(0u32);
    let detail: ApiResource = Resource::new(
        move || (p.org.get(), p.id.get(), p.version.get(), reload.get()),
        |(o, a, v, _)| get_api_version(o, a, v),
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
                            <EntityHeaderView kind=EntityKind::Api header=h status=d.status.as_str().to_owned() reload
                                actions=move || api_actions(for_actions.clone(), reload) />
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <EntityTabs base=p.base(EntityKind::Api) tabs=API_TABS tab=p.tab />
        {move || match p.tab.get().as_str() {
            "" => with_detail(detail, reload, overview),
            "implementation" => with_detail(detail, reload, |d, reload| view! { <ImplementationForm d reload /> }.into_any()),
            "definition" => with_detail(detail, reload, |d, reload| view! { <DefinitionForms d reload /> }.into_any()),
            "plans" => with_detail(detail, reload, |d, reload| view! { <PlansForm d reload /> }.into_any()),
            "policies" => view! {
                <PoliciesTab kind=EntityKind::Api p detail access=api_access reload note="API policies run last, after the client's and the plan's, on every request to this API version." />
                <PolicyChainCard p reload />
            }.into_any(),
            "contracts" => view! { <ApiContracts p detail reload /> }.into_any(),
            "metrics" => view! { <MetricsTab kind=EntityKind::Api p help="Requests, response codes, latency and usage by client appear here once clients call this API version through the gateway." /> }.into_any(),
            "changelog" => view! { <ChangeLogCard kind=EntityKind::Api org=p.org.get() id=p.id.get() /> }.into_any(),
            _ => view! { <EmptyState message="This tab does not exist." /> }.into_any(),
        }}
    }
}

/// A tab whose content waits for the API version's details.
fn with_detail(
    detail: ApiResource,
    reload: RwSignal<u32>,
    body: fn(ApiVersionDetail, RwSignal<u32>) -> AnyView,
) -> AnyView {
    view! {
        <Transition fallback=|| view! { <SkeletonRows rows=3 /> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => body(d, reload),
                    Err(_) => ().into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

fn api_actions(d: ApiVersionDetail, reload: RwSignal<u32>) -> AnyView {
    let h = d.header.clone();
    let admin = h.can(Permission::ApiAdmin);
    let name = format!("{} {}", h.name, h.version);
    let mut primary = Vec::new();
    if admin && d.status == ApiStatus::Ready {
        primary.push(ActionSpec {
            action: VersionAction::Publish,
            label: "Publish",
            confirm: Some((
                "Publish API version".to_owned(),
                format!("Publish {name} to the gateway? Clients can then sign contracts for its plans. Once published, only its endpoint, extended description and plan settings can change."),
                "Publish",
            )),
        });
    }
    let mut menu = Vec::new();
    if admin && d.status == ApiStatus::Published {
        menu.push(ActionSpec {
            action: VersionAction::Retire,
            label: "Retire",
            confirm: Some((
                "Retire API version".to_owned(),
                format!("Retire {name}? The gateway answers 410 Gone for it from now on, and no new contracts can be made. This cannot be undone."),
                "Retire",
            )),
        });
    }
    let delete = admin.then(|| {
        format!(
            "Delete the API '{}' with all its versions? This cannot be undone. It is refused while a version is published or has contracts.",
            h.name
        )
    });
    view! { <VersionActions kind=EntityKind::Api header=h reload primary menu delete /> }.into_any()
}

fn overview(d: ApiVersionDetail, reload: RwSignal<u32>) -> AnyView {
    let h = d.header.clone();
    let checklist = d.publish_checklist.clone();
    let status_text = match d.status {
        ApiStatus::Created => "This version is not ready to be published yet.",
        ApiStatus::Ready => "This version is complete and can be published.",
        ApiStatus::Published => {
            "This version is published: clients can sign contracts and call it through the gateway."
        }
        ApiStatus::Retired => "This version is retired: the gateway answers 410 Gone for it.",
    };
    view! {
        <div class="grid-main">
            <div class="stack">
                <section class="card">
                    <div class="card__header"><h2 class="card__title">"Status"</h2></div>
                    <div class="card__body stack">
                        <p><StatusBadge status=d.status.as_str().to_owned() />" "{status_text}</p>
                        {(!checklist.is_empty()).then(|| view! {
                            <div class="alert alert--warning">
                                <strong>"Why can't I publish?"</strong>
                                <ul class="checklist">
                                    {checklist.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}
                                </ul>
                            </div>
                        })}
                    </div>
                </section>
                <section class="card">
                    <div class="card__header"><h2 class="card__title">"About this API"</h2></div>
                    <div class="card__body">
                        {if d.extended_description.trim().is_empty() {
                            view! { <p class="muted">"No extended description yet. Add one on the Definition tab."</p> }.into_any()
                        } else {
                            view! { <div class="markdown" inner_html=d.extended_description_html.clone()></div> }.into_any()
                        }}
                    </div>
                </section>
            </div>
            <div class="stack">
                <TagsCard d=d.clone() reload />
                <section class="card">
                    <div class="card__header"><h2 class="card__title">"Gateway endpoint"</h2></div>
                    <div class="card__body stack">
                        <CopyField value=d.gateway_url.clone() label="Gateway URL" />
                        <p class="muted">{if d.public_api { "Public: callable without an API key." } else { "Callers send a client version's API key in the X-API-Key header." }}</p>
                    </div>
                </section>
                <section class="card">
                    <div class="card__header"><h2 class="card__title">"Useful Information"</h2></div>
                    <div class="card__body">
                        <dl class="info-list">
                            <dt>"Endpoint"</dt><dd class="mono">{d.endpoint_url.clone().unwrap_or_else(|| "Not set yet".to_owned())}</dd>
                            <dt>"Content type"</dt><dd>{d.content_type.as_str()}</dd>
                            <dt>"Plans"</dt><dd>{d.plans.len().to_string()}</dd>
                            <dt>"Contracts"</dt><dd>{d.contract_count.to_string()}</dd>
                            <dt>"Definition"</dt><dd>{d.definition.as_ref().map_or_else(|| "None".to_owned(), |i| format!("{} ({} operations)", i.title, i.operations).replace("(1 operations)", "(1 operation)"))}</dd>
                            <dt>"Published"</dt><dd>{d.published_on.map_or_else(|| "Not yet".to_owned(), |t| format_date(&t))}</dd>
                            {d.retired_on.map(|t| view! { <dt>"Retired"</dt><dd>{format_date(&t)}</dd> })}
                            <dt>"Created"</dt><dd>{format!("{} by {}", format_date(&h.created_on), h.created_by)}</dd>
                        </dl>
                    </div>
                </section>
            </div>
        </div>
    }
    .into_any()
}

/// The API's tags, editable with apiEdit; `featured` shows it on the portal's home page.
#[component]
fn TagsCard(d: ApiVersionDetail, reload: RwSignal<u32>) -> impl IntoView {
    let draft = RwSignal::new(d.tags.join(", "));
    let save = ServerAction::<SetApiTags>::new();
    let toasts = use_toasts();
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            toasts.success("Tags saved.");
            reload.update(|n| *n += 1);
        }
    });
    let can_edit = d.header.can(Permission::ApiEdit);
    let h = StoredValue::new(d.header.clone());
    let error = FormErrors::new(
        Signal::derive(move || save.value().get().and_then(Result::err)),
        "api",
    )
    .field("tags", draft);
    view! {
        <section class="card">
            <div class="card__header"><h2 class="card__title">"Tags"</h2></div>
            <div class="card__body stack">
                <div class="api-card__tags">
                    {if d.tags.is_empty() { view! { <span class="muted">"No tags."</span> }.into_any() } else {
                        d.tags.iter().map(|t| view! { <span class="tag">{t.clone()}</span> }).collect_view().into_any()
                    }}
                </div>
                {can_edit.then(|| view! {
                    <form class="form-grid" on:submit=move |ev| {
                        ev.prevent_default();
                        let (org, api) = h.with_value(|h| (h.org_id.clone(), h.id.clone()));
                        save.dispatch(SetApiTags { org, api, tags: draft.get() });
                    }>
                        <Field id="api-tags" label="Tags" hint="Comma-separated. The tag featured shows the API on the portal's home page." error>
                            <input class="input" id="api-tags" aria-describedby=described_by("api-tags")
                                prop:value=move || draft.get() on:input=move |ev| draft.set(event_target_value(&ev)) />
                        </Field>
                        <div class="row"><button class="btn btn--secondary btn--sm" type="submit" disabled=move || save.pending().get()>"Save tags"</button></div>
                    </form>
                })}
            </div>
        </section>
    }
}

/// Why a part cannot be edited now, if it cannot.
fn locked_reason(d: &ApiVersionDetail, part: ApiPart) -> Option<String> {
    if !d.header.can(Permission::ApiEdit) {
        return Some("You may view this API but not change it.".to_owned());
    }
    change_api(d.status, part).err().map(|r| r.0)
}

#[component]
fn ImplementationForm(d: ApiVersionDetail, reload: RwSignal<u32>) -> impl IntoView {
    let endpoint = RwSignal::new(d.endpoint_url.clone().unwrap_or_default());
    let content_type = RwSignal::new(d.content_type);
    let public_api = RwSignal::new(d.public_api);
    let body_limit = RwSignal::new(
        d.request_body_limit
            .map(|n| n.to_string())
            .unwrap_or_default(),
    );
    let encoded_slashes = RwSignal::new(d.allow_encoded_slashes);
    let key_in_query = RwSignal::new(d.accept_key_in_query);
    let text_of = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
    let connect_timeout = RwSignal::new(text_of(d.connect_timeout_ms));
    let response_timeout = RwSignal::new(text_of(d.response_timeout_ms));
    let concurrency = RwSignal::new(text_of(d.max_concurrent_requests.map(u64::from)));
    let refusal = d.endpoint_refusal.clone();
    let save = ServerAction::<UpdateApiImplementation>::new();
    let toasts = use_toasts();
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            toasts.success("Implementation saved.");
            reload.update(|n| *n += 1);
        }
    });
    let locked = locked_reason(&d, ApiPart::Endpoint);
    let public_locked = locked_reason(&d, ApiPart::PublicFlag);
    let disabled = locked.is_some();
    let public_disabled = public_locked.is_some();
    let local_error = Signal::derive(move || {
        let e = endpoint.get();
        (!e.is_empty())
            .then(|| EndpointUrl::parse(&e).err().map(|e| e.message))
            .flatten()
    });
    // Empty: the default. Otherwise a whole number of bytes, within the domain's bounds.
    let parsed_limit = move || -> Result<Option<u64>, String> {
        let text = body_limit.get();
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let n = text.parse::<u64>().map_err(|_| {
            "Enter a whole number of bytes, or leave it empty for the default (10 MiB).".to_owned()
        })?;
        check_request_body_limit(Some(n)).map_err(|e| e.message)
    };
    let limit_error = Signal::derive(move || parsed_limit().err());
    let parsed_connect = move || {
        optional_number(&connect_timeout.get(), "milliseconds", "5 s")
            .and_then(|n| check_connect_timeout(n).map_err(|e| e.message))
    };
    let parsed_response = move || {
        optional_number(&response_timeout.get(), "milliseconds", "30 s")
            .and_then(|n| check_response_timeout(n).map_err(|e| e.message))
    };
    let parsed_concurrency = move || {
        optional_number(&concurrency.get(), "requests", "256").and_then(|n| {
            let n = n.map(|n| u32::try_from(n).unwrap_or(u32::MAX));
            check_max_concurrent_requests(n).map_err(|e| e.message)
        })
    };
    let connect_error = Signal::derive(move || parsed_connect().err());
    let response_error = Signal::derive(move || parsed_response().err());
    let concurrency_error = Signal::derive(move || parsed_concurrency().err());
    let local_invalid = move || {
        local_error.get().is_some()
            || limit_error.get().is_some()
            || connect_error.get().is_some()
            || response_error.get().is_some()
            || concurrency_error.get().is_some()
    };
    let server_error = Signal::derive(move || save.value().get().and_then(Result::err));
    let errors = FormErrors::new(server_error, "api");
    let endpoint_error = errors.field_or("endpoint", endpoint, local_error);
    let body_limit_error = errors.field_or("requestBodyLimit", body_limit, limit_error);
    let connect_timeout_error = errors.field_or("connectTimeoutMs", connect_timeout, connect_error);
    let response_timeout_error =
        errors.field_or("responseTimeoutMs", response_timeout, response_error);
    let concurrency_field_error =
        errors.field_or("maxConcurrentRequests", concurrency, concurrency_error);
    let h = StoredValue::new(d.header.clone());
    view! {
        <section class="card">
            <div class="card__header"><h2 class="card__title">"Implementation"</h2></div>
            <div class="card__body">
                {locked.clone().map(|m| view! { <p class="alert alert--info">{m}</p> })}
                {refusal.map(|m| view! { <p class="alert alert--warning" role="alert">{m}</p> })}
                <form class="form-grid" on:submit=move |ev| {
                    ev.prevent_default();
                    let (org, api, version) = h.with_value(|h| (h.org_id.clone(), h.id.clone(), h.version.clone()));
                    let Ok(request_body_limit) = parsed_limit() else { return };
                    let Ok(connect_timeout_ms) = parsed_connect() else { return };
                    let Ok(response_timeout_ms) = parsed_response() else { return };
                    let Ok(max_concurrent_requests) = parsed_concurrency() else { return };
                    save.dispatch(UpdateApiImplementation { org, api, version, endpoint: endpoint.get(), content_type: content_type.get().as_str().to_owned(), public_api: public_api.get(), request_body_limit, allow_encoded_slashes: encoded_slashes.get(), accept_key_in_query: key_in_query.get(), connect_timeout_ms, response_timeout_ms, max_concurrent_requests });
                }>
                    <Field id="api-endpoint" label="API Endpoint" required=true hint="The backend the gateway forwards to: http:// or https://." error=endpoint_error>
                        <input class="input mono" id="api-endpoint" type="url" disabled=disabled aria-describedby=described_by("api-endpoint")
                            placeholder="https://api.example.com/v1"
                            prop:value=move || endpoint.get() on:input=move |ev| endpoint.set(event_target_value(&ev)) />
                    </Field>
                    <div class="field">
                        <label class="field__label" for="api-endpoint-type">"API Type"</label>
                        <select class="select" id="api-endpoint-type" disabled=true><option>"REST"</option></select>
                    </div>
                    <div class="field">
                        <label class="field__label" for="api-content-type">"Content type"</label>
                        <select class="select" id="api-content-type" disabled=disabled on:change=move |ev| {
                            if let Ok(c) = ContentType::parse(&event_target_value(&ev)) { content_type.set(c) }
                        }>
                            {ContentType::ALL.into_iter().map(|c| view! { <option value=c.as_str() selected=c == d.content_type>{c.as_str()}</option> }).collect_view()}
                        </select>
                    </div>
                    <label class="check">
                        <input type="checkbox" disabled=public_disabled prop:checked=move || public_api.get()
                            on:change=move |ev| public_api.set(event_target_checked(&ev)) />
                        "Public API (callable without an API key or contract)"
                    </label>
                    {(!disabled).then(|| public_locked.clone().map(|m| view! { <p class="muted">{m}</p> }))}
                    <Field id="api-body-limit" label="Request body limit (bytes)" hint="Larger request bodies get 413. Empty: the default, 10 MiB (10485760 bytes); at most 1 GiB." error=body_limit_error>
                        <input class="input mono" id="api-body-limit" type="text" inputmode="numeric" disabled=disabled aria-describedby=described_by("api-body-limit")
                            placeholder="10485760"
                            prop:value=move || body_limit.get() on:input=move |ev| body_limit.set(event_target_value(&ev)) />
                    </Field>
                    <label class="check">
                        <input type="checkbox" id="api-encoded-slashes" disabled=disabled prop:checked=move || encoded_slashes.get()
                            on:change=move |ev| encoded_slashes.set(event_target_checked(&ev)) />
                        "Allow encoded slashes (%2F) in request paths (refused with 400 otherwise)"
                    </label>
                    <label class="check">
                        <input type="checkbox" id="api-key-in-query" disabled=disabled prop:checked=move || key_in_query.get()
                            on:change=move |ev| key_in_query.set(event_target_checked(&ev)) />
                        "Accept the API key in the query string (?apikey=); otherwise only the X-API-Key header (query strings end up in logs and browser histories)"
                    </label>
                    <Field id="api-connect-timeout" label="Connect timeout (ms)" hint="How long the gateway waits for a connection to the backend; then 504. Empty: the default, 5 s; from 100 ms to 60 s." error=connect_timeout_error>
                        <input class="input mono" id="api-connect-timeout" type="text" inputmode="numeric" disabled=disabled aria-describedby=described_by("api-connect-timeout")
                            placeholder="5000"
                            prop:value=move || connect_timeout.get() on:input=move |ev| connect_timeout.set(event_target_value(&ev)) />
                    </Field>
                    <Field id="api-response-timeout" label="Response timeout (ms)" hint="How long the gateway waits for the backend's answer once connected (a request body is sent within it); then 504. Empty: the default, 30 s; from 100 ms to 10 minutes." error=response_timeout_error>
                        <input class="input mono" id="api-response-timeout" type="text" inputmode="numeric" disabled=disabled aria-describedby=described_by("api-response-timeout")
                            placeholder="30000"
                            prop:value=move || response_timeout.get() on:input=move |ev| response_timeout.set(event_target_value(&ev)) />
                    </Field>
                    <Field id="api-max-concurrent" label="Concurrent requests to the backend (per gateway node)" hint="More at once get 503 instead of waiting on a slow backend. Empty: the default, 256; from 1 to 10000." error=concurrency_field_error>
                        <input class="input mono" id="api-max-concurrent" type="text" inputmode="numeric" disabled=disabled aria-describedby=described_by("api-max-concurrent")
                            placeholder="256"
                            prop:value=move || concurrency.get() on:input=move |ev| concurrency.set(event_target_value(&ev)) />
                    </Field>
                    <ErrorAlert error=server_error />
                    {(!disabled).then(|| view! {
                        <div class="row">
                            <button type="submit" class="btn btn--primary" disabled=move || save.pending().get() || local_invalid()>"Save"</button>
                        </div>
                    })}
                </form>
            </div>
        </section>
    }
}

/// An optional whole number typed into a field: empty is `None` (the default, `default`).
fn optional_number(text: &str, unit: &str, default: &str) -> Result<Option<u64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<u64>().map(Some).map_err(|_| {
        format!("Enter a whole number of {unit}, or leave it empty for the default ({default}).")
    })
}

#[component]
fn DefinitionForms(d: ApiVersionDetail, reload: RwSignal<u32>) -> impl IntoView {
    let h = StoredValue::new(d.header.clone());
    let at = move || h.with_value(|h| (h.org_id.clone(), h.id.clone(), h.version.clone()));
    let text = RwSignal::new(String::new());
    // Set once the user types or picks a file: the loaded definition must not overwrite it.
    let touched = RwSignal::new(false);
    let current = ServerAction::<ApiDefinition>::new();
    let save = ServerAction::<UpdateApiDefinition>::new();
    let markdown = RwSignal::new(d.extended_description.clone());
    let save_md = ServerAction::<UpdateApiExtendedDescription>::new();
    let toasts = use_toasts();
    Effect::new(move |_| {
        let (org, api, version) = at();
        current.dispatch(ApiDefinition { org, api, version });
    });
    Effect::new(move |_| {
        if let Some(Ok(t)) = current.value().get()
            && !touched.get_untracked()
        {
            text.set(t.unwrap_or_default());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            toasts.success("Definition saved.");
            reload.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = save_md.value().get() {
            toasts.success("Extended description saved.");
            reload.update(|n| *n += 1);
        }
    });
    let locked = locked_reason(&d, ApiPart::Definition);
    let md_locked = locked_reason(&d, ApiPart::ExtendedDescription);
    let def_error = Signal::derive(move || save.value().get().and_then(Result::err));
    let md_error = Signal::derive(move || save_md.value().get().and_then(Result::err));
    let info = d.definition.clone();
    let on_file = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let input: web_sys::HtmlInputElement = event_target(&ev);
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                let promise = file.text();
                leptos::task::spawn_local(async move {
                    if let Ok(v) = wasm_bindgen_futures::JsFuture::from(promise).await
                        && let Some(s) = v.dyn_ref::<js_sys::JsString>()
                    {
                        touched.set(true);
                        text.set(String::from(s));
                    }
                });
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let (def_disabled, md_disabled) = (locked.is_some(), md_locked.is_some());
    view! {
        <section class="card">
            <div class="card__header"><h2 class="card__title">"API Definition"</h2></div>
            <div class="card__body stack">
                {match info {
                    Some(i) => view! { <p>{format!("{}: {} {}, {} ({:.1} kB).", i.title, i.operations, if i.operations == 1 { "operation" } else { "operations" }, i.format.as_str().to_uppercase(), i.bytes as f64 / 1024.0)}</p> }.into_any(),
                    None => view! { <p class="muted">"No definition yet. Paste or upload an OpenAPI 3 document (JSON, or YAML without anchors and aliases; up to 1 MiB); the portal shows its operations as documentation."</p> }.into_any(),
                }}
                {locked.clone().map(|m| view! { <p class="alert alert--info">{m}</p> })}
                <form class="form-grid" on:submit=move |ev| {
                    ev.prevent_default();
                    let (org, api, version) = at();
                    save.dispatch(UpdateApiDefinition { org, api, version, definition: text.get() });
                }>
                    {(!def_disabled).then(|| view! {
                        <div class="field">
                            <label class="field__label" for="definition-file">"Upload a file"</label>
                            <input class="input" id="definition-file" type="file" accept=".json,.yaml,.yml,application/json,application/yaml" on:change=on_file />
                        </div>
                    })}
                    <Field id="definition" label="OpenAPI definition" error=FormErrors::new(def_error, "api").field("definition", text)>
                        <textarea class="textarea code-area" id="definition" disabled=def_disabled spellcheck="false" aria-describedby=described_by("definition")
                            placeholder="openapi: 3.0.3\ninfo:\n  title: My API\n  version: '1.0'\npaths: {}"
                            prop:value=move || text.get() on:input=move |ev| { touched.set(true); text.set(event_target_value(&ev)); }></textarea>
                    </Field>
                    <ErrorAlert error=def_error />
                    {(!def_disabled).then(|| view! {
                        <div class="row">
                            <button type="submit" class="btn btn--primary" disabled=move || save.pending().get() || text.get().trim().is_empty()>"Save definition"</button>
                            {d.definition.is_some().then(|| view! {
                                <button type="button" class="btn btn--secondary" on:click=move |_| {
                                    let (org, api, version) = at();
                                    save.dispatch(UpdateApiDefinition { org, api, version, definition: String::new() });
                                }>"Remove definition"</button>
                            })}
                        </div>
                    })}
                </form>
            </div>
        </section>
        <section class="card">
            <div class="card__header"><h2 class="card__title">"Extended description"</h2></div>
            <div class="card__body stack">
                {md_locked.clone().map(|m| view! { <p class="alert alert--info">{m}</p> })}
                <form class="form-grid" on:submit=move |ev| {
                    ev.prevent_default();
                    let (org, api, version) = at();
                    save_md.dispatch(UpdateApiExtendedDescription { org, api, version, extended_description: markdown.get() });
                }>
                    <Field id="extended-description" label="Extended description (Markdown)" hint="Shown on the API's page in the Developer Portal. HTML is shown as text." error=FormErrors::new(md_error, "api").field("extended_description", markdown)>
                        <textarea class="textarea" id="extended-description" rows="8" disabled=md_disabled aria-describedby=described_by("extended-description")
                            prop:value=move || markdown.get() on:input=move |ev| markdown.set(event_target_value(&ev))></textarea>
                    </Field>
                    <ErrorAlert error=md_error />
                    {(!md_disabled).then(|| view! {
                        <div class="row"><button type="submit" class="btn btn--primary" disabled=move || save_md.pending().get()>"Save extended description"</button></div>
                    })}
                </form>
                {(!d.extended_description.trim().is_empty()).then(|| view! {
                    <h3 class="card__title">"Preview"</h3>
                    <div class="markdown" inner_html=d.extended_description_html.clone()></div>
                })}
            </div>
        </section>
    }
}

/// One row of the Plans tab.
#[derive(Clone, PartialEq)]
struct Row {
    plan_id: String,
    plan_version: String,
    requires_approval: bool,
    discoverability: Discoverability,
}

#[component]
fn PlansForm(d: ApiVersionDetail, reload: RwSignal<u32>) -> impl IntoView {
    let rows = RwSignal::new(
        d.plans
            .iter()
            .map(|p| Row {
                plan_id: p.plan_id.clone(),
                plan_version: p.plan_version.clone(),
                requires_approval: p.requires_approval,
                discoverability: p.discoverability,
            })
            .collect::<Vec<_>>(),
    );
    let available = ServerAction::<LockedPlans>::new();
    let save = ServerAction::<SetApiPlans>::new();
    let toasts = use_toasts();
    let h = StoredValue::new(d.header.clone());
    Effect::new(move |_| {
        available.dispatch(LockedPlans {
            org: h.with_value(|h| h.org_id.clone()),
        });
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            toasts.success("Plans saved.");
            reload.update(|n| *n += 1);
        }
    });
    let locked = locked_reason(&d, ApiPart::PlanFlags);
    let set_locked = locked_reason(&d, ApiPart::PlanSet).is_some();
    let flags_locked = locked.is_some();
    let plans: Signal<Vec<LockedPlan>> = Signal::derive(move || {
        available
            .value()
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
    });
    let server_error = Signal::derive(move || save.value().get().and_then(Result::err));
    let update = move |i: usize, f: Box<dyn FnOnce(&mut Row)>| {
        rows.update(|r| {
            if let Some(row) = r.get_mut(i) {
                f(row)
            }
        })
    };
    let add = move |_| {
        let offered: Vec<String> = rows.with(|r| r.iter().map(|r| r.plan_id.clone()).collect());
        if let Some(p) = plans
            .get()
            .into_iter()
            .find(|p| !offered.contains(&p.plan_id))
        {
            rows.update(|r| {
                r.push(Row {
                    plan_version: p.versions.first().cloned().unwrap_or_default(),
                    plan_id: p.plan_id,
                    requires_approval: false,
                    discoverability: Discoverability::OrgMembers,
                })
            });
        }
    };
    let create_plan_href = StoredValue::new(format!("/create/plan?org={}", d.header.org_id));
    view! {
        <section class="card">
            <div class="card__header"><h2 class="card__title">"Plans"</h2></div>
            <div class="card__body stack">
                <p class="muted">"Offer locked versions of your organization's plans. Clients sign a contract for one of them; the plan's policies then apply to their calls. The order here is the order in the Developer Portal."</p>
                {locked.clone().map(|m| view! { <p class="alert alert--info">{m}</p> })}
                {(set_locked && !flags_locked).then(|| view! { <p class="alert alert--info">"This version is published: you can change approval and discoverability, but not which plans are offered."</p> })}
                {move || match available.value().get() {
                    None => view! { <SkeletonRows rows=2 /> }.into_any(),
                    Some(Err(e)) => view! { <LoadError error=e /> }.into_any(),
                    Some(Ok(list)) if list.is_empty() && rows.with(Vec::is_empty) => view! {
                        <EmptyState message="No locked plans yet">
                            <p>"An API can offer a plan version once it is locked. "<a href=create_plan_href.get_value()>"Create a plan"</a>", lock it on its page, then come back here."</p>
                        </EmptyState>
                    }.into_any(),
                    Some(Ok(_)) => view! {
                        <div class="plan-rows">
                            {move || rows.get().into_iter().enumerate().map(|(i, row)| {
                                let count = rows.with(Vec::len);
                                let versions = plans.get().into_iter().find(|p| p.plan_id == row.plan_id).map(|p| p.versions).unwrap_or_else(|| vec![row.plan_version.clone()]);
                                let plan_name = plans.get().into_iter().find(|p| p.plan_id == row.plan_id).map_or_else(|| row.plan_id.clone(), |p| p.plan_name);
                                view! {
                                    <div class="plan-row" role="group" aria-label=format!("Plan {}", plan_name)>
                                        <div class="field">
                                            <label class="field__label" for=format!("plan-{i}")>"Plan"</label>
                                            <select class="select" id=format!("plan-{i}") disabled=set_locked on:change=move |ev| {
                                                let id = event_target_value(&ev);
                                                let v = plans.get().into_iter().find(|p| p.plan_id == id).and_then(|p| p.versions.first().cloned()).unwrap_or_default();
                                                update(i, Box::new(move |r| { r.plan_id = id; r.plan_version = v; }));
                                            }>
                                                {plans.get().into_iter().map(|p| view! { <option value=p.plan_id.clone() selected=p.plan_id == row.plan_id>{p.plan_name}</option> }).collect_view()}
                                            </select>
                                        </div>
                                        <div class="field">
                                            <label class="field__label" for=format!("plan-version-{i}")>"Version"</label>
                                            <select class="select" id=format!("plan-version-{i}") disabled=set_locked on:change=move |ev| {
                                                let v = event_target_value(&ev);
                                                update(i, Box::new(move |r| r.plan_version = v));
                                            }>
                                                {versions.into_iter().map(|v| view! { <option value=v.clone() selected=v == row.plan_version>{v.clone()}</option> }).collect_view()}
                                            </select>
                                        </div>
                                        <div class="field">
                                            <label class="field__label" for=format!("plan-discoverability-{i}")>"Discoverability"</label>
                                            <select class="select" id=format!("plan-discoverability-{i}") disabled=flags_locked on:change=move |ev| {
                                                if let Some(d) = Discoverability::parse(&event_target_value(&ev)) { update(i, Box::new(move |r| r.discoverability = d)); }
                                            }>
                                                {Discoverability::ALL.into_iter().map(|d| view! { <option value=d.as_str() selected=d == row.discoverability>{d.label()}</option> }).collect_view()}
                                            </select>
                                        </div>
                                        <label class="check">
                                            <input type="checkbox" disabled=flags_locked prop:checked=row.requires_approval
                                                on:change=move |ev| { let c = event_target_checked(&ev); update(i, Box::new(move |r| r.requires_approval = c)); } />
                                            "Requires approval"
                                        </label>
                                        {(!set_locked).then(|| view! {
                                            <div class="plan-row__buttons">
                                                <button type="button" class="btn btn--ghost btn--sm" aria-label=format!("Move {plan_name} up") disabled=i == 0
                                                    on:click=move |_| rows.update(|r| r.swap(i, i - 1))>"↑"</button>
                                                <button type="button" class="btn btn--ghost btn--sm" aria-label=format!("Move {plan_name} down") disabled=i + 1 == count
                                                    on:click=move |_| rows.update(|r| r.swap(i, i + 1))>"↓"</button>
                                                <button type="button" class="btn btn--ghost btn--sm" aria-label=format!("Remove {plan_name}")
                                                    on:click=move |_| rows.update(|r| { r.remove(i); })>"Remove"</button>
                                            </div>
                                        })}
                                    </div>
                                }
                            }).collect_view()}
                        </div>
                        {move || rows.with(Vec::is_empty).then(|| view! { <p class="muted">"No plans offered yet."</p> })}
                    }.into_any(),
                }}
                <ErrorAlert error=server_error />
                {(!flags_locked).then(|| view! {
                    <div class="row">
                        {(!set_locked).then(|| view! {
                            <button type="button" class="btn btn--secondary" on:click=add
                                disabled=move || plans.get().len() <= rows.with(Vec::len)>"Add plan"</button>
                        })}
                        <button type="button" class="btn btn--primary" disabled=move || save.pending().get() on:click=move |_| {
                            let (org, api, version) = h.with_value(|h| (h.org_id.clone(), h.id.clone(), h.version.clone()));
                            let plans = rows.get().into_iter().map(|r| PlanOffer { plan_id: r.plan_id, plan_version: r.plan_version, requires_approval: r.requires_approval, discoverability: r.discoverability }).collect();
                            save.dispatch(SetApiPlans { org, api, version, plans });
                        }>"Save plans"</button>
                    </div>
                })}
            </div>
        </section>
    }
}

/// The clients with a contract for this API version; those who administer plans may revoke one
/// with a reason for the consumer.
#[component]
fn ApiContracts(p: RouteParams, detail: ApiResource, reload: RwSignal<u32>) -> impl IntoView {
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
        |(o, a, v, pg, n, _)| api_contracts(o, a, v, pg, n),
    );
    let to_revoke: RwSignal<Option<ContractDto>> = RwSignal::new(None);
    let revoke_open = RwSignal::new(false);
    view! {
        <section class="card">
            <div class="card__header"><h2 class="card__title">"Contracts"</h2></div>
            <div class="card__body card--flush">
                <Transition fallback=|| view! { <SkeletonRows rows=2 /> }>
                    {move || Suspend::new(async move {
                        let d = detail.await;
                        match contracts.await {
                            Err(e) => view! { <LoadError error=e /> }.into_any(),
                            Ok(result) => {
                                let total = result.total;
                                let can_revoke = d.as_ref().is_ok_and(|d| d.header.can(Permission::PlanAdmin));
                                view! {
                                    <div class="table-wrap">
                                        <table class="table">
                                            <thead><tr>
                                                <th>"Client Organisation"</th><th>"Client"</th><th>"Version"</th><th>"Plan"</th><th>"State"</th><th>"Requested by"</th><th>"Created"</th>
                                                {can_revoke.then(|| view! { <th><span class="visually-hidden">"Actions"</span></th> })}
                                            </tr></thead>
                                            <tbody>
                                                {result.items.into_iter().map(|c| {
                                                    let chosen = c.clone();
                                                    let label = format!("{} {}", c.client_name, c.client_version);
                                                    view! {
                                                    <tr>
                                                        <td>{c.client_org_name.clone()}</td>
                                                        <td>{c.client_name.clone()}</td>
                                                        <td class="mono">{c.client_version.clone()}</td>
                                                        <td><div class="cell-stack">{format!("{} {}", c.plan_name, c.plan_version)}<PendingPlanNote contract=c.clone() /></div></td>
                                                        <td><ContractBadge status=c.status /></td>
                                                        <td>{c.requested_by.clone()}</td>
                                                        <td>{format_date(&c.created_on)}</td>
                                                        {can_revoke.then(|| view! {
                                                            <td class="row-actions">
                                                                <button class="btn btn--ghost btn--sm btn--danger-text" aria-label=format!("Revoke contract of {label}")
                                                                    on:click=move |_| { to_revoke.set(Some(chosen.clone())); revoke_open.set(true); }>"Revoke"</button>
                                                            </td>
                                                        })}
                                                    </tr>
                                                }}).collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                    {(total == 0).then(|| view! {
                                        <EmptyState message="No contracts yet">
                                            <p class="muted">"Clients appear here once they sign a contract for one of this version's plans."</p>
                                        </EmptyState>
                                    })}
                                    <Pager page per_page total />
                                }.into_any()
                            }
                        }
                    })}
                </Transition>
            </div>
        </section>
        <RevokeDialog open=revoke_open contract=to_revoke reload />
    }
}

/// "Revoke contract": ends a consumer's contract from the provider's side, with a reason the
/// consumer reads in their notifications.
#[component]
fn RevokeDialog(
    open: RwSignal<bool>,
    contract: RwSignal<Option<ContractDto>>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let revoke = ServerAction::<RevokeContract>::new();
    let reason = RwSignal::new(String::new());
    let toasts = use_toasts();
    Effect::new(move |_| {
        if open.get() {
            reason.set(String::new());
            revoke.value().set(None);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(status)) = revoke.value().get() {
            open.set(false);
            toasts.success(if status == domain::ClientStatus::Retired {
                "Contract revoked. It was the client's last contract: the client version is retired. The consumer was notified."
            } else {
                "Contract revoked. The consumer was notified."
            });
            reload.update(|n| *n += 1);
        }
    });
    let error = Signal::derive(move || revoke.value().get().and_then(Result::err));
    let typed = Signal::derive(move || reason.with(|r| r.trim().chars().count()));
    let too_long = Signal::derive(move || {
        (typed.get() > 500).then(|| "Keep the reason under 500 characters.".to_owned())
    });
    let server_reason = FormErrors::new(error, "revoke").field("reason", reason);
    let field_error = Signal::derive(move || server_reason.get().or_else(|| too_long.get()));
    let submit = move || {
        if let Some(c) = contract.get_untracked() {
            revoke.dispatch(RevokeContract {
                id: c.id,
                reason: reason.get_untracked(),
            });
        }
    };
    view! {
        <Dialog open title="Revoke contract" role="alertdialog">
            {move || contract.get().map(|c| view! {
                <p class="dialog__lead">"The consumer's calls to this API version with the client's API key are refused at the gateway at once. A registered client version that loses its last contract is retired."</p>
                <dl class="dialog__facts">
                    <dt>"Client"</dt><dd>{format!("{} {}", c.client_name, c.client_version)}</dd>
                    <dt>"Organisation"</dt><dd>{c.client_org_name.clone()}</dd>
                    <dt>"Plan"</dt><dd>{format!("{} {}", c.plan_name, c.plan_version)}</dd>
                    <dt>"Requested by"</dt><dd>{c.requested_by.clone()}</dd>
                </dl>
            })}
            <form on:submit=move |ev| { ev.prevent_default(); submit(); }>
                <Field id="revoke-reason" label="Reason" required=true hint="The consumer reads it in their notifications. At most 500 characters." error=field_error>
                    <textarea class="textarea" id="revoke-reason" rows="3" autofocus aria-describedby=described_by("revoke-reason")
                        aria-invalid=move || field_error.get().is_some().to_string()
                        prop:value=move || reason.get() on:input=move |ev| { reason.set(event_target_value(&ev)); revoke.value().set(None); }></textarea>
                </Field>
                <ErrorAlert error />
                <div class="dialog__actions">
                    <button type="button" class="btn btn--secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                    <button type="submit" class="btn btn--danger" disabled=move || { revoke.pending().get() || typed.get() > 500 }>"Revoke contract"</button>
                </div>
            </form>
        </Dialog>
    }
}
