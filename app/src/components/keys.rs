//! The API keys of a client version, shared by the client page and the portal's My Clients:
//! the API Key card's body (the current key, masked until Show), the Keys table (every key with
//! its state, Show and Revoke), and the dialogs (Rotate key, Add key with Bring your own key,
//! the new key shown once, the Revoke confirmation).
//!
//! A key's value is on the page only after an explicit Show (or once, right after it was
//! created), and only for those who may edit the client; each Show is a Change Log row
//! (`show_api_key`). Copy shows the key first: copying needs the value.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use domain::ClientStatus;
use domain::credentials::{self, KeyState, MAX_LIVE_KEYS, Overlap, OwnKey};
use domain::dto::{ApiKeyDto, ClientVersionDetail, KeyRequest, NewApiKey};
use leptos::prelude::*;

use crate::api::keys::{ChangeApiKey, RevokeApiKey, show_api_key};
use crate::components::form::FormErrors;
use crate::components::toast::{Toasts, use_toasts};
use crate::components::ui::{
    Badge, ConfirmDialog, CopyField, Dialog, EmptyState, ErrorAlert, Field, SkeletonRows,
    described_by, format_date, format_time, now,
};
use crate::error::AppError;

/// Which client version the keys belong to, and whether the portal asks (its server functions
/// act through `Ctx::for_portal`).
#[derive(Clone, Debug, PartialEq)]
pub struct KeyOwner {
    pub org: String,
    pub client: String,
    pub version: String,
    pub portal: bool,
}

/// A key just created, for the dialog that shows it once.
#[derive(Clone, Debug)]
struct Created {
    new: NewApiKey,
    /// After a rotation: the replaced key's last 4 characters and when it stops working.
    replaced: Option<(String, Option<DateTime<Utc>>)>,
}

/// What the key widgets of one client version share: whose keys they are, the keys shown so
/// far (by id, on this page only), the dialogs, and how to reload the keys after a change.
/// Made once per client version outside any `Transition`; the dialogs ([`KeyDialogs`]) too.
#[derive(Clone, Copy)]
pub struct KeyActions {
    owner: Signal<KeyOwner>,
    reload: RwSignal<u32>,
    toasts: Toasts,
    revealed: RwSignal<HashMap<i64, String>>,
    revealing: RwSignal<Option<i64>>,
    copied: RwSignal<Option<i64>>,
    /// The key a rotation replaces (the current one when Rotate key was clicked).
    rotate_from: RwSignal<Option<ApiKeyDto>>,
    rotate_open: RwSignal<bool>,
    add_open: RwSignal<bool>,
    /// The key to revoke, and whether it is the last one that works.
    revoke_target: RwSignal<Option<(ApiKeyDto, bool)>>,
    revoke_open: RwSignal<bool>,
    created: RwSignal<Option<Created>>,
    created_open: RwSignal<bool>,
}

impl KeyActions {
    pub fn new(owner: Signal<KeyOwner>, reload: RwSignal<u32>) -> Self {
        Self {
            owner,
            reload,
            toasts: use_toasts(),
            revealed: RwSignal::new(HashMap::new()),
            revealing: RwSignal::new(None),
            copied: RwSignal::new(None),
            rotate_from: RwSignal::new(None),
            rotate_open: RwSignal::new(false),
            add_open: RwSignal::new(false),
            revoke_target: RwSignal::new(None),
            revoke_open: RwSignal::new(false),
            created: RwSignal::new(None),
            created_open: RwSignal::new(false),
        }
    }

    /// The value of key `id`, if it was shown on this page.
    pub fn secret(self, id: i64) -> Option<String> {
        self.revealed.with(|m| m.get(&id).cloned())
    }

    fn hide(self, id: i64) {
        self.revealed.update(|m| {
            m.remove(&id);
        });
    }

    /// Shows key `id` (asking the server, which writes the Change Log row), then runs `then`
    /// with its value.
    fn reveal_then(self, id: i64, then: impl FnOnce(String) + 'static) {
        if let Some(s) = self.revealed.with_untracked(|m| m.get(&id).cloned()) {
            then(s);
            return;
        }
        if self.revealing.get_untracked().is_some() {
            return;
        }
        let o = self.owner.get_untracked();
        self.revealing.set(Some(id));
        leptos::task::spawn_local(async move {
            let shown = show_api_key(o.org, o.client, o.version, id, o.portal).await;
            self.revealing.set(None);
            match shown {
                Ok(s) => {
                    self.revealed.update(|m| {
                        m.insert(id, s.clone());
                    });
                    then(s);
                }
                Err(e) => self.toasts.error(e.message()),
            }
        });
    }

    fn reveal(self, id: i64) {
        self.reveal_then(id, |_| {});
    }

    /// Copies key `id` to the clipboard (showing it first), with "Copied" next to it.
    fn copy(self, id: i64) {
        self.reveal_then(id, move |s| {
            write_clipboard(s, move || {
                self.copied.set(Some(id));
                set_timeout(
                    move || {
                        if self.copied.get_untracked() == Some(id) {
                            self.copied.set(None);
                        }
                    },
                    std::time::Duration::from_secs(2),
                );
            });
        });
    }

    fn open_rotate(self, current: ApiKeyDto) {
        self.rotate_from.set(Some(current));
        self.rotate_open.set(true);
    }

    fn open_revoke(self, key: ApiKeyDto, last: bool) {
        self.revoke_target.set(Some((key, last)));
        self.revoke_open.set(true);
    }
}

/// Writes `text` to the clipboard; `done` runs once it is there.
fn write_clipboard(text: String, done: impl FnOnce() + 'static) {
    #[cfg(feature = "hydrate")]
    {
        let promise = window().navigator().clipboard().write_text(&text);
        leptos::task::spawn_local(async move {
            if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
                done();
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (text, done);
}

/// A `datetime-local` value ("2026-12-03T14:00"), read as UTC.
fn parse_utc(raw: &str) -> Option<DateTime<Utc>> {
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(raw.trim(), f).ok())
        .map(|n| n.and_utc())
}

/// The `datetime-local` value of `t` in UTC.
fn input_value(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M").to_string()
}

/// A moment typed into a `datetime-local` input: required when `required`, in the future and
/// at most five years ahead (the server checks again).
fn check_moment(raw: &str, required: bool) -> Result<Option<DateTime<Utc>>, String> {
    if raw.trim().is_empty() {
        return if required {
            Err("Enter a date and time.".into())
        } else {
            Ok(None)
        };
    }
    let t = parse_utc(raw).ok_or_else(|| "Enter a date and time.".to_owned())?;
    credentials::check_expiry(t, now()).map(Some)
}

/// When the key a rotation replaced stops working: the overlap's end, or its own earlier end.
fn replaced_until(overlap: Overlap, old: &ApiKeyDto, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let end = match overlap {
        Overlap::Until(t) => Some(t),
        o => o.ends(at).ok().flatten(),
    };
    match (end, old.expires_on) {
        (Some(e), Some(before)) => Some(e.min(before)),
        (Some(e), None) => Some(e),
        (None, before) => before,
    }
}

/// A key's state as its badge reads: "Active", "Expiring on 3 Dec 2026, 14:00 UTC", …
#[component]
pub fn KeyStateBadge(state: KeyState) -> impl IntoView {
    let (label, modifier) = match state {
        KeyState::Active => ("Active".to_owned(), "active"),
        KeyState::Expiring(t) => (format!("Expiring on {}", format_time(&t)), "awaiting"),
        KeyState::Expired(t) => (format!("Expired on {}", format_time(&t)), "created"),
        KeyState::Revoked(t) => (format!("Revoked on {}", format_time(&t)), "revoked"),
    };
    view! { <Badge label modifier /> }
}

/// The current key, masked ("•••• a1b2") until Show; Show/Hide and Copy for editors.
#[component]
fn KeyField(ka: KeyActions, key: ApiKeyDto, can_edit: bool) -> impl IntoView {
    let id = key.id;
    let masked = format!("•••• {}", key.last4);
    let shown = move || ka.secret(id).is_some();
    let busy = move || ka.revealing.get() == Some(id);
    view! {
        <div class="key-field">
            <code
                class=move || if shown() { "key-field__value key-field__value--shown" } else { "key-field__value" }
                aria-label="API key"
            >
                {move || ka.secret(id).unwrap_or_else(|| masked.clone())}
            </code>
            {can_edit.then(|| view! {
                <div class="key-field__buttons">
                    <button class="btn btn--secondary btn--sm" type="button"
                        aria-label=move || if shown() { "Hide API key" } else { "Show API key" }
                        aria-busy=move || busy().then_some("true")
                        disabled=busy
                        on:click=move |_| if shown() { ka.hide(id) } else { ka.reveal(id) }>
                        {move || if shown() { "Hide" } else { "Show" }}
                    </button>
                    <button class="btn btn--secondary btn--sm" type="button" aria-label="Copy API key"
                        disabled=busy on:click=move |_| ka.copy(id)>
                        "Copy"
                    </button>
                </div>
            })}
            <span class="copy-field__status" role="status">{move || (ka.copied.get() == Some(id)).then_some("Copied")}</span>
        </div>
    }
}

/// The API Key card's body: the newest working key, the seed's note, and Rotate key.
#[component]
pub fn ApiKeyPanel(keys: Vec<ApiKeyDto>, can_edit: bool, ka: KeyActions) -> impl IntoView {
    let info = view! {
        <div class="alert alert--info api-key__info">
            <p class="api-key__info-title">"Info"</p>
            <p>"This API key is valid for all contracts of the client version"</p>
        </div>
    };
    let Some(current) = ApiKeyDto::current(&keys).cloned() else {
        return view! {
            <div class="api-key">
                <p class="api-key__none">"No working key: calls with this client version are refused."</p>
                {info}
                {can_edit.then(|| view! {
                    <div class="api-key__actions">
                        <button class="btn btn--primary btn--sm" type="button" on:click=move |_| ka.add_open.set(true)>"Add key"</button>
                    </div>
                })}
            </div>
        }
        .into_any();
    };
    let others: Vec<ApiKeyDto> = keys
        .iter()
        .filter(|k| k.state.works() && k.id != current.id)
        .cloned()
        .collect();
    let meta = format!(
        "{}Created {} by {} · {}",
        current
            .label
            .as_ref()
            .map_or_else(String::new, |l| format!("{l} · ")),
        format_date(&current.created_on),
        current.created_by,
        current.last_used_on.map_or_else(
            || "Never used".to_owned(),
            |t| format!("Last used {}", format_time(&t))
        ),
    );
    let expiring = match current.state {
        KeyState::Expiring(t) => Some(format!(
            "This key stops working on {}. Rotate it, or add a key, before then.",
            format_time(&t)
        )),
        _ => None,
    };
    let for_rotate = StoredValue::new(current.clone());
    view! {
        <div class="api-key">
            <KeyField ka key=current can_edit />
            <p class="api-key__meta">{meta}</p>
            {expiring.map(|m| view! { <p class="alert alert--warning api-key__alert">{m}</p> })}
            {(!others.is_empty()).then(|| view! {
                <ul class="api-key__others" aria-label="Other working keys">
                    {others.into_iter().map(|k| {
                        let until = match k.state {
                            KeyState::Expiring(t) => format!("until {}", format_time(&t)),
                            _ => "until it is revoked".to_owned(),
                        };
                        view! { <li>"The key "<code>{format!("…{}", k.last4)}</code>{format!(" also works, {until}.")}</li> }
                    }).collect_view()}
                </ul>
            })}
            {info}
            {can_edit.then(|| view! {
                <div class="api-key__actions">
                    <button class="btn btn--secondary btn--sm" type="button"
                        on:click=move |_| ka.open_rotate(for_rotate.get_value())>"Rotate key"</button>
                </div>
            })}
        </div>
    }
    .into_any()
}

/// "Add key", for editors.
#[component]
pub fn AddKeyButton(ka: KeyActions) -> impl IntoView {
    view! {
        <button class="btn btn--secondary btn--sm" type="button" on:click=move |_| ka.add_open.set(true)>
            <span aria-hidden="true">"+ "</span>"Add key"
        </button>
    }
}

/// Every key of a client version, newest first, with its state; Show and Revoke for editors.
#[component]
pub fn KeysTable(keys: Vec<ApiKeyDto>, can_edit: bool, ka: KeyActions) -> impl IntoView {
    if keys.is_empty() {
        return view! {
            <EmptyState message="No keys">
                {if can_edit {
                    view! { <p>"Click here to "<button class="link-button" type="button" on:click=move |_| ka.add_open.set(true)>"add a key"</button></p> }.into_any()
                } else {
                    view! { <p class="muted">"An editor of this client can add one."</p> }.into_any()
                }}
            </EmptyState>
        }
        .into_any();
    }
    let current = ApiKeyDto::current(&keys).map(|k| k.id);
    let working = keys.iter().filter(|k| k.state.works()).count();
    view! {
        <div class="table-wrap">
            <table class="table keys-table">
                <thead><tr>
                    <th>"Label"</th><th>"Key"</th><th>"State"</th><th>"Created"</th><th>"Last used"</th>
                    {can_edit.then(|| view! { <th><span class="visually-hidden">"Actions"</span></th> })}
                </tr></thead>
                <tbody>
                    {keys.into_iter().map(|k| {
                        let id = k.id;
                        let name = format!("…{}", k.last4);
                        let works = k.state.works();
                        let shown = move || ka.secret(id).is_some();
                        let busy = move || ka.revealing.get() == Some(id);
                        let to_revoke = StoredValue::new(k.clone());
                        let last_working = works && working == 1;
                        view! {
                            <tr class=if works { "" } else { "keys-table__ended" }>
                                <td>
                                    <div class="keys-table__label">
                                        {match k.label.clone() {
                                            Some(l) => view! { <span>{l}</span> }.into_any(),
                                            None => view! { <span class="muted">"No label"</span> }.into_any(),
                                        }}
                                        {(current == Some(id)).then(|| view! { <span class="badge badge--admin" title="The key the API Key card shows">"Current"</span> })}
                                    </div>
                                </td>
                                <td class="keys-table__key">
                                    {move || match ka.secret(id) {
                                        Some(s) => view! {
                                            <div class="keys-table__secret">
                                                <code class="key-secret" aria-label=format!("Key {}", name.clone())>{s}</code>
                                                <button class="btn btn--secondary btn--sm" type="button" aria-label=format!("Copy key {}", name.clone())
                                                    on:click=move |_| ka.copy(id)>"Copy"</button>
                                                <span class="copy-field__status" role="status">{move || (ka.copied.get() == Some(id)).then_some("Copied")}</span>
                                            </div>
                                        }.into_any(),
                                        None => view! { <code>{name.clone()}</code> }.into_any(),
                                    }}
                                </td>
                                <td><KeyStateBadge state=k.state /></td>
                                <td>
                                    <span class="keys-table__date">{format_date(&k.created_on)}</span>
                                    <span class="keys-table__by">{format!("by {}", k.created_by)}</span>
                                </td>
                                <td>{k.last_used_on.map_or_else(|| view! { <span class="muted">"Never"</span> }.into_any(), |t| view! { <span>{format_time(&t)}</span> }.into_any())}</td>
                                {can_edit.then(|| {
                                    let name = format!("…{}", k.last4);
                                    view! {
                                    <td class="keys-table__actions">
                                        {works.then(|| {
                                            let revoke_label = format!("Revoke key {name}");
                                            view! {
                                            <button class="btn btn--ghost btn--sm" type="button"
                                                aria-label=move || format!("{} key {name}", if shown() { "Hide" } else { "Show" })
                                                disabled=busy
                                                on:click=move |_| if shown() { ka.hide(id) } else { ka.reveal(id) }>
                                                {move || if shown() { "Hide" } else { "Show" }}
                                            </button>
                                            <button class="btn btn--ghost btn--sm keys-table__revoke" type="button"
                                                aria-label=revoke_label
                                                on:click=move |_| ka.open_revoke(to_revoke.get_value(), last_working)>
                                                "Revoke"
                                            </button>
                                        }})}
                                    </td>
                                }})}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The Rotate, Add key, new-key and Revoke dialogs of one client version.
#[component]
pub fn KeyDialogs(ka: KeyActions) -> impl IntoView {
    let revoke = ServerAction::<RevokeApiKey>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = revoke.value().get() {
            ka.revoke_open.set(false);
            if let Some((k, _)) = ka.revoke_target.get_untracked() {
                ka.hide(k.id);
                ka.toasts.success(format!(
                    "The key …{} was revoked. Requests with it are refused.",
                    k.last4
                ));
            }
            ka.reload.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if ka.revoke_open.get() {
            revoke.clear();
        }
    });
    let message = Signal::derive(move || {
        ka.revoke_target
            .get()
            .map(|(k, last)| {
                let mut m = format!(
                    "Revoke the key …{}? Requests with it are refused at once.",
                    k.last4
                );
                if last {
                    m.push_str(" It is the only working key of this client version: every call fails until you add another.");
                }
                m
            })
            .unwrap_or_default()
    });
    view! {
        <RotateDialog ka />
        <AddKeyDialog ka />
        <NewKeyDialog ka />
        <ConfirmDialog
            open=ka.revoke_open
            title="Revoke key"
            message
            confirm_label="Revoke key"
            pending=revoke.pending()
            error=Signal::derive(move || revoke.value().get().and_then(Result::err))
            on_confirm=move || {
                if let Some((k, _)) = ka.revoke_target.get_untracked() {
                    let o = ka.owner.get_untracked();
                    revoke.dispatch(RevokeApiKey { org: o.org, client: o.client, version: o.version, key_id: k.id, portal: o.portal });
                }
            }
        />
    }
}

/// How long the replaced key keeps working, as the Rotate dialog offers it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum OverlapChoice {
    OneHour,
    OneDay,
    SevenDays,
    Until,
    UntilRevoked,
}

const OVERLAPS: [(OverlapChoice, &str); 5] = [
    (OverlapChoice::OneHour, "1 hour"),
    (OverlapChoice::OneDay, "1 day"),
    (OverlapChoice::SevenDays, "7 days"),
    (OverlapChoice::Until, "Until a date"),
    (OverlapChoice::UntilRevoked, "Until I revoke it"),
];

#[component]
fn RotateDialog(ka: KeyActions) -> impl IntoView {
    let rotate = ServerAction::<ChangeApiKey>::new();
    let choice = RwSignal::new(OverlapChoice::OneDay);
    let until = RwSignal::new(String::new());
    let label = RwSignal::new(String::new());
    let asked: StoredValue<Option<Overlap>> = StoredValue::new(None);
    Effect::new(move |_| {
        if ka.rotate_open.get() {
            rotate.clear();
            choice.set(OverlapChoice::OneDay);
            until.set(input_value(now() + Duration::days(2)));
            label.set(String::new());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(new)) = rotate.value().get() {
            ka.rotate_open.set(false);
            let replaced = ka.rotate_from.get_untracked().map(|old| {
                let end = asked
                    .get_value()
                    .and_then(|o| replaced_until(o, &old, new.key.created_on));
                (old.last4, end)
            });
            ka.created.set(Some(Created { new, replaced }));
            ka.created_open.set(true);
            ka.reload.update(|n| *n += 1);
        }
    });
    let server_error = Signal::derive(move || rotate.value().get().and_then(Result::err));
    let errors = FormErrors::new(server_error, "rotate");
    let until_error = Signal::derive(move || {
        (choice.get() == OverlapChoice::Until)
            .then(|| check_moment(&until.get(), true).err())
            .flatten()
    });
    let label_error = Signal::derive(move || credentials::parse_label(&label.get()).err());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let overlap = match choice.get_untracked() {
            OverlapChoice::OneHour => Overlap::OneHour,
            OverlapChoice::OneDay => Overlap::OneDay,
            OverlapChoice::SevenDays => Overlap::SevenDays,
            OverlapChoice::Until => match parse_utc(&until.get_untracked()) {
                Some(t) => Overlap::Until(t),
                None => return,
            },
            OverlapChoice::UntilRevoked => Overlap::UntilRevoked,
        };
        asked.set_value(Some(overlap));
        let o = ka.owner.get_untracked();
        rotate.dispatch(ChangeApiKey {
            org: o.org,
            client: o.client,
            version: o.version,
            request: KeyRequest::Rotate {
                overlap,
                label: label.get_untracked(),
            },
            portal: o.portal,
        });
    };
    let old = move || {
        ka.rotate_from
            .get()
            .map(|k| format!("…{}", k.last4))
            .unwrap_or_default()
    };
    view! {
        <Dialog open=ka.rotate_open title="Rotate key">
            <form class="key-form" on:submit=submit>
                <p class="muted">{move || format!("A new key is created at once. The current key {} keeps working for the time you pick, so that your callers can move to the new key.", old())}</p>
                <fieldset class="choice-group">
                    <legend class="field__label">{move || format!("The current key {} keeps working", old())}</legend>
                    {OVERLAPS.iter().map(|(c, text)| {
                        let c = *c;
                        let at = now();
                        let hint = match c {
                            OverlapChoice::OneHour => format!("Until {}", format_time(&(at + Duration::hours(1)))),
                            OverlapChoice::OneDay => format!("Until {}", format_time(&(at + Duration::days(1)))),
                            OverlapChoice::SevenDays => format!("Until {}", format_time(&(at + Duration::days(7)))),
                            OverlapChoice::Until => "A date and time you pick (UTC)".to_owned(),
                            OverlapChoice::UntilRevoked => "Revoke it by hand in the Keys list when no one uses it".to_owned(),
                        };
                        view! {
                            <label class=move || if choice.get() == c { "choice choice--checked" } else { "choice" }>
                                <input type="radio" name="rotate-overlap" prop:checked=move || choice.get() == c
                                    on:change=move |_| choice.set(c) />
                                <span class="choice__text">
                                    <span class="choice__label">{*text}</span>
                                    <span class="choice__hint">{hint}</span>
                                </span>
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
                <Show when=move || choice.get() == OverlapChoice::Until>
                    <Field id="rotate-until" label="Until (UTC)" required=true hint="Date and time in UTC, at most five years ahead."
                        error=errors.field_or("overlap_until", until, until_error)>
                        <input class="input" id="rotate-until" type="datetime-local" required
                            aria-describedby=described_by("rotate-until")
                            aria-invalid=move || until_error.get().is_some().then_some("true")
                            prop:value=move || until.get() on:input=move |ev| until.set(event_target_value(&ev)) />
                    </Field>
                </Show>
                <Field id="rotate-label" label="Label for the new key" hint="Optional, e.g. “Production” or “CI runner”."
                    error=errors.field_or("label", label, label_error)>
                    <input class="input" id="rotate-label" autocomplete="off" maxlength="80"
                        aria-describedby=described_by("rotate-label")
                        prop:value=move || label.get() on:input=move |ev| label.set(event_target_value(&ev)) />
                </Field>
                <ErrorAlert error=server_error />
                <div class="dialog__actions">
                    <button type="button" class="btn btn--secondary" on:click=move |_| ka.rotate_open.set(false)>"Cancel"</button>
                    <button type="submit" class="btn btn--primary"
                        disabled=move || rotate.pending().get() || until_error.get().is_some() || label_error.get().is_some()>
                        {move || if rotate.pending().get() { "Rotating…" } else { "Rotate key" }}
                    </button>
                </div>
            </form>
        </Dialog>
    }
}

#[component]
fn AddKeyDialog(ka: KeyActions) -> impl IntoView {
    let add = ServerAction::<ChangeApiKey>::new();
    let label = RwSignal::new(String::new());
    let expires = RwSignal::new(String::new());
    let bring = RwSignal::new(false);
    let own = RwSignal::new(String::new());
    let own_touched = RwSignal::new(false);
    Effect::new(move |_| {
        if ka.add_open.get() {
            add.clear();
            label.set(String::new());
            expires.set(String::new());
            bring.set(false);
            own.set(String::new());
            own_touched.set(false);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(new)) = add.value().get() {
            ka.add_open.set(false);
            ka.created.set(Some(Created {
                new,
                replaced: None,
            }));
            ka.created_open.set(true);
            ka.reload.update(|n| *n += 1);
        }
    });
    let server_error = Signal::derive(move || add.value().get().and_then(Result::err));
    let errors = FormErrors::new(server_error, "add");
    let label_error = Signal::derive(move || credentials::parse_label(&label.get()).err());
    let expires_error = Signal::derive(move || check_moment(&expires.get(), false).err());
    let own_error = Signal::derive(move || {
        (bring.get() && own_touched.get())
            .then(|| OwnKey::parse(&own.get()).err())
            .flatten()
    });
    let own_invalid = move || bring.get() && OwnKey::parse(&own.get()).is_err();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        own_touched.set(true);
        if own_invalid() || expires_error.get_untracked().is_some() {
            return;
        }
        let o = ka.owner.get_untracked();
        add.dispatch(ChangeApiKey {
            org: o.org,
            client: o.client,
            version: o.version,
            request: KeyRequest::Add {
                label: label.get_untracked(),
                own: bring
                    .get_untracked()
                    .then(|| own.get_untracked().trim().to_owned()),
                expires_on: parse_utc(&expires.get_untracked()),
            },
            portal: o.portal,
        });
    };
    view! {
        <Dialog open=ka.add_open title="Add key">
            <form class="key-form" on:submit=submit>
                <p class="muted">{format!("A new key that works next to the others: for a second caller, or a key you bring from another gateway. A client version has at most {MAX_LIVE_KEYS} working keys.")}</p>
                <Field id="add-label" label="Label" hint="Optional, e.g. “Production” or “CI runner”."
                    error=errors.field_or("label", label, label_error)>
                    <input class="input" id="add-label" autocomplete="off" maxlength="80"
                        aria-describedby=described_by("add-label")
                        prop:value=move || label.get() on:input=move |ev| label.set(event_target_value(&ev)) />
                </Field>
                <Field id="add-expires" label="Expires on (UTC)" hint="Optional: leave empty for a key that works until it is revoked."
                    error=errors.field_or("expires_on", expires, expires_error)>
                    <input class="input" id="add-expires" type="datetime-local"
                        aria-describedby=described_by("add-expires")
                        aria-invalid=move || expires_error.get().is_some().then_some("true")
                        prop:value=move || expires.get() on:input=move |ev| expires.set(event_target_value(&ev)) />
                </Field>
                <label class="checkbox-row">
                    <input type="checkbox" prop:checked=move || bring.get() on:change=move |ev| bring.set(event_target_checked(&ev)) />
                    <span>
                        <strong>"Bring your own key"</strong>
                        <span class="field__hint key-form__check-hint">"For a migration from another gateway: your callers keep the key they have."</span>
                    </span>
                </label>
                <Show when=move || bring.get()>
                    <Field id="own-key" label="Your key" required=true
                        hint="At least 20 characters: letters A–Z and a–z, digits, and . _ ~ -. It must not be in use anywhere in Tollgate."
                        error=errors.field_or("own_key", own, own_error)>
                        <input class="input mono" id="own-key" autocomplete="off" spellcheck="false" required
                            aria-describedby=described_by("own-key")
                            aria-invalid=move || own_error.get().is_some().then_some("true")
                            prop:value=move || own.get()
                            on:input=move |ev| {
                                own.set(event_target_value(&ev));
                                own_touched.set(true);
                            } />
                    </Field>
                </Show>
                <ErrorAlert error=server_error />
                <div class="dialog__actions">
                    <button type="button" class="btn btn--secondary" on:click=move |_| ka.add_open.set(false)>"Cancel"</button>
                    <button type="submit" class="btn btn--primary"
                        disabled=move || add.pending().get() || label_error.get().is_some() || expires_error.get().is_some() || own_error.get().is_some()>
                        {move || if add.pending().get() { "Adding…" } else { "Add key" }}
                    </button>
                </div>
            </form>
        </Dialog>
    }
}

/// The key just created, shown once with its copy button, and what happens to the old one.
#[component]
fn NewKeyDialog(ka: KeyActions) -> impl IntoView {
    view! {
        <Dialog open=ka.created_open title=Signal::derive(move || {
            match ka.created.get() {
                Some(Created { replaced: Some(_), .. }) => "Key rotated".to_owned(),
                _ => "Key added".to_owned(),
            }
        })>
            {move || ka.created.get().map(|c| {
                let k = c.new.key.clone();
                let old = match &c.replaced {
                    Some((last4, Some(t))) => format!("The previous key …{last4} keeps working until {}. Move your callers to the new key before then.", format_time(t)),
                    Some((last4, None)) => format!("The previous key …{last4} keeps working until you revoke it in the Keys list."),
                    None => "Your other keys keep working.".to_owned(),
                };
                let expiry = match k.state {
                    KeyState::Expiring(t) => Some(format!("The new key works until {}.", format_time(&t))),
                    _ => None,
                };
                view! {
                    <div class="new-key">
                        <p>"Copy the new key now and keep it somewhere safe. Those who may edit this client can show it again later; each Show is recorded in the Change Log."</p>
                        <div class="new-key__value">
                            <p class="field__label">{match k.label.clone() { Some(l) => format!("New API key · {l}"), None => "New API key".to_owned() }}</p>
                            <CopyField value=c.new.secret.clone() label="New API key" />
                        </div>
                        {expiry.map(|e| view! { <p class="muted">{e}</p> })}
                        <p class="alert alert--info new-key__old">{old}</p>
                    </div>
                }
            })}
            <div class="dialog__actions">
                <button type="button" class="btn btn--primary" autofocus on:click=move |_| ka.created_open.set(false)>"Done"</button>
            </div>
        </Dialog>
    }
}

/// Whether the client page's viewer may change keys.
fn editor(d: &ClientVersionDetail) -> bool {
    d.header.can(domain::Permission::ClientEdit)
}

/// The client page's "API Key" card (the seed's layout), its body waiting in its own
/// `Transition`.
#[component]
pub fn ApiKeyCard(
    detail: Resource<Result<ClientVersionDetail, AppError>>,
    ka: KeyActions,
) -> impl IntoView {
    view! {
        <section class="card">
            <div class="card__header"><h2 class="card__title">"API Key"</h2></div>
            <div class="card__body">
                <Transition fallback=|| view! { <SkeletonRows rows=2 /> }>
                    {move || Suspend::new(async move {
                        match detail.await {
                            Ok(d) => {
                                let can_edit = editor(&d);
                                view! { <ApiKeyPanel keys=d.keys can_edit ka /> }.into_any()
                            }
                            Err(_) => ().into_any(),
                        }
                    })}
                </Transition>
            </div>
        </section>
    }
}

/// The client page's Keys card: every key with its state, Add key, Show and Revoke.
#[component]
pub fn KeysCard(
    detail: Resource<Result<ClientVersionDetail, AppError>>,
    ka: KeyActions,
) -> impl IntoView {
    view! {
        <section class="card card--flush keys-card" aria-labelledby="keys-title">
            <div class="card__header">
                <div class="keys-card__heading">
                    <h2 class="card__title" id="keys-title">"Keys"</h2>
                    <div class="keys-card__summary">
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                detail.await.ok().map(|d| summary(&d.keys, d.status))
                            })}
                        </Transition>
                    </div>
                </div>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match detail.await {
                            Ok(d) if editor(&d) => view! { <AddKeyButton ka /> }.into_any(),
                            _ => ().into_any(),
                        }
                    })}
                </Transition>
            </div>
            <div class="card__body">
                <Transition fallback=|| view! { <div class="keys-card__loading"><SkeletonRows rows=2 /></div> }>
                    {move || Suspend::new(async move {
                        match detail.await {
                            Ok(d) => {
                                let can_edit = editor(&d);
                                view! { <KeysTable keys=d.keys can_edit ka /> }.into_any()
                            }
                            Err(_) => ().into_any(),
                        }
                    })}
                </Transition>
            </div>
        </section>
    }
}

/// "2 working keys of 3 · keys work at the gateway once the version is registered".
fn summary(keys: &[ApiKeyDto], status: ClientStatus) -> String {
    let working = keys.iter().filter(|k| k.state.works()).count();
    let mut s = format!(
        "{working} working key{} of {}",
        if working == 1 { "" } else { "s" },
        keys.len()
    );
    if status != ClientStatus::Registered {
        s.push_str(" · keys work at the gateway once this version is registered");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn key(expires: Option<DateTime<Utc>>) -> ApiKeyDto {
        ApiKeyDto {
            id: 1,
            label: None,
            last4: "a1b2".into(),
            created_on: Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap(),
            created_by: "Ann".into(),
            expires_on: expires,
            revoked_on: None,
            last_used_on: None,
            state: KeyState::Active,
        }
    }

    #[test]
    fn datetime_local_values_are_read_as_utc() {
        let t = Utc.with_ymd_and_hms(2026, 12, 3, 14, 0, 0).unwrap();
        assert_eq!(parse_utc("2026-12-03T14:00"), Some(t));
        assert_eq!(parse_utc("2026-12-03T14:00:00"), Some(t));
        assert_eq!(parse_utc(""), None);
        assert_eq!(parse_utc("tomorrow"), None);
        assert_eq!(input_value(t), "2026-12-03T14:00");
    }

    #[test]
    fn a_replaced_key_ends_with_the_overlap_or_its_own_earlier_end() {
        let at = Utc.with_ymd_and_hms(2026, 12, 2, 8, 0, 0).unwrap();
        assert_eq!(
            replaced_until(Overlap::OneDay, &key(None), at),
            Some(at + Duration::days(1))
        );
        assert_eq!(replaced_until(Overlap::UntilRevoked, &key(None), at), None);
        let soon = at + Duration::hours(2);
        assert_eq!(
            replaced_until(Overlap::SevenDays, &key(Some(soon)), at),
            Some(soon)
        );
        assert_eq!(
            replaced_until(Overlap::UntilRevoked, &key(Some(soon)), at),
            Some(soon)
        );
    }

    #[test]
    fn moments_must_lie_ahead() {
        assert_eq!(check_moment("", false), Ok(None));
        assert!(check_moment("", true).is_err());
        assert!(check_moment("2020-01-01T00:00", false).is_err());
        let ahead = input_value(Utc::now() + Duration::days(3));
        assert!(check_moment(&ahead, true).unwrap().is_some());
    }
}
