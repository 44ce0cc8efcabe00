//! Account settings (`/account`, and `/portal/account` in the portal's shell for portal-only
//! accounts): display name, email (asks for the current password again), Change password (ends
//! every other session), and on `/account` the Personal access tokens card
//! (`pages::access_tokens`). And "Choose a new password" (`/choose-password`), where a user whose
//! password was set by someone else is held until they choose their own.

use domain::dto::UserDto;
use domain::{DisplayName, Email, Password};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

use crate::api::account::{ChangeDisplayName, ChangeEmail, ChangePassword};
use crate::api::auth::SignOut;
use crate::components::form::FormErrors;
use crate::components::shell::CurrentUser;
use crate::components::toast::use_toasts;
use crate::components::ui::{ErrorAlert, Field, LoadError, SkeletonRows, described_by};
use crate::error::AppError;
use crate::pages::access_tokens::AccessTokensCard;

#[component]
pub fn AccountPage() -> impl IntoView {
    let user = expect_context::<CurrentUser>().0;
    // Portal-only accounts have their settings at /portal/account, without tokens.
    let management = !use_location()
        .pathname
        .get_untracked()
        .starts_with("/portal");
    view! {
        <Title text="Account settings · Tollgate" />
        <div class="page-header">
            <h1 class="page-title">"Account settings"</h1>
            <p class="muted">{if management {
                "Your name, your email address, your password and your personal access tokens."
            } else {
                "Your name, your email address and your password."
            }}</p>
        </div>
        <Transition fallback=|| view! { <SkeletonRows rows=6 /> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(u)) => view! {
                        <div class="stack account-settings">
                            <ProfileCard user=u.clone() />
                            <EmailCard user=u />
                            <PasswordCard />
                        </div>
                    }.into_any(),
                    Ok(None) => view! { <LoadError error=AppError::Unauthenticated /> }.into_any(),
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                }
            })}
        </Transition>
        {management.then(|| view! { <div class="account-settings account-settings--tokens"><AccessTokensCard /></div> })}
    }
}

#[component]
fn ProfileCard(user: UserDto) -> impl IntoView {
    let toasts = use_toasts();
    let name = RwSignal::new(user.display_name.clone());
    let touched = RwSignal::new(false);
    let save = ServerAction::<ChangeDisplayName>::new();
    let server_error = Signal::derive(move || save.value().get().and_then(Result::err));
    let own = Signal::derive(move || {
        touched
            .get()
            .then(|| DisplayName::parse(&name.get()).err().map(|e| e.message))
            .flatten()
    });
    let error = FormErrors::new(server_error, "account").field_or("display_name", name, own);
    Effect::new(move |_| {
        if let Some(Ok(u)) = save.value().get() {
            touched.set(false);
            name.set(u.display_name.clone());
            toasts.success("Display name saved.");
        }
    });
    view! {
        <section class="card">
            <div class="card__header"><h2 class="card__title">"Profile"</h2></div>
            <div class="card__body">
                <form class="stack" on:submit=move |ev| {
                    ev.prevent_default();
                    touched.set(true);
                    if DisplayName::parse(&name.get_untracked()).is_ok() {
                        save.dispatch(ChangeDisplayName { display_name: name.get_untracked() });
                    }
                }>
                    <Field id="account-name" label="Display name" required=true hint="Shown to the members of your organizations." error>
                        <input class="input" id="account-name" type="text" autocomplete="name"
                            aria-describedby=described_by("account-name")
                            aria-invalid=move || error.get().is_some().then_some("true")
                            prop:value=move || name.get()
                            on:input=move |ev| { touched.set(true); name.set(event_target_value(&ev)); } />
                    </Field>
                    <ErrorAlert error=server_error />
                    <div class="form-actions">
                        <button class="btn btn--primary" type="submit" disabled=move || save.pending().get()>
                            {move || if save.pending().get() { "Saving…" } else { "Save display name" }}
                        </button>
                    </div>
                </form>
            </div>
        </section>
    }
}

#[component]
fn EmailCard(user: UserDto) -> impl IntoView {
    let toasts = use_toasts();
    let current_email = RwSignal::new(user.email.clone());
    let email = RwSignal::new(user.email.clone());
    let password = RwSignal::new(String::new());
    let touched = RwSignal::new(false);
    let save = ServerAction::<ChangeEmail>::new();
    let server_error = Signal::derive(move || save.value().get().and_then(Result::err));
    let own = Signal::derive(move || {
        touched
            .get()
            .then(|| Email::parse(&email.get()).err().map(|e| e.message))
            .flatten()
    });
    let errors = FormErrors::new(server_error, "account");
    let email_error = errors.field_or("email", email, own);
    let password_error = errors.field("current_password", password);
    Effect::new(move |_| {
        if let Some(Ok(u)) = save.value().get() {
            password.set(String::new());
            touched.set(false);
            current_email.set(u.email.clone());
            email.set(u.email.clone());
            toasts.success(format!("Your email address is now {}.", u.email));
        }
    });
    view! {
        <section class="card">
            <div class="card__header"><h2 class="card__title">"Email"</h2></div>
            <div class="card__body">
                <form class="stack" on:submit=move |ev| {
                    ev.prevent_default();
                    touched.set(true);
                    if Email::parse(&email.get_untracked()).is_ok() {
                        save.dispatch(ChangeEmail { email: email.get_untracked(), current_password: password.get_untracked() });
                    }
                }>
                    <p class="muted">{move || format!("You sign in with {}.", current_email.get())}</p>
                    <Field id="account-email" label="Email" required=true error=email_error>
                        <input class="input" id="account-email" type="email" autocomplete="email"
                            aria-describedby=described_by("account-email")
                            aria-invalid=move || email_error.get().is_some().then_some("true")
                            prop:value=move || email.get()
                            on:input=move |ev| { touched.set(true); email.set(event_target_value(&ev)); } />
                    </Field>
                    <Field id="email-current-password" label="Current password" required=true
                        hint="Changing your email needs your password again." error=password_error>
                        <input class="input" id="email-current-password" type="password" autocomplete="current-password"
                            aria-describedby=described_by("email-current-password")
                            aria-invalid=move || password_error.get().is_some().then_some("true")
                            prop:value=move || password.get()
                            on:input=move |ev| password.set(event_target_value(&ev)) />
                    </Field>
                    <ErrorAlert error=server_error />
                    <div class="form-actions">
                        <button class="btn btn--primary" type="submit" disabled=move || save.pending().get()>
                            {move || if save.pending().get() { "Saving…" } else { "Change email" }}
                        </button>
                    </div>
                </form>
            </div>
        </section>
    }
}

/// The current and new password fields and their checks, shared by Account settings and
/// "Choose a new password". `on_done` runs after a successful change.
#[component]
fn PasswordForm(
    submit_label: &'static str,
    on_done: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let touched = RwSignal::new(false);
    let change = ServerAction::<ChangePassword>::new();
    let server_error = Signal::derive(move || change.value().get().and_then(Result::err));
    let own = Signal::derive(move || {
        touched
            .get()
            .then(|| Password::parse(&new.get()).err().map(|e| e.message))
            .flatten()
    });
    let errors = FormErrors::new(server_error, "password");
    let new_error = errors.field_or("new_password", new, own);
    let confirm_error = Signal::derive(move || {
        (touched.get() && confirm.get() != new.get())
            .then(|| "The two new passwords differ.".to_owned())
    });
    let current_error = errors.field("current_password", current);
    Effect::new(move |_| {
        if let Some(Ok(())) = change.value().get() {
            current.set(String::new());
            new.set(String::new());
            confirm.set(String::new());
            touched.set(false);
            on_done();
        }
    });
    view! {
        <form class="stack" on:submit=move |ev| {
            ev.prevent_default();
            touched.set(true);
            if new_error.get_untracked().is_none() && confirm_error.get_untracked().is_none() {
                change.dispatch(ChangePassword { current_password: current.get_untracked(), new_password: new.get_untracked() });
            }
        }>
            <Field id="current-password" label="Current password" required=true error=current_error>
                <input class="input" id="current-password" type="password" autocomplete="current-password"
                    aria-describedby=described_by("current-password")
                    aria-invalid=move || current_error.get().is_some().then_some("true")
                    prop:value=move || current.get()
                    on:input=move |ev| current.set(event_target_value(&ev)) />
            </Field>
            <Field id="new-password" label="New password" required=true hint="At least 12 characters." error=new_error>
                <input class="input" id="new-password" type="password" autocomplete="new-password"
                    aria-describedby=described_by("new-password")
                    aria-invalid=move || new_error.get().is_some().then_some("true")
                    prop:value=move || new.get()
                    on:input=move |ev| new.set(event_target_value(&ev)) />
            </Field>
            <Field id="confirm-password" label="Repeat the new password" required=true error=confirm_error>
                <input class="input" id="confirm-password" type="password" autocomplete="new-password"
                    aria-describedby=described_by("confirm-password")
                    aria-invalid=move || confirm_error.get().is_some().then_some("true")
                    prop:value=move || confirm.get()
                    on:input=move |ev| confirm.set(event_target_value(&ev)) />
            </Field>
            <ErrorAlert error=server_error />
            <div class="form-actions">
                <button class="btn btn--primary" type="submit" disabled=move || change.pending().get()>
                    {move || if change.pending().get() { "Changing password…" } else { submit_label }}
                </button>
            </div>
        </form>
    }
}

#[component]
fn PasswordCard() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <section class="card">
            <div class="card__header"><h2 class="card__title">"Change password"</h2></div>
            <div class="card__body">
                <p class="muted">"Changing your password signs you out everywhere else, on other devices and in other browsers, and revokes your personal access tokens."</p>
                <PasswordForm submit_label="Change password"
                    on_done=move || toasts.success("Password changed. Your other sessions have been signed out and your tokens revoked.") />
            </div>
        </section>
    }
}

/// `/choose-password`: the only page for a user whose password was set by someone else.
#[component]
pub fn ChoosePasswordPage() -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            let _ = window().location().set_href("/signin");
        }
    });
    view! {
        <Title text="Choose a new password · Tollgate" />
        <main class="auth-page">
            <div class="auth-card">
                <div class="auth-card__brand">"Tollgate"</div>
                <h1>"Choose a new password"</h1>
                <p class="muted">"Your password was set for you (the default password, or a temporary one from an administrator). Choose your own before you continue."</p>
                // A new document: every page is rendered for the account as it is now.
                <PasswordForm submit_label="Save new password"
                    on_done=move || { let _ = window().location().set_href("/"); } />
                <p class="auth-card__footer">
                    <button class="btn btn--ghost btn--sm" disabled=move || sign_out.pending().get()
                        on:click=move |_| { sign_out.dispatch(SignOut {}); }>"Sign out"</button>
                </p>
            </div>
        </main>
    }
}
