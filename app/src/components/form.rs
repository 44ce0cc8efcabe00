//! The form kit: a form's field errors and the inputs that show them.
//!
//! A form checks what it can in the browser with the same `domain` parsers the server runs again,
//! and shows the server's answer next to its fields. [`FormErrors`] holds both: the form's own
//! messages (what did not parse when it was sent) and the server's field errors. A field's
//! message goes away as the user corrects the field: the form's own check runs again on every
//! change once it has failed, and a server message stays only until its field changes (it shows
//! again with the next answer).
//!
//! Error paths are the server's: `limit`, `ips[2]`, `rules[0].pathPattern`. A list's messages
//! (`ips`, `ips[2]`, …) can show under one input ([`FormErrors::under`]).

use std::sync::Arc;

use domain::FieldError;
use leptos::prelude::*;

use crate::components::ui::{Field, described_by, focus_first_of};
use crate::error::AppError;

/// The form's own check: the messages about what does not parse.
type Check = Arc<dyn Fn() -> Vec<FieldError> + Send + Sync>;

/// The field errors of one form: its own and the server's, each shown until its field changes.
#[derive(Clone, Copy)]
pub struct FormErrors {
    /// The form's own messages from the last time it was sent (or checked again).
    own: RwSignal<Vec<FieldError>>,
    /// The server's latest answer.
    server: Signal<Option<AppError>>,
    /// Fields changed since the last answer or check: their server messages no longer show.
    edited: RwSignal<Vec<String>>,
    check: StoredValue<Option<Check>>,
    /// The prefix of input ids: field `rules[0].path` has the input `{prefix}-rules-0-path`.
    prefix: &'static str,
}

impl FormErrors {
    /// The errors of a form whose server answer is `server`; its inputs' ids start with `prefix`.
    pub fn new(server: impl Into<Signal<Option<AppError>>>, prefix: &'static str) -> Self {
        let server = server.into();
        let errors = Self {
            own: RwSignal::new(Vec::new()),
            server,
            edited: RwSignal::new(Vec::new()),
            check: StoredValue::new(None),
            prefix,
        };
        // A new answer shows in full, whatever was edited before it.
        Effect::watch(
            move || server.track(),
            move |_, _, _| errors.edited.set(Vec::new()),
            false,
        );
        errors
    }

    /// Sets the form's own check, run again as the user edits while it has messages (see
    /// [`show_own`](Self::show_own)).
    pub fn on_check(self, check: impl Fn() -> Vec<FieldError> + Send + Sync + 'static) {
        self.check.set_value(Some(Arc::new(check)));
    }

    /// Shows what the form's own check found when the form was sent (nothing: the server's
    /// answer will show); the first invalid input gets the focus. True when it found nothing.
    pub fn show_own(self, found: Vec<FieldError>) -> bool {
        self.edited.set(Vec::new());
        let ok = found.is_empty();
        self.own.set(found);
        if !ok {
            self.focus_first();
        }
        ok
    }

    /// Forgets every message (the form starts again).
    pub fn reset(self) {
        self.own.set(Vec::new());
        self.edited.set(Vec::new());
        self.check.set_value(None);
    }

    /// The user changed `field` (or a whole list): its server messages go, and the form's own
    /// check runs again if it had found something.
    pub fn changed(self, field: &str) {
        if !self.edited.with_untracked(|e| e.iter().any(|f| f == field)) {
            self.edited.update(|e| e.push(field.to_owned()));
        }
        if self.own.with_untracked(|o| !o.is_empty())
            && let Some(check) = self.check.get_value()
        {
            self.own.set(check());
        }
    }

    /// Calls [`changed`](Self::changed) with `field` whenever `value` changes.
    pub fn watch(self, field: impl Fn() -> String + 'static, value: impl Track + 'static) {
        Effect::watch(
            move || value.track(),
            move |_, _, _| self.changed(&field()),
            false,
        );
    }

    /// Every message to show: the form's own when it has any, else the server's field errors,
    /// less those of fields changed since.
    pub fn all(self) -> Vec<FieldError> {
        let own = self.own.get();
        if !own.is_empty() {
            return own;
        }
        let server = match self.server.get() {
            Some(AppError::Invalid(v)) => v,
            Some(AppError::Conflict(f)) if !f.field.is_empty() => vec![f],
            _ => Vec::new(),
        };
        self.edited.with(|edited| {
            server
                .into_iter()
                .filter(|e| !edited.iter().any(|f| within(&e.field, f)))
                .collect()
        })
    }

    /// The message for exactly `field`, for an input that reports its changes itself
    /// ([`changed`](Self::changed), e.g. one a form posts by name).
    pub fn message(self, field: &'static str) -> Signal<Option<String>> {
        self.at(move || field.to_owned())
    }

    /// The message for exactly `field`, cleared as its `value` changes.
    pub fn field(self, field: &'static str, value: impl Track + 'static) -> Signal<Option<String>> {
        self.watch(move || field.to_owned(), value);
        self.at(move || field.to_owned())
    }

    /// The browser's own message about `field` (`own`, as the user types), else the server's,
    /// cleared as its `value` changes.
    pub fn field_or(
        self,
        field: &'static str,
        value: impl Track + 'static,
        own: impl Into<Signal<Option<String>>>,
    ) -> Signal<Option<String>> {
        let own = own.into();
        let server = self.field(field, value);
        Signal::derive(move || own.get().or_else(|| server.get()))
    }

    /// The message for a field whose path changes (rows of a list).
    pub fn at(self, field: impl Fn() -> String + Send + Sync + 'static) -> Signal<Option<String>> {
        Signal::derive(move || {
            let field = field();
            self.all()
                .into_iter()
                .find(|e| e.field == field)
                .map(|e| e.message)
        })
    }

    /// The messages about a list entered in one input (`ips` and `ips[2]`, …), cleared as its
    /// `value` changes.
    pub fn under(self, list: &'static str, value: impl Track + 'static) -> Signal<Option<String>> {
        self.watch(move || list.to_owned(), value);
        Signal::derive(move || {
            let messages: Vec<String> = self
                .all()
                .into_iter()
                .filter(|e| within(&e.field, list))
                .map(|e| e.message)
                .collect();
            (!messages.is_empty()).then(|| messages.join(" "))
        })
    }

    /// The id of the input of `field`: `rules[0].pathPattern` → `{prefix}-rules-0-pathPattern`.
    pub fn input_id(self, field: &str) -> String {
        format!(
            "{}-{}",
            self.prefix,
            field.replace('[', "-").replace(']', "").replace('.', "-")
        )
    }

    /// The id and message of a row's field `{list}[{index}].{field}`, cleared as `value` changes.
    pub fn row(
        self,
        list: &'static str,
        index: Signal<usize>,
        field: &'static str,
        value: impl Track + 'static,
    ) -> (Signal<String>, Signal<Option<String>>) {
        let path = move || format!("{list}[{}].{field}", index.get());
        self.watch(
            move || format!("{list}[{}].{field}", index.get_untracked()),
            value,
        );
        let id = Signal::derive(move || self.input_id(&path()));
        (id, self.at(path))
    }

    /// Focuses the input of the first message shown (or of its list, for `ips[2]`).
    pub fn focus_first(self) {
        self.focus_on(&untrack(|| self.all()));
    }

    /// Focuses the input of the first of these messages, once they show.
    pub fn focus_on(self, messages: &[FieldError]) {
        let Some(first) = messages.first() else {
            return;
        };
        let list = first.field.split(['[', '.']).next().unwrap_or_default();
        let ids = [self.input_id(&first.field), self.input_id(list)];
        request_animation_frame(move || focus_first_of(&ids));
    }
}

/// Whether `field` is `list` or one of its entries (`list[…]`, `list.…`).
pub fn within(field: &str, list: &str) -> bool {
    field
        .strip_prefix(list)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('[') || rest.starts_with('.'))
}

/// `aria-invalid` for an input with this error.
pub fn invalid(error: Signal<Option<String>>) -> impl Fn() -> Option<&'static str> + Send + Sync {
    move || error.get().map(|_| "true")
}

/// A text input bound to `value`, for a field made with [`Field`](crate::components::ui::Field).
/// With `input_type` "number" it takes whole numbers (from `min`, when given).
#[component]
pub fn TextInput(
    #[prop(into)] id: String,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] mono: bool,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(optional, into)] min: MaybeProp<&'static str>,
) -> impl IntoView {
    let number = input_type == "number";
    view! {
        <input
            class=if mono { "input mono" } else { "input" }
            aria-describedby=described_by(&id)
            id=id
            type=input_type
            min=move || min.get()
            step=number.then_some("1")
            inputmode=number.then_some("numeric")
            autocomplete="off"
            placeholder=placeholder
            aria-invalid=invalid(error)
            prop:value=move || value.get()
            on:input=move |ev| value.set(event_target_value(&ev))
        />
    }
}

/// A text area holding one entry per line.
#[component]
pub fn LinesInput(
    #[prop(into)] id: String,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
    #[prop(optional)] placeholder: &'static str,
    #[prop(default = 4)] rows: u32,
) -> impl IntoView {
    view! {
        <textarea
            class="textarea mono"
            aria-describedby=described_by(&id)
            id=id
            rows=rows.to_string()
            spellcheck="false"
            placeholder=placeholder
            aria-invalid=invalid(error)
            prop:value=move || value.get()
            on:input=move |ev| value.set(event_target_value(&ev))
        ></textarea>
    }
}

/// A labelled text input (or, with `lines`, a text area of that many rows holding one entry per
/// line, which shows the messages of all its entries) for `field`, with hint and message.
#[component]
pub fn TextField(
    errors: FormErrors,
    field: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(optional)] required: bool,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] mono: bool,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(optional)] min: Option<&'static str>,
    #[prop(optional)] lines: Option<u32>,
) -> impl IntoView {
    let id = errors.input_id(field);
    let error = match lines {
        Some(_) => errors.under(field, value),
        None => errors.field(field, value),
    };
    let input = match lines {
        Some(rows) => {
            view! { <LinesInput id=id.clone() value error placeholder rows /> }.into_any()
        }
        None => view! { <TextInput id=id.clone() value error placeholder mono input_type min /> }
            .into_any(),
    };
    view! {
        <Field id label required hint error>
            {input}
        </Field>
    }
}

/// A checkbox with its label beside it.
#[component]
pub fn Check(
    #[prop(into)] id: Signal<String>,
    label: &'static str,
    value: RwSignal<bool>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] class: &'static str,
    #[prop(optional, into)] error: Option<Signal<Option<String>>>,
) -> impl IntoView {
    view! {
        <div class=if class.is_empty() { "policy-check".to_owned() } else { format!("policy-check {class}") }>
            <input
                type="checkbox"
                id=move || id.get()
                aria-describedby=move || hint.map(|_| format!("{}-hint", id.get()))
                prop:checked=move || value.get()
                on:change=move |ev| value.set(event_target_checked(&ev))
            />
            <label for=move || id.get()>{label}</label>
            {hint.map(|h| view! { <p class="field__hint" id=move || format!("{}-hint", id.get())>{h}</p> })}
            {error.map(|e| view! { <p class="field__error" role="alert">{move || e.get()}</p> })}
        </div>
    }
}

/// Checkboxes side by side, and the message about any of them.
#[component]
pub fn CheckGroup(error: Signal<Option<String>>, children: Children) -> impl IntoView {
    view! {
        <div class="policy-form__checks">
            {children()}
            <p class="field__error" role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}

/// A select bound to `value`: each option's value attribute and label. `row`: inside a
/// [`RowField`] (described by its error only).
#[component]
pub fn Choice<T>(
    #[prop(into)] id: Signal<String>,
    value: RwSignal<T>,
    options: Vec<(T, String, String)>,
    #[prop(optional, into)] error: Option<Signal<Option<String>>>,
    #[prop(optional)] row: bool,
) -> impl IntoView
where
    T: Clone + PartialEq + Send + Sync + 'static,
{
    let current = value.get_untracked();
    let error = error.unwrap_or_else(|| Signal::derive(|| None));
    let options = StoredValue::new(options);
    view! {
        <select
            class="select"
            id=move || id.get()
            aria-describedby=move || {
                let id = id.get();
                if row { format!("{id}-error") } else { described_by(&id) }
            }
            aria-invalid=invalid(error)
            on:change=move |ev| {
                let v = event_target_value(&ev);
                if let Some(t) = options.with_value(|o| o.iter().find(|(_, s, _)| *s == v).map(|(t, _, _)| t.clone())) {
                    value.set(t);
                }
            }
        >
            {options
                .get_value()
                .into_iter()
                .map(|(t, v, label)| {
                    view! {
                        <option value=v selected=t == current>
                            {label}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}

/// Options whose value attribute is their label.
pub fn labelled<T: Copy>(
    items: impl IntoIterator<Item = T>,
    label: impl Fn(T) -> &'static str,
) -> Vec<(T, String, String)> {
    items
        .into_iter()
        .map(|t| (t, label(t).to_owned(), label(t).to_owned()))
        .collect()
}

/// A labelled field inside a row of a list, whose id follows the row's position.
#[component]
pub fn RowField(
    #[prop(into)] id: Signal<String>,
    label: &'static str,
    error: Signal<Option<String>>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="field">
            <label class="field__label" for=move || id.get()>
                {label}
            </label>
            {children()}
            <p class="field__error" id=move || format!("{}-error", id.get()) role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}

/// A labelled text input (or, with `lines`, a text area of that many rows) for the field
/// `{list}[{index}].{field}` of a row, with its message.
#[component]
pub fn RowInput(
    errors: FormErrors,
    list: &'static str,
    index: Signal<usize>,
    field: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] mono: bool,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] min: Option<&'static str>,
    #[prop(optional)] max: Option<&'static str>,
    #[prop(optional)] lines: Option<u32>,
    /// Another field of the row whose message shows here too (`passwordHash` under `password`).
    #[prop(optional)]
    also: Option<&'static str>,
) -> impl IntoView {
    let (id, own) = errors.row(list, index, field, value);
    let other = also.map(|f| errors.row(list, index, f, value).1);
    let error = Signal::derive(move || own.get().or_else(|| other.and_then(|o| o.get())));
    let class = if mono { "input mono" } else { "input" };
    let input = match lines {
        Some(rows) => view! {
            <textarea
                class="textarea mono"
                id=move || id.get()
                rows=rows.to_string()
                spellcheck="false"
                placeholder=placeholder
                aria-describedby=move || format!("{}-error", id.get())
                aria-invalid=invalid(error)
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            ></textarea>
        }
        .into_any(),
        None => view! {
            <input
                class=class
                id=move || id.get()
                type=input_type
                min=min
                max=max
                autocomplete=autocomplete
                placeholder=placeholder
                aria-describedby=move || format!("{}-error", id.get())
                aria-invalid=invalid(error)
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        }
        .into_any(),
    };
    view! {
        <RowField id label error>
            {input}
        </RowField>
    }
}

/// A labelled select for the field `{list}[{index}].{field}` of a row, with its message.
#[component]
pub fn RowSelect<T>(
    errors: FormErrors,
    list: &'static str,
    index: Signal<usize>,
    field: &'static str,
    label: &'static str,
    value: RwSignal<T>,
    options: Vec<(T, String, String)>,
) -> impl IntoView
where
    T: Clone + PartialEq + Send + Sync + 'static,
{
    let (id, error) = errors.row(list, index, field, value);
    view! {
        <RowField id label error>
            <Choice id value options error row=true />
        </RowField>
    }
}

/// Rows of a list in a form (rules, headers, identities): each with its fields and a Remove
/// button, then "Add …". Adding or removing a row counts as a change of the whole list.
#[component]
pub fn Rows<R>(
    errors: FormErrors,
    /// The list's field ("rules"): its own messages show under the rows.
    list: &'static str,
    rows: RwSignal<Vec<(usize, R)>>,
    new_row: fn() -> R,
    render: fn(FormErrors, R, Signal<usize>) -> AnyView,
    /// "rule", "header", "identity".
    noun: &'static str,
    add_label: &'static str,
    #[prop(optional)] empty: &'static str,
) -> impl IntoView
where
    R: Clone + Send + Sync + 'static,
{
    let error = errors.at(move || list.to_owned());
    let add = move |_| {
        rows.update(|v| {
            let key = v.iter().map(|(k, _)| *k + 1).max().unwrap_or(0);
            v.push((key, new_row()));
        });
        errors.changed(list);
    };
    view! {
        <div class="policy-rows">
            <For each=move || rows.get() key=|(k, _)| *k let:row>
                {
                    let (key, data) = row;
                    let index = Signal::derive(move || {
                        rows.with(|v| v.iter().position(|(k, _)| *k == key).unwrap_or(0))
                    });
                    view! {
                        <div
                            class="policy-rows__row"
                            role="group"
                            aria-label=move || format!("{} {}", capitalise(noun), index.get() + 1)
                        >
                            <div class="policy-rows__fields">{render(errors, data, index)}</div>
                            <button
                                type="button"
                                class="btn btn--ghost btn--sm policy-rows__remove"
                                aria-label=move || format!("Remove {noun} {}", index.get() + 1)
                                on:click=move |_| {
                                    rows.update(|v| v.retain(|(k, _)| *k != key));
                                    errors.changed(list);
                                }
                            >
                                "Remove"
                            </button>
                        </div>
                    }
                }
            </For>
            {move || {
                (rows.with(Vec::is_empty) && !empty.is_empty())
                    .then(|| view! { <p class="muted policy-rows__empty">{empty}</p> })
            }}
            <p class="field__error" role="alert">
                {move || error.get()}
            </p>
            <div>
                <button type="button" class="btn btn--secondary btn--sm" on:click=add>
                    <span aria-hidden="true">"+ "</span>
                    {add_label}
                </button>
            </div>
        </div>
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Numbers the rows of a list for [`Rows`].
pub fn keyed<R>(items: impl IntoIterator<Item = R>) -> Vec<(usize, R)> {
    items.into_iter().enumerate().collect()
}

/// The rows of `stored`, or one `new_row` when there are none (a list starts with one row).
pub fn keyed_or_one<T, R>(stored: Vec<T>, row: fn(T) -> R, new_row: fn() -> R) -> Vec<(usize, R)> {
    if stored.is_empty() {
        keyed([new_row()])
    } else {
        keyed(stored.into_iter().map(row))
    }
}

/// The value of each row, in order.
pub fn collect_rows<R, T>(rows: RwSignal<Vec<(usize, R)>>, read: impl Fn(&R) -> T) -> Vec<T>
where
    R: Send + Sync + 'static,
{
    rows.with_untracked(|v| v.iter().map(|(_, r)| read(r)).collect())
}

/// The non-empty lines of a text area, trimmed.
pub fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The words of a list typed on one line, separated by commas or spaces (roles, scopes).
pub fn words(text: &str) -> Vec<String> {
    text.split([',', ' ', '\t'])
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A trimmed text, or nothing when blank.
pub fn optional(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// Reads a whole number, or records `message` on `field`.
pub fn number<N: std::str::FromStr>(
    text: &str,
    field: impl Into<String>,
    message: &str,
    errors: &mut Vec<FieldError>,
) -> Option<N> {
    let n = text.trim().parse::<N>().ok();
    if n.is_none() {
        errors.push(FieldError::new(field.into(), message.to_owned()));
    }
    n
}

/// Reads a whole number, or says `message` about `field`.
pub fn whole<N: std::str::FromStr>(
    text: &str,
    field: &str,
    message: &str,
) -> Result<N, Vec<FieldError>> {
    let mut errors = Vec::new();
    number(text, field, message, &mut errors).ok_or(errors)
}

/// Whether a text is empty but for white space (an optional number left out).
pub fn blank(text: &str) -> bool {
    text.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_holds_its_entries() {
        assert!(within("ips", "ips"));
        assert!(within("ips[2]", "ips"));
        assert!(within("rules[0].pathPattern", "rules"));
        assert!(!within("ipHeader", "ips"));
    }

    #[test]
    fn numbers_read_or_say_why_not() {
        let mut errors = Vec::new();
        assert_eq!(
            number::<u64>(" 5 ", "limit", "Enter a number.", &mut errors),
            Some(5)
        );
        assert_eq!(
            number::<u64>("x", "limit", "Enter a number.", &mut errors),
            None
        );
        assert_eq!(errors, vec![FieldError::new("limit", "Enter a number.")]);
        assert_eq!(whole::<u32>("600", "maxAge", "No."), Ok(600));
        assert!(blank("  "));
    }
}
