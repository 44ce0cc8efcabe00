//! The Create Organization wizard: 1 Configure Details → 2 Summary → Create Organization.

use domain::{Description, EntityName};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use crate::api::account::get_platform_settings;
use crate::api::orgs::CreateOrg;
use crate::components::form::FormErrors;
use crate::components::shell::use_user;
use crate::components::toast::use_toasts;
use crate::components::ui::{ErrorAlert, Field, Stepper, described_by, focus};

const STEPS: &[&str] = &["Configure Details", "Summary"];

#[component]
pub fn CreateOrgWizard() -> impl IntoView {
    let step = RwSignal::new(0usize);
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let touched = RwSignal::new(false);
    let create = ServerAction::<CreateOrg>::new();
    let navigate = use_navigate();
    let toasts = use_toasts();
    // The platform setting may keep organizations for administrators: say so before the form.
    let is_admin = use_user().is_admin;
    let settings = Resource::new(|| (), |_| get_platform_settings());

    let server_error = Signal::derive(move || create.value().get().and_then(Result::err));
    let name_error = Signal::derive(move || {
        if !touched.get() {
            return None;
        }
        EntityName::parse(&name.get()).err().map(|e| e.message)
    });
    let description_error = Signal::derive(move || {
        Description::parse(&description.get())
            .err()
            .map(|e| e.message)
    });

    Effect::new(move |_| {
        if let Some(Ok(org)) = create.value().get() {
            toasts.success(format!("Organization {} created.", org.name));
            navigate(&format!("/orgs/{}", org.id), Default::default());
        }
    });
    // A refusal about a field sends the user back to the step with that field.
    Effect::new(move |_| {
        if let Some(Err(e)) = create.value().get()
            && (e.field("name").is_some() || e.field("description").is_some())
        {
            step.set(0);
        }
    });

    let next = move |_| {
        touched.set(true);
        if name_error.get_untracked().is_some() {
            focus("org-name");
        } else if description_error.get_untracked().is_some() {
            focus("org-description");
        } else {
            step.set(1);
        }
    };
    let cancel = move |_| {
        let _ = window().history().map(|h| h.back());
    };

    view! {
        <Title text="Create Organization · Tollgate" />
        <div class="wizard card">
            <div class="wizard__body">
                <h1 class="page-title">"Create Organization"</h1>
                <Stepper steps=STEPS current=step />
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let admins_only = settings.await.is_ok_and(|s| s.org_creation == domain::dto::OrgCreation::AdminsOnly);
                        (admins_only && !is_admin).then(|| view! {
                            <div class="alert alert--info" role="status">
                                "Only platform administrators may create organizations on this Tollgate. Ask an administrator to create one and add you to it."
                            </div>
                        })
                    })}
                </Transition>
                <Show when=move || step.get() == 0>
                    <p class="wizard__intro">"Organizations hold your APIs, clients and plans, and the people who manage them. You will be the owner of the new organization."</p>
                    <Field id="org-name" label="Name" required=true hint="The name cannot be changed after creation."
                        error=FormErrors::new(server_error, "org").field_or("name", name, name_error)>
                        <input class="input" id="org-name" type="text" autocomplete="off"
                            aria-describedby=described_by("org-name")
                            aria-invalid=move || name_error.get().is_some().then_some("true")
                            prop:value=move || name.get()
                            on:input=move |ev| { touched.set(true); name.set(event_target_value(&ev)); } />
                    </Field>
                    <Field id="org-description" label="Description" hint="Optional. You can change it later on the organization page."
                        error=description_error>
                        <textarea class="textarea" id="org-description" aria-describedby=described_by("org-description")
                            prop:value=move || description.get()
                            on:input=move |ev| description.set(event_target_value(&ev))></textarea>
                    </Field>
                    <div class="form-actions">
                        <div class="form-actions__left">
                            <button class="btn btn--secondary" on:click=cancel>"Cancel"</button>
                        </div>
                        <button class="btn btn--primary" on:click=next>"Next"</button>
                    </div>
                </Show>
                <Show when=move || step.get() == 1>
                    <p class="wizard__intro">"Please confirm if you want to create the organization with the following settings:"</p>
                    <table class="summary-table">
                        <thead><tr><th>"Name"</th><th>"Id"</th></tr></thead>
                        <tbody><tr>
                            <td>{move || name.get().trim().to_owned()}</td>
                            <td class="mono">{move || EntityName::parse(&name.get()).map(|n| n.id()).unwrap_or_default()}</td>
                        </tr></tbody>
                    </table>
                    <dl class="summary-block">
                        <dt>"Description"</dt>
                        <dd>{move || { let d = description.get().trim().to_owned(); if d.is_empty() { "—".to_owned() } else { d } }}</dd>
                    </dl>
                    <ErrorAlert error=server_error />
                    <div class="form-actions">
                        <div class="form-actions__left">
                            <button class="btn btn--secondary" on:click=cancel>"Cancel"</button>
                        </div>
                        <button class="btn btn--secondary" on:click=move |_| step.set(0)>"Back"</button>
                        <button class="btn btn--primary" disabled=move || create.pending().get()
                            on:click=move |_| { create.dispatch(CreateOrg { name: name.get(), description: description.get() }); }>
                            {move || if create.pending().get() { "Creating…" } else { "Create Organization" }}
                        </button>
                    </div>
                </Show>
            </div>
        </div>
    }
}
