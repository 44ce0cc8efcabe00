//! The Personal access tokens card of Account settings (management accounts only): the Generate
//! new token form (name, expiration, scope, organizations), the new token shown once with its
//! Copy button, and the list of tokens with their state, last use and Revoke.
//!
//! The rules are `domain::access_tokens`, checked here as the user types and again by
//! `service::access_tokens`.

use chrono::{Duration, NaiveDate};
use domain::FieldError;
use domain::access_tokens::{
    EXPIRY_PRESETS, MAX_EXPIRY_DAYS, TokenName, TokenScope, TokenState, check_expiry,
};
use domain::dto::{AccessTokenDto, CreatedAccessToken, NewAccessToken, OrgSummary};
use leptos::prelude::*;

use crate::api::account::{CreateAccessToken, RevokeAccessToken, list_access_tokens};
use crate::api::orgs::list_orgs;
use crate::components::form::{FormErrors, TextField};
use crate::components::toast::use_toasts;
use crate::components::ui::{
    Badge, ConfirmDialog, CopyField, EmptyState, ErrorAlert, Field, LoadError, SkeletonRows,
    described_by, format_date, format_time, now,
};

/// The Expiration select: a number of days from today, or a date the user picks.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expiry {
    Days(i64),
    Custom,
}

fn today() -> NaiveDate {
    now().date_naive()
}

/// "8 Jan 2027".
fn long_date(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

/// The date the form's expiration stands for, if it reads.
fn expiry_date(choice: Expiry, custom: &str) -> Option<NaiveDate> {
    match choice {
        Expiry::Days(n) => Some(today() + Duration::days(n)),
        Expiry::Custom => NaiveDate::parse_from_str(custom.trim(), "%Y-%m-%d").ok(),
    }
}

/// The Personal access tokens card.
#[component]
pub fn AccessTokensCard() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let tokens = Resource::new(move || reload.get(), |_| list_access_tokens());
    let form_open = RwSignal::new(false);
    let created = RwSignal::new(None::<CreatedAccessToken>);
    let revoke_target = RwSignal::new(None::<AccessTokenDto>);
    let revoke_open = RwSignal::new(false);
    view! {
        <section class="card tokens-card" aria-labelledby="tokens-title">
            <div class="card__header">
                <h2 class="card__title" id="tokens-title">"Personal access tokens"</h2>
                <Show when=move || !form_open.get()>
                    <button class="btn btn--primary btn--sm" type="button"
                        on:click=move |_| { created.set(None); form_open.set(true); }>
                        "Generate new token"
                    </button>
                </Show>
            </div>
            <div class="card__body stack">
                <p class="muted tokens-card__intro">
                    "Tokens let scripts and pipelines call Tollgate's API as you. A token never has more rights than you have, and you can limit it to reading, to some organizations, and to a time. "
                    <a href="/docs/api">"REST API reference"</a>
                </p>
                {move || created.get().map(|c| view! { <CreatedPanel created=c on_done=move || created.set(None) /> })}
                <Show when=move || form_open.get()>
                    <GenerateForm
                        on_cancel=move || form_open.set(false)
                        on_created=move |c: CreatedAccessToken| {
                            created.set(Some(c));
                            form_open.set(false);
                            reload.update(|n| *n += 1);
                        } />
                </Show>
                <Transition fallback=|| view! { <SkeletonRows rows=3 /> }>
                    {move || Suspend::new(async move {
                        match tokens.await {
                            Ok(list) => view! {
                                <TokensTable tokens=list
                                    on_generate=move || { created.set(None); form_open.set(true); }
                                    on_revoke=move |t| { revoke_target.set(Some(t)); revoke_open.set(true); } />
                            }.into_any(),
                            Err(e) => view! { <LoadError error=e /> }.into_any(),
                        }
                    })}
                </Transition>
            </div>
            <RevokeDialog target=revoke_target open=revoke_open on_revoked=move || reload.update(|n| *n += 1) />
        </section>
    }
}

/// The new token, shown once.
#[component]
fn CreatedPanel(created: CreatedAccessToken, on_done: impl Fn() + 'static) -> impl IntoView {
    view! {
        <div class="alert alert--success token-created" role="status">
            <p class="token-created__title">{format!("Token “{}” generated", created.token.name)}</p>
            <p>"Make sure to copy your token now. You won't be able to see it again."</p>
            <CopyField value=created.secret.clone() label="New personal access token" />
            <p class="token-created__meta">
                {format!("{} · expires on {}", created.token.scope.label(), long_date(created.token.expires_on))}
            </p>
            <div class="form-actions">
                <button class="btn btn--secondary btn--sm" type="button" on:click=move |_| on_done()>
                    "I have copied it"
                </button>
            </div>
        </div>
    }
}

/// The Generate new token form.
#[component]
fn GenerateForm(
    on_cancel: impl Fn() + Send + Sync + 'static,
    on_created: impl Fn(CreatedAccessToken) + Send + Sync + 'static,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let expiry = RwSignal::new(Expiry::Days(30));
    let custom = RwSignal::new(String::new());
    let scope = RwSignal::new(TokenScope::ReadOnly);
    let limit = RwSignal::new(false);
    let chosen = RwSignal::new(Vec::<String>::new());
    let orgs = Resource::new(|| (), |_| list_orgs(None));

    let create = ServerAction::<CreateAccessToken>::new();
    let server_error = Signal::derive(move || create.value().get().and_then(Result::err));
    let errors = FormErrors::new(server_error, "token");
    let expiry_error = errors.field("expires_on", custom);
    errors.watch(|| "expires_on".to_owned(), expiry);
    let orgs_error = errors.field("orgs", chosen);
    errors.watch(|| "orgs".to_owned(), limit);

    let check = move || {
        let mut found = Vec::new();
        if let Err(e) = TokenName::parse(&name.get_untracked()) {
            found.push(e);
        }
        match expiry_date(expiry.get_untracked(), &custom.get_untracked()) {
            None => found.push(FieldError::new(
                "expires_on",
                "Pick the date the token expires on.",
            )),
            Some(d) => found.extend(check_expiry(d, today()).err()),
        }
        if limit.get_untracked() && chosen.with_untracked(Vec::is_empty) {
            found.push(FieldError::new(
                "orgs",
                "Choose at least one organization, or allow all of them.",
            ));
        }
        found
    };
    errors.on_check(check);

    let on_created = StoredValue::new(on_created);
    Effect::new(move |_| {
        if let Some(Ok(c)) = create.value().get() {
            on_created.with_value(|f| f(c));
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if !errors.show_own(check()) {
            return;
        }
        let Some(expires_on) = expiry_date(expiry.get_untracked(), &custom.get_untracked()) else {
            return;
        };
        create.dispatch(CreateAccessToken {
            input: NewAccessToken {
                name: name.get_untracked(),
                expires_on,
                read_only: scope.get_untracked().read_only(),
                orgs: limit.get_untracked().then(|| chosen.get_untracked()),
            },
        });
    };
    let expiry_hint = move || match expiry_date(expiry.get(), &custom.get()) {
        Some(d) if check_expiry(d, today()).is_ok() => {
            format!("The token works through {} (UTC).", long_date(d))
        }
        _ => "A date after today, at most one year ahead.".to_owned(),
    };
    let min = move || (today() + Duration::days(1)).format("%Y-%m-%d").to_string();
    let max = move || {
        (today() + Duration::days(MAX_EXPIRY_DAYS))
            .format("%Y-%m-%d")
            .to_string()
    };

    view! {
        <form class="token-form" on:submit=submit novalidate>
            <h3 class="token-form__title">"Generate new token"</h3>
            <TextField errors field="name" label="Name" value=name required=true
                hint="What is the token for? For example “Deploy pipeline”." />
            <div class="token-form__expiry">
                <Field id="token-expiry" label="Expiration" required=true error=Signal::derive(move || (expiry.get() != Expiry::Custom).then(|| expiry_error.get()).flatten())>
                    <select class="select" id="token-expiry" aria-describedby="token-expiry-note token-expiry-error"
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            expiry.set(v.parse().map_or(Expiry::Custom, Expiry::Days));
                        }>
                        {EXPIRY_PRESETS.iter().map(|(days, label)| {
                            let days = *days;
                            view! { <option value=days.to_string() selected=days == 30>{*label}</option> }
                        }).collect_view()}
                        <option value="custom">"Custom date…"</option>
                    </select>
                    <p class="field__hint" id="token-expiry-note">{expiry_hint}</p>
                </Field>
                <Show when=move || expiry.get() == Expiry::Custom>
                    <Field id="token-expires_on" label="Expiration date" required=true error=expiry_error>
                        <input class="input" id="token-expires_on" type="date" min=min max=max
                            aria-describedby=described_by("token-expires_on")
                            aria-invalid=move || expiry_error.get().is_some().then_some("true")
                            prop:value=move || custom.get()
                            on:input=move |ev| custom.set(event_target_value(&ev)) />
                    </Field>
                </Show>
            </div>
            <fieldset class="choice-group">
                <legend class="field__label">"Scope"</legend>
                {[
                    (TokenScope::ReadOnly, "Sees what you see; changes nothing."),
                    (TokenScope::ReadWrite, "Does everything you may do: create, change, publish, delete."),
                ].into_iter().map(|(s, hint)| view! {
                    <label class=move || if scope.get() == s { "choice choice--checked" } else { "choice" }>
                        <input type="radio" name="token-scope" prop:checked=move || scope.get() == s
                            on:change=move |_| scope.set(s) />
                        <span class="choice__text">
                            <span class="choice__label">{s.label()}</span>
                            <span class="choice__hint">{hint}</span>
                        </span>
                    </label>
                }).collect_view()}
            </fieldset>
            <div class="token-form__orgs">
                <label class="check">
                    <input type="checkbox" id="token-orgs" prop:checked=move || limit.get()
                        on:change=move |ev| limit.set(event_target_checked(&ev)) />
                    "Limit to organizations"
                </label>
                <p class="field__hint">"Without a limit, the token reaches every organization you belong to, now and later."</p>
                <Show when=move || limit.get()>
                    <Transition fallback=|| view! { <SkeletonRows rows=2 /> }>
                        {move || Suspend::new(async move {
                            match orgs.await {
                                Ok(list) => view! { <OrgChecks orgs=list chosen /> }.into_any(),
                                Err(e) => view! { <LoadError error=e /> }.into_any(),
                            }
                        })}
                    </Transition>
                </Show>
                <p class="field__error" id="token-orgs-error" role="alert">{move || orgs_error.get()}</p>
            </div>
            <ErrorAlert error=server_error />
            <div class="form-actions">
                <button class="btn btn--secondary" type="button" on:click=move |_| on_cancel()>"Cancel"</button>
                <button class="btn btn--primary" type="submit" disabled=move || create.pending().get()>
                    {move || if create.pending().get() { "Generating…" } else { "Generate token" }}
                </button>
            </div>
        </form>
    }
}

/// One checkbox per organization of the caller.
#[component]
fn OrgChecks(orgs: Vec<OrgSummary>, chosen: RwSignal<Vec<String>>) -> impl IntoView {
    if orgs.is_empty() {
        return view! { <p class="muted">"You are not a member of any organization yet."</p> }
            .into_any();
    }
    view! {
        <div class="token-form__org-list" role="group" aria-label="Organizations">
            {orgs.into_iter().map(|o| {
                let id = o.id.clone();
                let checked = {
                    let id = id.clone();
                    move || chosen.with(|c| c.contains(&id))
                };
                view! {
                    <label class="check">
                        <input type="checkbox" prop:checked=checked
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                chosen.update(|c| {
                                    c.retain(|x| *x != id);
                                    if on { c.push(id.clone()); }
                                });
                            } />
                        {o.name}
                    </label>
                }
            }).collect_view()}
        </div>
    }
    .into_any()
}

fn state_badge(t: &AccessTokenDto) -> impl IntoView + use<> {
    let modifier = match t.state {
        TokenState::Active => "active",
        TokenState::Expired => "created",
        TokenState::Revoked => "revoked",
    };
    view! { <Badge label=t.state.label() modifier /> }
}

/// The caller's tokens, or the empty state.
#[component]
fn TokensTable(
    tokens: Vec<AccessTokenDto>,
    on_generate: impl Fn() + Send + Sync + Copy + 'static,
    on_revoke: impl Fn(AccessTokenDto) + Send + Sync + Copy + 'static,
) -> impl IntoView {
    if tokens.is_empty() {
        return view! {
            <EmptyState message="No personal access tokens yet">
                <p>"Click here to "<button class="link-button" type="button" on:click=move |_| on_generate()>"generate a token"</button>"."</p>
            </EmptyState>
        }
        .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table tokens-table">
                <thead><tr>
                    <th>"Name"</th><th>"Scope"</th><th>"Organizations"</th><th>"Created"</th>
                    <th>"Expires"</th><th>"Last used"</th><th>"State"</th>
                    <th><span class="visually-hidden">"Actions"</span></th>
                </tr></thead>
                <tbody>
                    {tokens.into_iter().map(|t| {
                        let works = t.state.works();
                        let target = StoredValue::new(t.clone());
                        let orgs = match &t.orgs {
                            None => view! { <span class="muted">"All"</span> }.into_any(),
                            Some(o) if o.is_empty() => view! { <span class="muted">"None left"</span> }.into_any(),
                            Some(o) => view! { <span>{o.iter().map(|o| o.name.clone()).collect::<Vec<_>>().join(", ")}</span> }.into_any(),
                        };
                        view! {
                            <tr class=if works { "" } else { "tokens-table__ended" }>
                                <td>
                                    <span class="tokens-table__name">{t.name.clone()}</span>
                                    <code class="tokens-table__hint">{format!("tgp_…{}", t.last_four)}</code>
                                </td>
                                <td>{t.scope.label()}</td>
                                <td>{orgs}</td>
                                <td class="nowrap">{format_date(&t.created_on)}</td>
                                <td class="nowrap">{long_date(t.expires_on)}</td>
                                <td class="nowrap">{t.last_used_on.map_or_else(
                                    || view! { <span class="muted">"Never used"</span> }.into_any(),
                                    |u| view! { <span>{format_time(&u)}</span> }.into_any())}</td>
                                <td>{state_badge(&t)}</td>
                                <td class="tokens-table__actions">
                                    {works.then(|| view! {
                                        <button class="btn btn--ghost btn--sm keys-table__revoke" type="button"
                                            aria-label=format!("Revoke {}", t.name)
                                            on:click=move |_| on_revoke(target.get_value())>
                                            "Revoke"
                                        </button>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// Asks to confirm a revocation, naming the token.
#[component]
fn RevokeDialog(
    target: RwSignal<Option<AccessTokenDto>>,
    open: RwSignal<bool>,
    on_revoked: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let toasts = use_toasts();
    let revoke = ServerAction::<RevokeAccessToken>::new();
    let error = Signal::derive(move || revoke.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(t)) = revoke.value().get() {
            open.set(false);
            toasts.success(format!("Token “{}” revoked.", t.name));
            on_revoked();
        }
    });
    let name = move || target.get().map(|t| t.name).unwrap_or_default();
    view! {
        <ConfirmDialog
            open
            title=Signal::derive(move || format!("Revoke “{}”?", name()))
            message=Signal::derive(move || format!(
                "Scripts and pipelines that use “{}” are refused from now on. This cannot be undone.",
                name()
            ))
            confirm_label=Signal::derive(|| "Revoke token".to_owned())
            pending=revoke.pending()
            error
            on_confirm=move || {
                if let Some(t) = target.get_untracked() {
                    revoke.dispatch(RevokeAccessToken { id: t.id });
                }
            }
        />
    }
}
