use chrono::{DateTime, Utc};
use domain::dto::PAGE_SIZES;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

use crate::error::AppError;

/// "27 Nov 2026, 14:03 UTC".
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.format("%-d %b %Y, %H:%M UTC").to_string()
}

/// "27 Nov 2026".
pub fn format_date(t: &DateTime<Utc>) -> String {
    t.format("%-d %b %Y").to_string()
}

/// The moment in the browser (after hydration), or on the server.
pub fn now() -> DateTime<Utc> {
    #[cfg(feature = "hydrate")]
    {
        DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Utc::now()
    }
}

/// A labelled form field with hint and error, wired with `aria-describedby`.
#[component]
pub fn Field(
    /// Id of the input element inside.
    #[prop(into)]
    id: String,
    label: &'static str,
    #[prop(optional)] required: bool,
    #[prop(optional, into)] hint: MaybeProp<&'static str>,
    #[prop(into)] error: Signal<Option<String>>,
    children: Children,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field">
            <label class="field__label" for=id.clone()>
                {label}
                {required.then(|| view! { <span class="req" aria-hidden="true">" *"</span> })}
            </label>
            {children()}
            {hint.get_untracked().map(|h| view! { <p class="field__hint" id=hint_id>{h}</p> })}
            <p class="field__error" id=format!("{id}-error") role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}

/// A card with its title and a stacked body.
#[component]
pub fn Card(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="card">
            <div class="card__header">
                <h2 class="card__title">{title}</h2>
            </div>
            <div class="card__body stack">{children()}</div>
        </section>
    }
}

/// The `aria-describedby` value for a field made with [`Field`].
pub fn described_by(id: &str) -> String {
    format!("{id}-hint {id}-error")
}

/// An alert for an error that is not about one field. Sends signed-out users to sign in.
#[component]
pub fn ErrorAlert(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    let location = use_location();
    move || match error.get() {
        Some(AppError::Unauthenticated) => {
            let next = format!(
                "{}{}",
                location.pathname.get_untracked(),
                location.search.get_untracked()
            );
            let path = format!("/signin?next={}", urlencode(&next));
            view! { <Redirect path /> }.into_any()
        }
        Some(e) => match e.general() {
            Some(msg) => {
                view! { <div class="alert alert--error" role="alert">{msg}</div> }.into_any()
            }
            None => ().into_any(),
        },
        None => ().into_any(),
    }
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Shows the error of a failed load as a page-level message.
#[component]
pub fn LoadError(error: AppError) -> impl IntoView {
    let error = Signal::derive(move || Some(error.clone()));
    view! { <ErrorAlert error /> }
}

#[component]
pub fn SkeletonRows(#[prop(default = 3)] rows: usize) -> impl IntoView {
    view! {
        <div class="stack" aria-busy="true" aria-label="Loading">
            {(0..rows).map(|_| view! { <div class="skeleton skeleton--line"></div> }).collect_view()}
        </div>
    }
}

#[component]
pub fn EmptyState(
    #[prop(into)] message: String,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="empty-state">
            <p class="empty-state__title">{message}</p>
            {children.map(|c| c())}
        </div>
    }
}

/// A status badge; `modifier` is one of the `.badge--*` names.
#[component]
pub fn Badge(#[prop(into)] label: String, modifier: &'static str) -> impl IntoView {
    view! { <span class=format!("badge badge--{modifier}")>{label}</span> }
}

/// The numbered steps of a wizard; finished steps show ✓.
#[component]
pub fn Stepper(
    steps: &'static [&'static str],
    #[prop(into)] current: Signal<usize>,
) -> impl IntoView {
    view! {
        <ol class="stepper">
            {steps
                .iter()
                .enumerate()
                .map(|(i, label)| {
                    let class = move || {
                        let c = current.get();
                        if i < c {
                            "step step--done"
                        } else if i == c {
                            "step step--current"
                        } else {
                            "step"
                        }
                    };
                    view! {
                        <li class=class aria-current=move || (i == current.get()).then_some("step")>
                            <span class="step__num" aria-hidden="true">
                                {move || if i < current.get() { "✓".to_string() } else { (i + 1).to_string() }}
                            </span>
                            <span class="step__label">
                                <span class="visually-hidden">
                                    {move || if i < current.get() { "Done: " } else { "" }}
                                </span>
                                {*label}
                            </span>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}

/// "Items per page" and "1 of N" with previous/next buttons.
#[component]
pub fn Pager(
    page: RwSignal<u64>,
    per_page: RwSignal<u64>,
    #[prop(into)] total: Signal<u64>,
) -> impl IntoView {
    let pages = move || total.get().div_ceil(per_page.get().max(1));
    let shown_page = move || if total.get() == 0 { 1 } else { page.get() };
    view! {
        <div class="table-footer">
            <label class="row">
                <span class="muted">"Items per page:"</span>
                <select
                    class="select"
                    aria-label="Items per page"
                    on:change=move |ev| {
                        if let Ok(n) = event_target_value(&ev).parse::<u64>() {
                            per_page.set(n);
                            page.set(1);
                        }
                    }
                >
                    {PAGE_SIZES
                        .iter()
                        .map(|n| {
                            let n = *n;
                            view! {
                                <option value=n.to_string() selected=move || per_page.get() == n>
                                    {n.to_string()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <div class="pager">
                <span>{move || format!("{} of {}", shown_page(), pages())}</span>
                <button
                    class="icon-button--light"
                    aria-label="Previous page"
                    disabled=move || { page.get() <= 1 }
                    on:click=move |_| page.update(|p| *p = p.saturating_sub(1).max(1))
                >
                    "‹"
                </button>
                <button
                    class="icon-button--light"
                    aria-label="Next page"
                    disabled=move || { page.get() >= pages() }
                    on:click=move |_| page.update(|p| *p += 1)
                >
                    "›"
                </button>
            </div>
        </div>
    }
}

/// A confirmation dialog that names what happens. `on_confirm` runs when confirmed.
/// A modal dialog: a title, its content, closed by Escape or a click beside it.
#[component]
pub fn Dialog(
    open: RwSignal<bool>,
    #[prop(into)] title: Signal<String>,
    #[prop(default = "dialog")] role: &'static str,
    children: ChildrenFn,
) -> impl IntoView {
    let children = StoredValue::new(children);
    move || {
        open.get().then(|| {
            view! {
                <div class="dialog-backdrop" on:click=move |_| open.set(false)>
                    <div
                        class="dialog"
                        role=role
                        aria-modal="true"
                        aria-labelledby="dialog-title"
                        on:click=|ev| ev.stop_propagation()
                        on:keydown=move |ev| {
                            if ev.key() == "Escape" {
                                open.set(false);
                            }
                        }
                    >
                        <h2 class="dialog__title" id="dialog-title">{move || title.get()}</h2>
                        {children.with_value(|c| c())}
                    </div>
                </div>
            }
        })
    }
}

/// A dialog that asks to confirm a destructive or irreversible action.
#[component]
pub fn ConfirmDialog(
    open: RwSignal<bool>,
    #[prop(into)] title: Signal<String>,
    #[prop(into)] message: Signal<String>,
    #[prop(into)] confirm_label: Signal<String>,
    #[prop(into)] pending: Signal<bool>,
    on_confirm: impl Fn() + Send + Sync + 'static + Clone,
    #[prop(optional, into)] error: Signal<Option<AppError>>,
) -> impl IntoView {
    let on_confirm = StoredValue::new(on_confirm);
    view! {
        <Dialog open title role="alertdialog">
            <p>{move || message.get()}</p>
            <ErrorAlert error />
            <div class="dialog__actions">
                <button class="btn btn--secondary" on:click=move |_| open.set(false)>
                    "Cancel"
                </button>
                <button
                    class="btn btn--danger"
                    autofocus
                    disabled=move || pending.get()
                    on:click=move |_| on_confirm.with_value(|f| f())
                >
                    {move || confirm_label.get()}
                </button>
            </div>
        </Dialog>
    }
}

/// A button that opens a menu of actions below it.
#[component]
pub fn Menu(
    #[prop(into)] label: String,
    #[prop(default = "btn btn--secondary")] class: &'static str,
    children: ChildrenFn,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let children = StoredValue::new(children);
    view! {
        <div class="menu">
            <button
                class=class
                aria-haspopup="menu"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)
                on:keydown=move |ev| if ev.key() == "Escape" { open.set(false) }
            >
                {label}
                <span aria-hidden="true">" ▾"</span>
            </button>
            <Show when=move || open.get()>
                <div class="menu-backdrop" on:click=move |_| open.set(false)></div>
                <div class="menu__panel" role="menu" on:click=move |_| open.set(false)>
                    {children.with_value(|c| c())}
                </div>
            </Show>
        </div>
    }
}

/// A read-only value with a copy button and "Copied" feedback.
#[component]
pub fn CopyField(#[prop(into)] value: String, #[prop(into)] label: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let value = StoredValue::new(value);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let text = value.get_value();
            let clipboard = window().navigator().clipboard();
            let promise = clipboard.write_text(&text);
            leptos::task::spawn_local(async move {
                if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
                    copied.set(true);
                    set_timeout(move || copied.set(false), std::time::Duration::from_secs(2));
                }
            });
        }
    };
    view! {
        <div class="copy-field">
            <code class="copy-field__value" aria-label=label.clone()>{value.get_value()}</code>
            <button class="btn btn--secondary btn--sm copy-field__button" on:click=copy aria-label=format!("Copy {label}")>
                "Copy"
            </button>
            <span class="copy-field__status" role="status">{move || copied.get().then_some("Copied")}</span>
        </div>
    }
}

/// Moves the keyboard focus to the element with `id` (the first invalid field of a form).
pub fn focus(id: &str) {
    use wasm_bindgen::JsCast;
    if let Some(el) = document()
        .get_element_by_id(id)
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// Focuses the first of these elements that takes the focus (a disabled button does not).
pub fn focus_first_of(ids: &[String]) {
    for id in ids {
        focus(id);
        let focused = document().active_element().is_some_and(|el| el.id() == *id);
        if focused {
            return;
        }
    }
}
