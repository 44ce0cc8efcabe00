//! The Create Client, Create API and Create Plan wizards:
//! 1 Choose Organization → 2 Configure Details → (API: 3 Implementation) → Summary → create.
//! `?org=` presets the organization (from an organization's empty list).

use domain::dto::OrgSummary;
use domain::{Description, EndpointUrl, EntityName, Version};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::entities::{CreateEntity, client_name_conflict};
use crate::api::orgs::list_orgs;
use crate::components::toast::use_toasts;
use crate::components::ui::{Field, LoadError, SkeletonRows, Stepper, described_by, focus};
use domain::EntityKind;

fn steps(kind: EntityKind) -> &'static [&'static str] {
    match kind {
        EntityKind::Api => &[
            "Choose Organization",
            "Configure Details",
            "Implementation",
            "Summary",
        ],
        _ => &["Choose Organization", "Configure Details", "Summary"],
    }
}

fn title(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Client => "Create Client",
        EntityKind::Api => "Create API",
        EntityKind::Plan => "Create Plan",
    }
}

#[component]
pub fn CreateClientWizard() -> impl IntoView {
    view! { <CreateWizard kind=EntityKind::Client /> }
}

#[component]
pub fn CreateApiWizard() -> impl IntoView {
    view! { <CreateWizard kind=EntityKind::Api /> }
}

#[component]
pub fn CreatePlanWizard() -> impl IntoView {
    view! { <CreateWizard kind=EntityKind::Plan /> }
}

#[component]
fn CreateWizard(kind: EntityKind) -> impl IntoView {
    let query = use_query_map();
    let preset = query.read_untracked().get("org");
    let step = RwSignal::new(0usize);
    let org = RwSignal::new(preset.clone().unwrap_or_default());
    let name = RwSignal::new(String::new());
    let version = RwSignal::new(domain::version::DEFAULT_VERSION.to_owned());
    let description = RwSignal::new(String::new());
    let endpoint = RwSignal::new(String::new());
    let touched = RwSignal::new(false);
    let summary_step = steps(kind).len() - 1;

    let orgs = Resource::new(|| (), move |_| list_orgs(Some(kind.edit_permission())));

    // Validation, as the user types (after the first edit or the first Next).
    let name_error = Signal::derive(move || {
        touched
            .get()
            .then(|| EntityName::parse(&name.get()).err().map(|e| e.message))
            .flatten()
    });
    let version_error = Signal::derive(move || {
        touched
            .get()
            .then(|| Version::parse(&version.get()).err().map(|e| e.message))
            .flatten()
    });
    let description_error = Signal::derive(move || {
        Description::parse(&description.get())
            .err()
            .map(|e| e.message)
    });
    let endpoint_error = Signal::derive(move || {
        let e = endpoint.get();
        (!e.trim().is_empty())
            .then(|| EndpointUrl::parse(&e).err().map(|e| e.message))
            .flatten()
    });
    // A client name already taken in the organization (asked from the server while typing).
    // Runs in the browser only, as the user types.
    let taken = LocalResource::new(move || {
        let (o, n) = (org.get(), name.get());
        async move {
            if kind != EntityKind::Client || o.is_empty() || EntityName::parse(&n).is_err() {
                return None;
            }
            client_name_conflict(o, n).await.ok().flatten()
        }
    });
    let name_message = Signal::derive(move || name_error.get().or_else(|| taken.get().flatten()));

    let create = ServerAction::<CreateEntity>::new();
    let pending = create.pending();
    let result = create.value();
    let navigate = use_navigate();
    let toasts = use_toasts();
    Effect::new(move |_| {
        if let Some(Ok(url)) = result.get() {
            toasts.success(format!(
                "{} {} created.",
                match kind {
                    EntityKind::Client => "Client",
                    EntityKind::Api => "API",
                    EntityKind::Plan => "Plan",
                },
                name.get_untracked().trim()
            ));
            navigate(&url, Default::default());
        }
    });
    let submit = move |_| {
        create.dispatch(CreateEntity {
            kind,
            org: org.get(),
            name: name.get(),
            version: version.get(),
            description: description.get(),
            endpoint: endpoint.get(),
        });
    };

    let navigate_cancel = use_navigate();
    let cancel = Callback::new(move |()| {
        let target = preset.as_ref().map_or_else(
            || "/".to_owned(),
            |o| format!("/orgs/{o}/{}", kind.segment()),
        );
        navigate_cancel(&target, Default::default());
    });
    // On Next: every message shows, and the first invalid field gets the focus.
    let details_ok = move || {
        touched.set(true);
        let first_invalid = [
            ("wizard-name", name_message.get_untracked().is_some()),
            ("wizard-version", version_error.get_untracked().is_some()),
            (
                "wizard-description",
                description_error.get_untracked().is_some(),
            ),
        ]
        .into_iter()
        .find(|(_, invalid)| *invalid);
        match first_invalid {
            Some((id, _)) => {
                focus(id);
                false
            }
            None => true,
        }
    };
    let org_name = move |list: &[OrgSummary]| {
        list.iter()
            .find(|o| o.id == org.get())
            .map(|o| o.name.clone())
            .unwrap_or_else(|| org.get())
    };

    let buttons = move |back: bool,
                        next: Box<dyn Fn() + Send + Sync>,
                        next_disabled: Signal<bool>| {
        view! {
            <div class="form-actions">
                <div class="form-actions__left">
                    <button type="button" class="btn btn--secondary" on:click=move |_| cancel.run(())>"Cancel"</button>
                </div>
                {back.then(|| view! { <button type="button" class="btn btn--secondary" on:click=move |_| step.update(|s| *s -= 1)>"Back"</button> })}
                <button type="button" class="btn btn--primary" disabled=move || next_disabled.get() on:click=move |_| next()>"Next"</button>
            </div>
        }
    };

    view! {
        <Title text=format!("{} · Tollgate", title(kind)) />
        <div class="wizard card">
            <div class="wizard__body">
                <h1 class="page-title">{title(kind)}</h1>
                <Stepper steps=steps(kind) current=step />
                <Transition fallback=|| view! { <SkeletonRows /> }>
                    {move || Suspend::new(async move {
                        let list = match orgs.await {
                            Ok(list) => list,
                            Err(e) => return view! { <LoadError error=e /> }.into_any(),
                        };
                        let list = StoredValue::new(list);
                        view! {
                            <Show when=move || step.get() == 0>
                                <p class="wizard__intro">{format!("Select the organization in which the {} will be created:", kind.noun())}</p>
                                {if list.with_value(Vec::is_empty) {
                                    view! {
                                        <div class="alert alert--info">
                                            <p>{format!("You cannot create {} in any organization yet: you need an organization where you may edit {}.", kind.plural().to_lowercase(), kind.plural().to_lowercase())}</p>
                                            <a href="/create/organization">"Create Organization"</a>
                                        </div>
                                    }.into_any()
                                } else {
                                    view! {
                                        <Field id="wizard-org" label="Select Organization" required=true error=Signal::derive(|| None::<String>)>
                                            <select class="select" id="wizard-org" aria-describedby=described_by("wizard-org")
                                                on:change=move |ev| org.set(event_target_value(&ev))>
                                                <option value="" disabled=true selected=move || org.get().is_empty()>"Choose an organization"</option>
                                                {list.get_value().into_iter().map(|o| {
                                                    let id = o.id.clone();
                                                    view! { <option value=o.id.clone() selected=move || org.get() == id>{o.name}</option> }
                                                }).collect_view()}
                                            </select>
                                        </Field>
                                    }.into_any()
                                }}
                                {buttons(false, Box::new(move || step.set(1)), Signal::derive(move || {
                                    let o = org.get();
                                    o.is_empty() || !list.with_value(|l| l.iter().any(|x| x.id == o))
                                }))}
                            </Show>
                            <Show when=move || step.get() == 1>
                                <p class="wizard__intro">"Enter the mandatory settings:"</p>
                                <Field id="wizard-name" label="Name" required=true hint="The name cannot be changed after creation." error=name_message>
                                    <input class="input" id="wizard-name" type="text" autocomplete="off"
                                        aria-describedby=described_by("wizard-name")
                                        aria-invalid=move || name_message.get().is_some().then_some("true")
                                        prop:value=move || name.get()
                                        on:input=move |ev| { touched.set(true); name.set(event_target_value(&ev)); } />
                                </Field>
                                <Field id="wizard-version" label="Version" required=true
                                    hint="Enter a version number or name: numbers and names such as 1.0, 2.1.0-beta or v2 work. See Concepts > Versioning."
                                    error=version_error>
                                    <input class="input" id="wizard-version" type="text" autocomplete="off"
                                        aria-describedby=described_by("wizard-version")
                                        aria-invalid=move || version_error.get().is_some().then_some("true")
                                        prop:value=move || version.get()
                                        on:input=move |ev| { touched.set(true); version.set(event_target_value(&ev)); } />
                                </Field>
                                <Field id="wizard-description" label="Description" hint="Optional. You can enter or change it later on the details page." error=description_error>
                                    <textarea class="textarea" id="wizard-description" aria-describedby=described_by("wizard-description")
                                        prop:value=move || description.get()
                                        on:input=move |ev| description.set(event_target_value(&ev))></textarea>
                                </Field>
                                {buttons(true, Box::new(move || if details_ok() { step.set(2) }), Signal::derive(|| false))}
                            </Show>
                            <Show when=move || kind == EntityKind::Api && step.get() == 2>
                                <p class="wizard__intro">"Where does the gateway send this API's traffic? You can also set the endpoint later."</p>
                                <Field id="wizard-endpoint" label="Endpoint URL" hint="Optional. An http:// or https:// URL, like https://api.example.com/v1." error=endpoint_error>
                                    <input class="input" id="wizard-endpoint" type="url" autocomplete="off"
                                        aria-describedby=described_by("wizard-endpoint")
                                        aria-invalid=move || endpoint_error.get().is_some().then_some("true")
                                        prop:value=move || endpoint.get()
                                        on:input=move |ev| endpoint.set(event_target_value(&ev)) />
                                </Field>
                                {buttons(true, Box::new(move || if endpoint_error.get_untracked().is_none() { step.set(3) }), Signal::derive(|| false))}
                            </Show>
                            <Show when=move || step.get() == summary_step>
                                <p class="wizard__intro">{format!("Please confirm if you want to create the {} with the following settings:", kind.noun())}</p>
                                <table class="summary-table">
                                    <thead><tr><th>"Organization"</th><th>"Name"</th><th>"Version"</th></tr></thead>
                                    <tbody><tr>
                                        <td>{move || list.with_value(|l| org_name(l))}</td>
                                        <td>{move || name.get().trim().to_owned()}</td>
                                        <td class="mono">{move || version.get().trim().to_owned()}</td>
                                    </tr></tbody>
                                </table>
                                <dl class="summary-block">
                                    <dt>"Description"</dt>
                                    <dd>{move || { let d = description.get().trim().to_owned(); if d.is_empty() { "—".to_owned() } else { d } }}</dd>
                                    {(kind == EntityKind::Api).then(|| view! {
                                        <dt>"Endpoint URL"</dt>
                                        <dd class="mono">{move || { let e = endpoint.get().trim().to_owned(); if e.is_empty() { "Not set".to_owned() } else { e } }}</dd>
                                    })}
                                </dl>
                                {move || result.get().and_then(Result::err).map(|e| view! { <div class="alert alert--error" role="alert">{e.message()}</div> })}
                                <div class="form-actions">
                                    <div class="form-actions__left">
                                        <button type="button" class="btn btn--secondary" on:click=move |_| cancel.run(())>"Cancel"</button>
                                    </div>
                                    <button type="button" class="btn btn--secondary" on:click=move |_| step.update(|s| *s -= 1)>"Back"</button>
                                    <button type="button" class="btn btn--primary" disabled=move || pending.get() on:click=submit>
                                        {move || if pending.get() { "Creating…".to_owned() } else { title(kind).to_owned() }}
                                    </button>
                                </div>
                            </Show>
                        }.into_any()
                    })}
                </Transition>
            </div>
        </div>
    }
}
