//! Platform administration (`/admin/accounts`, platform administrators only): the platform
//! settings, and every account with a search, where a temporary password can be set.

use domain::Password;
use domain::dto::{AccountDto, DEFAULT_PAGE_SIZE, OrgCreation};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::account::{
    SavePlatformSettings, SetTemporaryPassword, get_platform_settings, list_accounts,
};
use crate::components::form::FormErrors;
use crate::components::toast::use_toasts;
use crate::components::ui::{
    Badge, Dialog, EmptyState, ErrorAlert, Field, LoadError, Pager, SkeletonRows, described_by,
    format_date,
};

#[component]
pub fn AdminAccountsPage() -> impl IntoView {
    view! {
        <Title text="Accounts and settings · Tollgate" />
        <div class="page-header">
            <h1 class="page-title">"Accounts and settings"</h1>
            <p class="muted">"Platform administration: who may create organizations, and every account on this Tollgate."</p>
        </div>
        <SettingsCard />
        <AccountsCard />
    }
}

#[component]
fn SettingsCard() -> impl IntoView {
    let toasts = use_toasts();
    let settings = Resource::new(|| (), |_| get_platform_settings());
    let save = ServerAction::<SavePlatformSettings>::new();
    let choice = RwSignal::new(None::<OrgCreation>);
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(s)) = save.value().get() {
            toasts.success(format!(
                "Organizations may now be created by: {}.",
                s.org_creation.label().to_lowercase()
            ));
        }
    });
    view! {
        <section class="card">
            <div class="card__header"><h2 class="card__title">"Platform settings"</h2></div>
            <div class="card__body">
                <Transition fallback=|| view! { <SkeletonRows rows=2 /> }>
                    {move || Suspend::new(async move {
                        match settings.await {
                            Err(e) => view! { <LoadError error=e /> }.into_any(),
                            Ok(s) => {
                                let current = move || choice.get().unwrap_or(s.org_creation);
                                view! {
                                    <form class="stack" on:submit=move |ev| {
                                        ev.prevent_default();
                                        save.dispatch(SavePlatformSettings { org_creation: current() });
                                    }>
                                        <Field id="org-creation" label="Who may create organizations" error=FormErrors::new(error, "settings").field("org_creation", choice)>
                                            <select class="select" id="org-creation" aria-describedby=described_by("org-creation")
                                                on:change=move |ev| choice.set(OrgCreation::parse(&event_target_value(&ev)))>
                                                {OrgCreation::ALL.into_iter().map(|o| view! {
                                                    <option value=o.as_str() selected=move || current() == o>{o.label()}</option>
                                                }).collect_view()}
                                            </select>
                                        </Field>
                                        <ErrorAlert error />
                                        <div class="form-actions">
                                            <button class="btn btn--primary" type="submit" disabled=move || save.pending().get()>
                                                {move || if save.pending().get() { "Saving…" } else { "Save settings" }}
                                            </button>
                                        </div>
                                    </form>
                                }.into_any()
                            }
                        }
                    })}
                </Transition>
            </div>
        </section>
    }
}

#[component]
fn AccountsCard() -> impl IntoView {
    let toasts = use_toasts();
    let query = RwSignal::new(String::new());
    let page = RwSignal::new(1u64);
    let per_page = RwSignal::new(DEFAULT_PAGE_SIZE);
    let reload = RwSignal::new(0u32);
    let accounts = Resource::new(
        move || (query.get(), page.get(), per_page.get(), reload.get()),
        |(q, p, n, _)| list_accounts(q, p, n),
    );
    let total = RwSignal::new(0u64);

    let target = RwSignal::new(None::<AccountDto>);
    let open = RwSignal::new(false);
    let password = RwSignal::new(String::new());
    let touched = RwSignal::new(false);
    let set = ServerAction::<SetTemporaryPassword>::new();
    let server_error = Signal::derive(move || set.value().get().and_then(Result::err));
    let own = Signal::derive(move || {
        touched
            .get()
            .then(|| Password::parse(&password.get()).err().map(|e| e.message))
            .flatten()
    });
    let password_error =
        FormErrors::new(server_error, "account").field_or("password", password, own);
    Effect::new(move |_| {
        if let Some(Ok(())) = set.value().get() {
            open.set(false);
            password.set(String::new());
            touched.set(false);
            if let Some(a) = target.get_untracked() {
                toasts.success(format!(
                    "Temporary password set for {}. They must replace it at their next sign-in.",
                    a.email
                ));
            }
            reload.update(|n| *n += 1);
        }
    });
    view! {
        <section class="card">
            <div class="card__header"><h2 class="card__title">"Accounts"</h2></div>
            <div class="card__body stack">
                <div class="field">
                    <label class="field__label" for="account-search">"Search accounts"</label>
                    <input class="input" id="account-search" type="search" placeholder="Email or name" maxlength="200"
                        prop:value=move || query.get()
                        on:input=move |ev| { query.set(event_target_value(&ev)); page.set(1); } />
                </div>
                <Transition fallback=|| view! { <SkeletonRows rows=5 /> }>
                    {move || Suspend::new(async move {
                        match accounts.await {
                            Err(e) => view! { <LoadError error=e /> }.into_any(),
                            Ok(found) if found.items.is_empty() => {
                                total.set(0);
                                view! { <EmptyState message="No account matches your search." /> }.into_any()
                            }
                            Ok(found) => {
                                total.set(found.total);
                                view! {
                                    <div class="table-wrap">
                                        <table class="table">
                                            <thead><tr>
                                                <th scope="col">"Name"</th>
                                                <th scope="col">"Email"</th>
                                                <th scope="col">"Kind"</th>
                                                <th scope="col">"Created"</th>
                                                <th scope="col" class="num"><span class="visually-hidden">"Actions"</span></th>
                                            </tr></thead>
                                            <tbody>
                                                {found.items.into_iter().map(|a| {
                                                    let a = StoredValue::new(a);
                                                    view! {
                                                        <tr>
                                                            <td>{a.with_value(|a| a.display_name.clone())}</td>
                                                            <td class="mono">{a.with_value(|a| a.email.clone())}</td>
                                                            <td>
                                                                <span class="row">
                                                                    {a.with_value(|a| if a.is_admin { "Administrator" } else if a.portal_only { "Developer Portal" } else { "API Management" })}
                                                                    {a.with_value(|a| a.must_change_password).then(|| view! { <Badge label="Must change password" modifier="awaiting" /> })}
                                                                </span>
                                                            </td>
                                                            <td>{a.with_value(|a| format_date(&a.created_on))}</td>
                                                            <td class="num">
                                                                <button class="btn btn--secondary btn--sm"
                                                                    aria-label=a.with_value(|a| format!("Set a temporary password for {}", a.email))
                                                                    on:click=move |_| {
                                                                        target.set(Some(a.get_value()));
                                                                        password.set(String::new());
                                                                        touched.set(false);
                                                                        open.set(true);
                                                                    }>
                                                                    "Set temporary password"
                                                                </button>
                                                            </td>
                                                        </tr>
                                                    }
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                }.into_any()
                            }
                        }
                    })}
                </Transition>
                <Pager page per_page total />
            </div>
        </section>
        <Dialog open title=Signal::derive(move || target.get().map(|a| format!("Temporary password for {}", a.email)).unwrap_or_default())>
            <form class="stack" on:submit=move |ev| {
                ev.prevent_default();
                touched.set(true);
                if let (Some(a), true) = (target.get_untracked(), Password::parse(&password.get_untracked()).is_ok()) {
                    set.dispatch(SetTemporaryPassword { user_id: a.id, password: password.get_untracked() });
                }
            }>
                <p>"Every session and personal access token of this account ends now. Its owner signs in with the temporary password and must choose a new one first. Tell them the temporary password in person or over a channel you trust."</p>
                <Field id="temporary-password" label="Temporary password" required=true hint="At least 12 characters." error=password_error>
                    <input class="input" id="temporary-password" type="text" autocomplete="off" spellcheck="false"
                        aria-describedby=described_by("temporary-password")
                        aria-invalid=move || password_error.get().is_some().then_some("true")
                        prop:value=move || password.get()
                        on:input=move |ev| { touched.set(true); password.set(event_target_value(&ev)); } />
                </Field>
                <ErrorAlert error=Signal::derive(move || server_error.get().filter(|e| e.field("password").is_none())) />
                <div class="dialog__actions">
                    <button class="btn btn--secondary" type="button" on:click=move |_| open.set(false)>"Cancel"</button>
                    <button class="btn btn--primary" type="submit" disabled=move || set.pending().get()>
                        {move || if set.pending().get() { "Setting…" } else { "Set temporary password" }}
                    </button>
                </div>
            </form>
        </Dialog>
    }
}
