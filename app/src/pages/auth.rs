//! Sign in and sign up. On success the browser loads the next page anew, so that everything
//! on it is rendered for the new session.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{SignIn, SignUp};
use crate::components::form::FormErrors;
use crate::components::ui::{ErrorAlert, described_by};

fn next_param() -> Signal<String> {
    let query = use_query_map();
    Signal::derive(move || query.read().get("next").unwrap_or_else(|| "/".to_owned()))
}

/// Loads `next` as a new document once the action returned it.
fn follow<A>(action: ServerAction<A>)
where
    A: leptos::server_fn::ServerFn<Output = String, Error = crate::error::AppError>
        + Clone
        + Send
        + Sync
        + 'static,
{
    Effect::new(move |_| {
        if let Some(Ok(next)) = action.value().get() {
            let _ = window().location().set_href(&next);
        }
    });
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    follow(action);
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <Title text="Sign in · Tollgate" />
        <main class="auth-page">
            <div class="auth-card">
                <div class="auth-card__brand">"Tollgate"</div>
                <h1>"Sign in to Tollgate"</h1>
                <ErrorAlert error />
                <ActionForm action>
                    <input type="hidden" name="next" value=next_param() />
                    <div class="field">
                        <label class="field__label" for="email">"Email"</label>
                        <input class="input" id="email" name="email" type="email" autocomplete="username" required />
                    </div>
                    <div class="field">
                        <label class="field__label" for="password">"Password"</label>
                        <input class="input" id="password" name="password" type="password" autocomplete="current-password" required />
                    </div>
                    <button class="btn btn--primary btn--block" type="submit" disabled=move || action.pending().get()>
                        {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
                <p class="auth-card__footer">
                    "New to Tollgate? "
                    <a href=move || format!("/signup?next={}", crate::components::ui::urlencode(&next_param().get()))>"Create an account"</a>
                </p>
            </div>
        </main>
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    follow(action);
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let errors = FormErrors::new(error, "signup");
    let field = move |name: &'static str| errors.message(name);
    let invalid = move |name: &'static str| move || field(name).get().is_some().then_some("true");
    let changed = move |name: &'static str| move |_| errors.changed(name);
    view! {
        <Title text="Create an account · Tollgate" />
        <main class="auth-page">
            <div class="auth-card">
                <div class="auth-card__brand">"Tollgate"</div>
                <h1>"Create your account"</h1>
                <ErrorAlert error />
                <ActionForm action>
                    <input type="hidden" name="next" value=next_param() />
                    <div class="field">
                        <label class="field__label" for="email">"Email"</label>
                        <input class="input" id="email" name="email" type="email" autocomplete="email" required
                            aria-invalid=invalid("email") aria-describedby=described_by("email") on:input=changed("email") />
                        <p class="field__error" id="email-error" role="alert">{move || field("email").get()}</p>
                    </div>
                    <div class="field">
                        <label class="field__label" for="display_name">"Display name"</label>
                        <input class="input" id="display_name" name="display_name" type="text" autocomplete="name" required
                            aria-invalid=invalid("display_name") aria-describedby=described_by("display_name") on:input=changed("display_name") />
                        <p class="field__error" id="display_name-error" role="alert">{move || field("display_name").get()}</p>
                    </div>
                    <div class="field">
                        <label class="field__label" for="password">"Password"</label>
                        <input class="input" id="password" name="password" type="password" autocomplete="new-password"
                            aria-invalid=invalid("password") aria-describedby=described_by("password") on:input=changed("password") />
                        <p class="field__hint" id="password-hint">"At least 12 characters."</p>
                        <p class="field__error" id="password-error" role="alert">{move || field("password").get()}</p>
                    </div>
                    <button class="btn btn--primary btn--block" type="submit" disabled=move || action.pending().get()>
                        {move || if action.pending().get() { "Creating account…" } else { "Create account" }}
                    </button>
                </ActionForm>
                <p class="auth-card__footer">
                    "Already have an account? "
                    <a href=move || format!("/signin?next={}", crate::components::ui::urlencode(&next_param().get()))>"Sign in"</a>
                </p>
            </div>
        </main>
    }
}
