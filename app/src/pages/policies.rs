//! The Policies tab of client, plan and API versions: the ordered list (Edit, Remove, reorder by
//! drag and drop or with Move up / Move down), the Add Policy wizard (1 choose a definition,
//! 2 configure it) and the Edit Policy dialog, which share one form per policy definition, and the
//! API page's "Effective policy chain".
//!
//! The forms build the configuration from the typed structs of `domain::policy` and send it as
//! JSON; the server validates it and answers with per-field errors (camelCase JSON paths such as
//! `limit` or `rules[0].pathPattern`), shown next to their inputs.

use std::str::FromStr;
use std::sync::Arc;

use domain::FieldError;
use domain::dto::{
    ApiVersionDetail, ClientVersionDetail, PlanChainDto, PlanVersionDetail, PolicyDefinitionDto,
    PolicyDto,
};
use domain::lifecycle::{ApiPart, change_api, change_plan_policies};
use domain::policy::{
    AddHeader, ApplyTo, BASIC_AUTH, BasicAuth, CACHING, CORS, CacheRule, Caching, Cors, Direction,
    Granularity, IGNORED_RESOURCES, IP_ALLOWLIST, IP_BLOCKLIST, Identity, IgnoredResources, IpList,
    Limit, Period, QUOTA, RATE_LIMITING, ResourceRule, SIMPLE_HEADER, SimpleHeader, StripBy,
    StripHeader, TIME_RESTRICTED_ACCESS, TRANSFER_QUOTA, TimeRestricted, TimeRule, TransferQuota,
    URL_REWRITING, UrlRewriting,
};
use domain::{ClientStatus, Permission};
use leptos::ev::{DragEvent, SubmitEvent};
use leptos::prelude::*;
use leptos::serde_json;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::catalog::Kind;
use crate::api::policies::{
    AddPolicy, PolicyDefinitions, RemovePolicy, ReorderPolicies, UpdatePolicy, api_policy_chains,
    version_policies,
};
use crate::components::toast::use_toasts;
use crate::components::ui::{
    ConfirmDialog, Dialog, EmptyState, ErrorAlert, Field, LoadError, SkeletonRows, Stepper,
    described_by, focus,
};
use crate::error::AppError;
use crate::pages::entities::RouteParams;

/// The exact text of the link that opens the Add Policy wizard.
pub const ATTACH_POLICY: &str = "Click here to attach a new policy";

/// What the current user may do with the policies of a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyAccess {
    /// Add, edit, remove and reorder.
    pub editable: bool,
    /// Why not, or what to keep in mind (shown above the list).
    pub notice: Option<String>,
}

impl PolicyAccess {
    fn of(permitted: bool, frozen: Option<String>) -> Self {
        match (permitted, frozen) {
            (false, _) => Self {
                editable: false,
                notice: Some("You may view these policies but not change them.".to_owned()),
            },
            (true, Some(reason)) => Self {
                editable: false,
                notice: Some(reason),
            },
            (true, None) => Self {
                editable: true,
                notice: None,
            },
        }
    }

    fn read_only() -> Self {
        Self {
            editable: false,
            notice: None,
        }
    }
}

/// Client versions: clientEdit, and not retired. A registered version applies changes once it is
/// re-registered.
pub fn client_access(d: &ClientVersionDetail) -> PolicyAccess {
    let frozen = (d.status == ClientStatus::Retired).then(|| {
        "A retired client version cannot change; create a new version instead.".to_owned()
    });
    let mut access = PolicyAccess::of(d.header.can(Permission::ClientEdit), frozen);
    if access.editable && d.status == ClientStatus::Registered {
        access.notice = Some(
            "This version is registered: the gateway applies policy changes once you re-register it."
                .to_owned(),
        );
    }
    access
}

/// Plan versions: planEdit, and not locked.
pub fn plan_access(d: &PlanVersionDetail) -> PolicyAccess {
    PolicyAccess::of(
        d.header.can(Permission::PlanEdit),
        change_plan_policies(d.status).err().map(|r| r.0),
    )
}

/// API versions: apiEdit, and neither published nor retired.
pub fn api_access(d: &ApiVersionDetail) -> PolicyAccess {
    PolicyAccess::of(
        d.header.can(Permission::ApiEdit),
        change_api(d.status, ApiPart::Policies).err().map(|r| r.0),
    )
}

/// What the policy dialog is open for.
#[derive(Clone)]
enum Target {
    /// The wizard; the current policies (for "Position").
    Add(Vec<PolicyDto>),
    Edit(PolicyDto),
}

/// The Policies tab: `note` says where these policies run in the chain. `detail` is the page's
/// version resource, `access` reads from it what the user may change; every change reloads the
/// page's data (`reload`), so the header shows "Unpublished Changes" where that applies.
#[component]
pub fn PoliciesTab<T>(
    kind: Kind,
    p: RouteParams,
    detail: Resource<Result<T, AppError>>,
    access: fn(&T) -> PolicyAccess,
    reload: RwSignal<u32>,
    #[prop(into)] note: String,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
{
    let policies = Resource::new(
        move || (p.org.get(), p.id.get(), p.version.get(), reload.get()),
        move |(o, i, v, _)| version_policies(kind, o, i, v),
    );
    let definitions = ServerAction::<PolicyDefinitions>::new();
    let editor = RwSignal::new(None::<Target>);
    let editor_open = RwSignal::new(false);
    let to_remove = RwSignal::new(None::<PolicyDto>);
    let remove_open = RwSignal::new(false);
    let remove = ServerAction::<RemovePolicy>::new();
    let reorder = ServerAction::<ReorderPolicies>::new();
    // The buttons to focus again once a keyboard move has been saved and the list re-rendered.
    let refocus = StoredValue::new(None::<[String; 2]>);
    let toasts = use_toasts();

    let open_editor = Callback::new(move |target: Target| {
        if matches!(target, Target::Add(_))
            && !definitions
                .value()
                .with_untracked(|v| matches!(v, Some(Ok(_))))
        {
            definitions.dispatch(PolicyDefinitions {});
        }
        editor.set(Some(target));
        editor_open.set(true);
    });
    let ask_remove = Callback::new(move |policy: PolicyDto| {
        remove.clear();
        to_remove.set(Some(policy));
        remove_open.set(true);
    });
    let save_order = Callback::new(move |ids: Vec<i64>| {
        reorder.dispatch(ReorderPolicies {
            kind,
            org: p.org.get_untracked(),
            id: p.id.get_untracked(),
            version: p.version.get_untracked(),
            ids,
        });
    });

    Effect::new(move |_| {
        if let Some(Ok(())) = remove.value().get() {
            remove_open.set(false);
            toasts.success("Policy removed.");
            reload.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| match reorder.value().get() {
        Some(Ok(_)) => reload.update(|n| *n += 1),
        Some(Err(e)) => {
            refocus.set_value(None);
            toasts.error(e.message());
            // Back to the stored order.
            reload.update(|n| *n += 1);
        }
        None => {}
    });
    Effect::new(move |_| {
        if matches!(policies.get(), Some(Ok(_)))
            && let Some(ids) = refocus.get_value()
        {
            refocus.set_value(None);
            request_animation_frame(move || focus_first_of(&ids));
        }
    });

    let note = StoredValue::new(note);
    let dialog_title = Signal::derive(move || match editor.get() {
        Some(Target::Edit(_)) => "Edit Policy".to_owned(),
        _ => "Add Policy".to_owned(),
    });
    view! {
        <section class="card">
            <div class="card__header">
                <h2 class="card__title">"Policies"</h2>
            </div>
            <div class="card__body stack">
                <p class="muted policy-note">{note.get_value()}</p>
                <Transition fallback=|| view! { <SkeletonRows rows=3 /> }>
                    {move || Suspend::new(async move {
                        let access = detail
                            .await
                            .map_or_else(|_| PolicyAccess::read_only(), |d| access(&d));
                        match policies.await {
                            Err(e) => view! { <LoadError error=e /> }.into_any(),
                            Ok(list) => view! {
                                <PolicyList
                                    list
                                    access
                                    open_editor
                                    ask_remove
                                    save_order
                                    saving=reorder.pending()
                                    refocus
                                />
                            }
                            .into_any(),
                        }
                    })}
                </Transition>
            </div>
        </section>
        <Dialog open=editor_open title=dialog_title>
            {move || {
                editor
                    .get()
                    .map(|target| {
                        view! {
                            <PolicyEditor kind p target open=editor_open reload definitions />
                        }
                    })
            }}
        </Dialog>
        <ConfirmDialog
            open=remove_open
            title="Remove policy"
            message=Signal::derive(move || {
                to_remove
                    .get()
                    .map(|p| {
                        format!(
                            "Remove the policy {} ({})? It stops applying to requests from now on.",
                            p.name,
                            p.description.trim_end_matches('.'),
                        )
                    })
                    .unwrap_or_default()
            })
            confirm_label="Remove policy"
            pending=remove.pending()
            error=Signal::derive(move || remove.value().get().and_then(Result::err))
            on_confirm=move || {
                if let Some(policy) = to_remove.get_untracked() {
                    remove
                        .dispatch(RemovePolicy {
                            kind,
                            org: p.org.get_untracked(),
                            id: p.id.get_untracked(),
                            version: p.version.get_untracked(),
                            policy_id: policy.id,
                        });
                }
            }
        />
    }
}

/// The ordered policies with their actions, or the empty state. Reordering shows the new order at
/// once and saves it (`save_order`).
#[component]
fn PolicyList(
    list: Vec<PolicyDto>,
    access: PolicyAccess,
    open_editor: Callback<Target>,
    ask_remove: Callback<PolicyDto>,
    save_order: Callback<Vec<i64>>,
    #[prop(into)] saving: Signal<bool>,
    refocus: StoredValue<Option<[String; 2]>>,
) -> impl IntoView {
    let editable = access.editable;
    let empty = list.is_empty();
    let rows = RwSignal::new(list);
    let dragging = RwSignal::new(None::<i64>);
    let over = RwSignal::new(None::<i64>);
    let index_of = move |id: i64| rows.with(|r| r.iter().position(|p| p.id == id));
    let move_item = move |from: usize, to: usize| {
        if from == to {
            return;
        }
        rows.update(|r| {
            let item = r.remove(from);
            r.insert(to.min(r.len()), item);
        });
        save_order.run(rows.with_untracked(|r| r.iter().map(|p| p.id).collect()));
    };
    let add = move |_| open_editor.run(Target::Add(rows.get_untracked()));
    let notice = access.notice.clone();
    view! {
        {notice.map(|n| view! { <p class="alert alert--info policy-notice">{n}</p> })}
        {if empty {
            view! {
                <EmptyState message="No policies attached">
                    {editable
                        .then(|| {
                            view! {
                                <button type="button" class="link-button" on:click=add>
                                    {ATTACH_POLICY}
                                </button>
                            }
                        })}
                </EmptyState>
            }
                .into_any()
        } else {
            view! {
                <ol class="policy-list" aria-label="Policies, in the order they run">
                    <For each=move || rows.get() key=|p| p.id let:policy>
                        {
                            let id = policy.id;
                            let name = policy.name.clone();
                            let index = Signal::derive(move || index_of(id).unwrap_or(0));
                            let count = move || rows.with(Vec::len);
                            let row_class = move || {
                                let mut class = String::from("policy-row");
                                if editable {
                                    class.push_str(" policy-row--draggable");
                                }
                                if dragging.get() == Some(id) {
                                    class.push_str(" policy-row--dragging");
                                }
                                if over.get() == Some(id)
                                    && let Some(from) = dragging.get().and_then(index_of)
                                    && from != index.get()
                                {
                                    class.push_str(if from < index.get() {
                                        " policy-row--drop-after"
                                    } else {
                                        " policy-row--drop-before"
                                    });
                                }
                                class
                            };
                            let up_id = format!("policy-{id}-up");
                            let down_id = format!("policy-{id}-down");
                            let keyboard_move = move |delta: isize, first: String, second: String| {
                                let from = index.get_untracked();
                                let Some(to) = from.checked_add_signed(delta) else { return };
                                if to >= rows.with_untracked(Vec::len) {
                                    return;
                                }
                                refocus.set_value(Some([first, second]));
                                move_item(from, to);
                            };
                            let (up_first, up_second) = (up_id.clone(), down_id.clone());
                            let (down_first, down_second) = (down_id.clone(), up_id.clone());
                            let for_edit = policy.clone();
                            let for_remove = policy.clone();
                            view! {
                                <li
                                    class=row_class
                                    draggable=if editable { "true" } else { "false" }
                                    on:dragstart=move |ev: DragEvent| {
                                        if editable {
                                            dragging.set(Some(id));
                                            start_drag(&ev, id);
                                        }
                                    }
                                    on:dragover=move |ev: DragEvent| {
                                        if dragging.get_untracked().is_some() {
                                            ev.prevent_default();
                                            if over.get_untracked() != Some(id) {
                                                over.set(Some(id));
                                            }
                                        }
                                    }
                                    on:drop=move |ev: DragEvent| {
                                        ev.prevent_default();
                                        if let Some(from) = dragging.get_untracked().and_then(index_of) {
                                            move_item(from, index.get_untracked());
                                        }
                                        dragging.set(None);
                                        over.set(None);
                                    }
                                    on:dragend=move |_| {
                                        dragging.set(None);
                                        over.set(None);
                                    }
                                >
                                    {editable
                                        .then(|| {
                                            view! {
                                                <span class="policy-row__handle" aria-hidden="true" title="Drag to reorder">
                                                    "⠿"
                                                </span>
                                            }
                                        })}
                                    <span class="policy-row__index" aria-hidden="true">
                                        {move || (index.get() + 1).to_string()}
                                    </span>
                                    <div class="policy-row__main">
                                        <div class="policy-row__title">
                                            <span class="policy-row__name">{policy.name.clone()}</span>
                                            <CategoryBadge category=policy.category.clone() />
                                        </div>
                                        <p class="policy-row__description">{policy.description.clone()}</p>
                                    </div>
                                    {editable
                                        .then(|| {
                                            let name = name.clone();
                                            view! {
                                                <div class="policy-row__actions">
                                                    <button
                                                        type="button"
                                                        class="btn btn--ghost btn--sm policy-row__move"
                                                        id=up_id.clone()
                                                        aria-label=format!("Move {name} up")
                                                        title="Move up"
                                                        disabled=move || index.get() == 0 || saving.get()
                                                        on:click=move |_| keyboard_move(-1, up_first.clone(), up_second.clone())
                                                    >
                                                        <span aria-hidden="true">"↑"</span>
                                                    </button>
                                                    <button
                                                        type="button"
                                                        class="btn btn--ghost btn--sm policy-row__move"
                                                        id=down_id.clone()
                                                        aria-label=format!("Move {name} down")
                                                        title="Move down"
                                                        disabled={move || index.get() + 1 >= count() || saving.get()}
                                                        on:click=move |_| keyboard_move(1, down_first.clone(), down_second.clone())
                                                    >
                                                        <span aria-hidden="true">"↓"</span>
                                                    </button>
                                                    <button
                                                        type="button"
                                                        class="btn btn--secondary btn--sm"
                                                        aria-label=format!("Edit {name}")
                                                        on:click=move |_| open_editor.run(Target::Edit(for_edit.clone()))
                                                    >
                                                        "Edit"
                                                    </button>
                                                    <button
                                                        type="button"
                                                        class="btn btn--ghost btn--sm policy-row__remove"
                                                        aria-label=format!("Remove {name}")
                                                        on:click=move |_| ask_remove.run(for_remove.clone())
                                                    >
                                                        "Remove"
                                                    </button>
                                                </div>
                                            }
                                        })}
                                </li>
                            }
                        }
                    </For>
                </ol>
                {editable
                    .then(|| {
                        view! {
                            <p class="policy-list__hint muted">
                                "Policies run from top to bottom. Drag a row, or use the arrows, to change the order."
                            </p>
                            <button type="button" class="policy-add" on:click=add>
                                <span class="policy-add__icon" aria-hidden="true">"+"</span>
                                {ATTACH_POLICY}
                            </button>
                        }
                    })}
            }
                .into_any()
        }}
    }
}

/// A policy category as a badge ("Security", "Limitation", …).
#[component]
fn CategoryBadge(#[prop(into)] category: String) -> impl IntoView {
    let modifier = match category.as_str() {
        "Security" => "security",
        "Limitation" => "limitation",
        "Modification" => "modification",
        _ => "other",
    };
    view! { <span class=format!("badge badge--category badge--{modifier}")>{category}</span> }
}

/// Starts an HTML5 drag (Firefox needs data on the transfer to start one).
fn start_drag(ev: &DragEvent, id: i64) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::JsValue;
        let Ok(transfer) = js_sys::Reflect::get(ev.as_ref(), &JsValue::from_str("dataTransfer"))
        else {
            return;
        };
        if transfer.is_object() {
            let _ = js_sys::Reflect::set(
                &transfer,
                &JsValue::from_str("effectAllowed"),
                &JsValue::from_str("move"),
            );
            if let Ok(set_data) = js_sys::Reflect::get(&transfer, &JsValue::from_str("setData"))
                && let Some(set_data) = set_data.dyn_ref::<js_sys::Function>()
            {
                let _ = set_data.call2(
                    &transfer,
                    &JsValue::from_str("text/plain"),
                    &JsValue::from_str(&id.to_string()),
                );
            }
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, id);
}

/// Focuses the first of these elements that takes the focus (a disabled button does not).
fn focus_first_of(ids: &[String]) {
    for id in ids {
        focus(id);
        let focused = document().active_element().is_some_and(|el| el.id() == *id);
        if focused {
            return;
        }
    }
}

/// The id of the input of a configuration field: `rules[0].pathPattern` → `pf-rules-0-pathPattern`.
fn input_id(field: &str) -> String {
    format!(
        "pf-{}",
        field.replace('[', "-").replace(']', "").replace('.', "-")
    )
}

/// Focuses the input of the first field error (or of its list, for `ips[2]`).
fn focus_first_error(errors: &[FieldError]) {
    if let Some(e) = errors.first() {
        let list = e.field.split(['[', '.']).next().unwrap_or_default();
        focus_first_of(&[input_id(&e.field), input_id(list)]);
    }
}

// ------------------------------------------------------------------------------------------------
// The Add Policy wizard and the Edit Policy dialog
// ------------------------------------------------------------------------------------------------

/// Builds the configuration JSON from a form, or says which fields do not read.
type Build = Arc<dyn Fn() -> Result<String, Vec<FieldError>> + Send + Sync>;

/// What a configuration form shares with the dialog around it.
#[derive(Clone, Copy)]
struct FormCtx {
    /// The messages to show: the form's own (numbers that do not read) or the server's.
    errors: Signal<Vec<FieldError>>,
    build: StoredValue<Option<Build>>,
    /// Editing a stored policy (not adding one).
    editing: bool,
}

impl FormCtx {
    fn on_build(self, f: impl Fn() -> Result<String, Vec<FieldError>> + Send + Sync + 'static) {
        self.build.set_value(Some(Arc::new(f)));
    }

    /// The message for exactly this field.
    fn error(self, field: &'static str) -> Signal<Option<String>> {
        self.error_at(move || field.to_owned())
    }

    /// The message for a field whose path changes (rows of a list).
    fn error_at(
        self,
        field: impl Fn() -> String + Send + Sync + 'static,
    ) -> Signal<Option<String>> {
        Signal::derive(move || {
            let field = field();
            self.errors.with(|e| {
                e.iter()
                    .find(|e| e.field == field)
                    .map(|e| e.message.clone())
            })
        })
    }

    /// The messages for a list entered one per line: `ips` and `ips[2]`, …
    fn errors_under(self, list: &'static str) -> Signal<Option<String>> {
        Signal::derive(move || {
            let messages: Vec<String> = self.errors.with(|e| {
                e.iter()
                    .filter(|e| within(&e.field, list))
                    .map(|e| e.message.clone())
                    .collect()
            });
            (!messages.is_empty()).then(|| messages.join(" "))
        })
    }
}

/// Whether `field` is `list` or one of its entries (`list[…]`, `list.…`).
fn within(field: &str, list: &str) -> bool {
    field
        .strip_prefix(list)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('[') || rest.starts_with('.'))
}

/// The configuration fields a definition's form shows next to inputs; errors on any other field
/// are listed above the buttons.
fn shown_fields(definition: &str) -> &'static [&'static str] {
    match definition {
        RATE_LIMITING | QUOTA => &["limit", "granularity", "header", "period"],
        TRANSFER_QUOTA => &["limit", "direction", "granularity", "header", "period"],
        IP_ALLOWLIST | IP_BLOCKLIST => &["ips", "responseCode", "ipHeader"],
        IGNORED_RESOURCES | TIME_RESTRICTED_ACCESS => &["rules"],
        CORS => &[
            "allowOrigins",
            "allowMethods",
            "allowHeaders",
            "exposeHeaders",
            "allowCredentials",
            "maxAge",
            "errorOnFailure",
        ],
        SIMPLE_HEADER => &["addHeaders", "stripHeaders"],
        URL_REWRITING => &[
            "fromRegex",
            "toReplacement",
            "processRequestUrl",
            "processRequestHeaders",
            "processResponseHeaders",
            "processBody",
        ],
        BASIC_AUTH => &["realm", "identities", "forwardIdentityHeader", "requireTls"],
        CACHING => &["ttlSeconds", "rules"],
        _ => &[],
    }
}

/// The definition being configured: id, name, category, and one line about it.
#[derive(Clone, PartialEq)]
struct Chosen {
    id: String,
    name: String,
    category: String,
    about: String,
}

const CATEGORIES: [&str; 4] = ["Security", "Limitation", "Modification", "Other"];

#[component]
fn PolicyEditor(
    kind: Kind,
    p: RouteParams,
    target: Target,
    open: RwSignal<bool>,
    reload: RwSignal<u32>,
    definitions: ServerAction<PolicyDefinitions>,
) -> impl IntoView {
    let add = ServerAction::<AddPolicy>::new();
    let update = ServerAction::<UpdatePolicy>::new();
    let toasts = use_toasts();
    let (editing, others) = match target {
        Target::Edit(policy) => (Some(policy), Vec::new()),
        Target::Add(list) => (None, list),
    };
    let is_edit = editing.is_some();
    let chosen = RwSignal::new(editing.as_ref().map(|p| Chosen {
        id: p.definition_id.clone(),
        name: p.name.clone(),
        category: p.category.clone(),
        about: p.description.clone(),
    }));
    let editing = StoredValue::new(editing);
    let others = StoredValue::new(others);
    let step = RwSignal::new(usize::from(is_edit));
    let filter = RwSignal::new(String::new());
    let position = RwSignal::new(String::new());
    let local = RwSignal::new(Vec::<FieldError>::new());
    let server_error = Signal::derive(move || {
        if is_edit {
            update.value().get().and_then(Result::err)
        } else {
            add.value().get().and_then(Result::err)
        }
    });
    let errors = Signal::derive(move || {
        let own = local.get();
        if !own.is_empty() {
            return own;
        }
        match server_error.get() {
            Some(AppError::Invalid(v)) => v,
            Some(AppError::Conflict(f)) if !f.field.is_empty() => vec![f],
            _ => Vec::new(),
        }
    });
    let build = StoredValue::new(None::<Build>);
    let ctx = FormCtx {
        errors,
        build,
        editing: is_edit,
    };
    let pending = Signal::derive(move || add.pending().get() || update.pending().get());

    Effect::new(move |_| {
        if let Some(Ok(_)) = add.value().get() {
            open.set(false);
            toasts.success("Policy added.");
            reload.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = update.value().get() {
            open.set(false);
            toasts.success("Policy saved.");
            reload.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(AppError::Invalid(errors)) = server_error.get() {
            request_animation_frame(move || focus_first_error(&errors));
        }
    });

    let choose = move |d: PolicyDefinitionDto| {
        add.clear();
        local.set(Vec::new());
        build.set_value(None);
        chosen.set(Some(Chosen {
            id: d.id,
            name: d.name,
            category: d.category,
            about: d.summary,
        }));
        step.set(1);
    };
    let back = move |_| {
        add.clear();
        local.set(Vec::new());
        build.set_value(None);
        chosen.set(None);
        step.set(0);
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(build) = build.get_value() else {
            return;
        };
        match build() {
            Err(errors) => {
                local.set(errors.clone());
                request_animation_frame(move || focus_first_error(&errors));
            }
            Ok(configuration) => {
                local.set(Vec::new());
                let (org, id, version) = (
                    p.org.get_untracked(),
                    p.id.get_untracked(),
                    p.version.get_untracked(),
                );
                if let Some(policy) = editing.get_value() {
                    update.dispatch(UpdatePolicy {
                        kind,
                        org,
                        id,
                        version,
                        policy_id: policy.id,
                        configuration,
                    });
                } else if let Some(c) = chosen.get_untracked() {
                    add.dispatch(AddPolicy {
                        kind,
                        org,
                        id,
                        version,
                        definition_id: c.id,
                        configuration,
                        position: position.get_untracked().parse().ok(),
                    });
                }
            }
        }
    };
    let unplaced = Signal::derive(move || {
        let shown = chosen.with(|c| c.as_ref().map_or(&[][..], |c| shown_fields(&c.id)));
        errors
            .get()
            .into_iter()
            .filter(|e| !shown.iter().any(|f| within(&e.field, f)))
            .map(|e| e.message)
            .collect::<Vec<_>>()
    });

    view! {
        <div class="policy-editor">
            {(!is_edit)
                .then(|| {
                    view! { <Stepper steps=&["Choose a policy", "Configure"] current=step /> }
                })}
            {move || {
                if step.get() == 0 {
                    view! { <Catalog definitions filter choose open /> }.into_any()
                } else {
                    let Some(c) = chosen.get() else { return ().into_any() };
                    let initial = editing.with_value(|e| e.as_ref().map(|p| p.configuration.clone()));
                    let form = config_form(&c.id, initial, ctx);
                    view! {
                        <form class="policy-editor__form" novalidate=true on:submit=submit>
                            <div class="policy-editor__chosen">
                                <div class="policy-row__title">
                                    <span class="policy-row__name">{c.name.clone()}</span>
                                    <CategoryBadge category=c.category.clone() />
                                </div>
                                <p class="muted">{c.about.clone()}</p>
                            </div>
                            {form}
                            {(!is_edit && !others.with_value(Vec::is_empty))
                                .then(|| {
                                    view! {
                                        <div class="field">
                                            <label class="field__label" for="pf-position">
                                                "Position"
                                            </label>
                                            <select
                                                class="select"
                                                id="pf-position"
                                                aria-describedby="pf-position-hint"
                                                on:change=move |ev| position.set(event_target_value(&ev))
                                            >
                                                <option value="" selected=true>
                                                    "At the end"
                                                </option>
                                                <option value="0">"First"</option>
                                                {others
                                                    .with_value(|list| {
                                                        let last = list.len().saturating_sub(1);
                                                        list
                                                            .iter()
                                                            .take(last)
                                                            .enumerate()
                                                            .map(|(i, p)| {
                                                                view! {
                                                                    <option value={(i + 1).to_string()}>
                                                                        {format!("After {}. {}", i + 1, p.name)}
                                                                    </option>
                                                                }
                                                            })
                                                            .collect_view()
                                                    })}
                                            </select>
                                            <p class="field__hint" id="pf-position-hint">
                                                "Policies run from top to bottom."
                                            </p>
                                        </div>
                                    }
                                })}
                            {move || {
                                let messages = unplaced.get();
                                (!messages.is_empty())
                                    .then(|| {
                                        view! {
                                            <div class="alert alert--error" role="alert">
                                                {messages
                                                    .into_iter()
                                                    .map(|m| view! { <p>{m}</p> })
                                                    .collect_view()}
                                            </div>
                                        }
                                    })
                            }}
                            <ErrorAlert error=server_error />
                            <div class="dialog__actions">
                                <div class="form-actions__left">
                                    <button
                                        type="button"
                                        class="btn btn--secondary"
                                        on:click=move |_| open.set(false)
                                    >
                                        "Cancel"
                                    </button>
                                </div>
                                {(!is_edit)
                                    .then(|| {
                                        view! {
                                            <button type="button" class="btn btn--secondary" on:click=back>
                                                "Back"
                                            </button>
                                        }
                                    })}
                                <button
                                    type="submit"
                                    class="btn btn--primary"
                                    disabled=move || pending.get()
                                >
                                    {if is_edit { "Save" } else { "Add Policy" }}
                                </button>
                            </div>
                        </form>
                    }
                        .into_any()
                }
            }}
        </div>
    }
}

/// Step 1 of the wizard: the definitions under their categories, with a filter.
#[component]
fn Catalog(
    definitions: ServerAction<PolicyDefinitions>,
    filter: RwSignal<String>,
    choose: impl Fn(PolicyDefinitionDto) + Copy + Send + Sync + 'static,
    open: RwSignal<bool>,
) -> impl IntoView {
    view! {
        <div class="field policy-catalog__filter">
            <label class="field__label" for="policy-filter">
                "Filter policies"
            </label>
            <input
                class="input"
                id="policy-filter"
                type="search"
                autocomplete="off"
                placeholder="e.g. limit, header, CORS"
                prop:value=move || filter.get()
                on:input=move |ev| filter.set(event_target_value(&ev))
            />
        </div>
        {move || match definitions.value().get() {
            None => view! { <SkeletonRows rows=4 /> }.into_any(),
            Some(Err(e)) => view! { <LoadError error=e /> }.into_any(),
            Some(Ok(all)) => {
                let needle = filter.get().trim().to_lowercase();
                let matches = |d: &PolicyDefinitionDto| {
                    needle.is_empty() || d.name.to_lowercase().contains(&needle)
                        || d.summary.to_lowercase().contains(&needle)
                        || d.category.to_lowercase().contains(&needle)
                };
                let groups: Vec<(&str, Vec<PolicyDefinitionDto>)> = CATEGORIES
                    .iter()
                    .map(|c| {
                        (
                            *c,
                            all
                                .iter()
                                .filter(|d| d.category == *c && matches(d))
                                .cloned()
                                .collect::<Vec<_>>(),
                        )
                    })
                    .filter(|(_, items)| !items.is_empty())
                    .collect();
                if groups.is_empty() {
                    return view! {
                        <p class="muted policy-catalog__none">
                            {format!("No policy matches “{}”.", filter.get_untracked().trim())}
                        </p>
                    }
                        .into_any();
                }
                groups
                    .into_iter()
                    .map(|(category, items)| {
                        let heading_id = format!("policy-category-{}", category.to_lowercase());
                        let labelled_by = heading_id.clone();
                        view! {
                            <section class="policy-catalog__group" aria-labelledby=labelled_by>
                                <h3 class="policy-catalog__heading" id=heading_id>
                                    {category}
                                </h3>
                                <ul class="policy-catalog__list">
                                    {items
                                        .into_iter()
                                        .map(|d| {
                                            let summary_id = format!("policy-def-{}-summary", d.id);
                                            let described = summary_id.clone();
                                            let (name, summary) = (d.name.clone(), d.summary.clone());
                                            let label = name.clone();
                                            view! {
                                                <li>
                                                    <button
                                                        type="button"
                                                        class="policy-choice"
                                                        aria-label=label
                                                        aria-describedby=described
                                                        on:click=move |_| choose(d.clone())
                                                    >
                                                        <span class="policy-choice__name">{name}</span>
                                                        <span class="policy-choice__summary" id=summary_id>
                                                            {summary}
                                                        </span>
                                                        <span class="policy-choice__chevron" aria-hidden="true">
                                                            "›"
                                                        </span>
                                                    </button>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            </section>
                        }
                    })
                    .collect_view()
                    .into_any()
            }
        }}
        <div class="dialog__actions">
            <button type="button" class="btn btn--secondary" on:click=move |_| open.set(false)>
                "Cancel"
            </button>
        </div>
    }
}

/// The form of a definition, filled from `initial` (the stored configuration) when editing.
fn config_form(definition: &str, initial: Option<String>, ctx: FormCtx) -> AnyView {
    let json = initial.as_deref();
    match definition {
        RATE_LIMITING => view! { <LimitForm ctx initial=from_json(json) quota=false /> }.into_any(),
        QUOTA => view! { <LimitForm ctx initial=from_json(json) quota=true /> }.into_any(),
        TRANSFER_QUOTA => view! { <TransferQuotaForm ctx initial=from_json(json) /> }.into_any(),
        IP_ALLOWLIST => view! { <IpListForm ctx initial=from_json(json) allow=true /> }.into_any(),
        IP_BLOCKLIST => view! { <IpListForm ctx initial=from_json(json) allow=false /> }.into_any(),
        IGNORED_RESOURCES => {
            view! { <IgnoredResourcesForm ctx initial=from_json(json) /> }.into_any()
        }
        TIME_RESTRICTED_ACCESS => {
            view! { <TimeRestrictedForm ctx initial=from_json(json) /> }.into_any()
        }
        CORS => view! { <CorsForm ctx initial=from_json(json) /> }.into_any(),
        SIMPLE_HEADER => view! { <SimpleHeaderForm ctx initial=from_json(json) /> }.into_any(),
        URL_REWRITING => view! { <UrlRewritingForm ctx initial=from_json(json) /> }.into_any(),
        BASIC_AUTH => view! { <BasicAuthForm ctx initial=from_json(json) /> }.into_any(),
        CACHING => view! { <CachingForm ctx initial=from_json(json) /> }.into_any(),
        other => view! {
            <p class="alert alert--warning">
                {format!("Policies of type '{other}' cannot be configured here.")}
            </p>
        }
        .into_any(),
    }
}

// ------------------------------------------------------------------------------------------------
// Form helpers
// ------------------------------------------------------------------------------------------------

fn from_json<T: DeserializeOwned>(json: Option<&str>) -> Option<T> {
    json.and_then(|j| serde_json::from_str(j).ok())
}

fn to_json<T: Serialize>(value: &T) -> Result<String, Vec<FieldError>> {
    serde_json::to_string(value).map_err(|e| {
        vec![FieldError::new(
            "configuration",
            format!("The configuration could not be written: {e}."),
        )]
    })
}

/// The non-empty lines of a text area, trimmed.
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A trimmed text, or nothing when blank.
fn optional(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// Reads a whole number, or records `message` on `field`.
fn number<N: FromStr>(
    text: &str,
    field: impl Into<String>,
    message: &str,
    errors: &mut Vec<FieldError>,
) -> Option<N> {
    match text.trim().parse::<N>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(FieldError::new(field.into(), message.to_owned()));
            None
        }
    }
}

/// The serialised name of a granularity.
fn granularity_value(g: Granularity) -> &'static str {
    match g {
        Granularity::Client => "Client",
        Granularity::Api => "Api",
        Granularity::Ip => "Ip",
        Granularity::User => "User",
    }
}

const GRANULARITIES: [Granularity; 4] = [
    Granularity::Client,
    Granularity::Api,
    Granularity::Ip,
    Granularity::User,
];

fn apply_to_value(a: ApplyTo) -> &'static str {
    match a {
        ApplyTo::Request => "request",
        ApplyTo::Response => "response",
        ApplyTo::Both => "both",
    }
}

fn apply_to_parse(s: &str) -> ApplyTo {
    match s {
        "response" => ApplyTo::Response,
        "both" => ApplyTo::Both,
        _ => ApplyTo::Request,
    }
}

const APPLY_TO: [(ApplyTo, &str); 3] = [
    (ApplyTo::Request, "Request"),
    (ApplyTo::Response, "Response"),
    (ApplyTo::Both, "Request and response"),
];

const METHODS: [&str; 8] = [
    "*", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
];

const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// `aria-invalid` for an input with this error.
fn invalid(error: Signal<Option<String>>) -> impl Fn() -> Option<&'static str> + Send + Sync {
    move || error.get().map(|_| "true")
}

/// A text input bound to `value`, for a field made with [`Field`]. With `input_type` "number"
/// it takes whole numbers (from `min`, when given).
#[component]
fn TextInput(
    id: &'static str,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] mono: bool,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(optional)] min: Option<&'static str>,
) -> impl IntoView {
    let number = input_type == "number";
    view! {
        <input
            class=if mono { "input mono" } else { "input" }
            id=id
            type=input_type
            min=min
            step=number.then_some("1")
            inputmode=number.then_some("numeric")
            autocomplete="off"
            placeholder=placeholder
            aria-describedby=described_by(id)
            aria-invalid=invalid(error)
            prop:value=move || value.get()
            on:input=move |ev| value.set(event_target_value(&ev))
        />
    }
}

/// A text area holding one entry per line.
#[component]
fn LinesInput(
    id: &'static str,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
    #[prop(optional)] placeholder: &'static str,
    #[prop(default = 4)] rows: u32,
) -> impl IntoView {
    view! {
        <textarea
            class="textarea mono"
            id=id
            rows=rows.to_string()
            spellcheck="false"
            placeholder=placeholder
            aria-describedby=described_by(id)
            aria-invalid=invalid(error)
            prop:value=move || value.get()
            on:input=move |ev| value.set(event_target_value(&ev))
        ></textarea>
    }
}

/// A checkbox with its label beside it.
#[component]
fn Check(
    id: &'static str,
    label: &'static str,
    value: RwSignal<bool>,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div class="policy-check">
            <input
                type="checkbox"
                id=id
                aria-describedby=hint.map(|_| format!("{id}-hint"))
                prop:checked=move || value.get()
                on:change=move |ev| value.set(event_target_checked(&ev))
            />
            <label for=id>{label}</label>
            {hint.map(|h| view! { <p class="field__hint" id=format!("{id}-hint")>{h}</p> })}
        </div>
    }
}

/// A labelled field inside a row of a list, whose id follows the row's position.
#[component]
fn RowField(
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

/// The id of a row's input: `pf-{list}-{index}-{field}`.
fn row_id(list: &'static str, index: Signal<usize>, field: &'static str) -> Signal<String> {
    Signal::derive(move || input_id(&format!("{list}[{}].{field}", index.get())))
}

/// The error of a row's field: `{list}[{index}].{field}`.
fn row_error(
    ctx: FormCtx,
    list: &'static str,
    index: Signal<usize>,
    field: &'static str,
) -> Signal<Option<String>> {
    ctx.error_at(move || format!("{list}[{}].{field}", index.get()))
}

/// A text input inside a row.
fn row_text(
    id: Signal<String>,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
    placeholder: &'static str,
    mono: bool,
) -> impl IntoView {
    view! {
        <input
            class=if mono { "input mono" } else { "input" }
            id=move || id.get()
            type="text"
            autocomplete="off"
            placeholder=placeholder
            aria-describedby=move || format!("{}-error", id.get())
            aria-invalid=invalid(error)
            prop:value=move || value.get()
            on:input=move |ev| value.set(event_target_value(&ev))
        />
    }
}

/// A select of HTTP methods (and `*`, any) inside a row; keeps a stored method not in the list.
fn method_select(
    id: Signal<String>,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let current = value.get_untracked();
    let mut methods: Vec<String> = METHODS.iter().map(|m| (*m).to_owned()).collect();
    if !current.is_empty() && !methods.iter().any(|m| m.eq_ignore_ascii_case(&current)) {
        methods.push(current.clone());
    }
    view! {
        <select
            class="select"
            id=move || id.get()
            aria-describedby=move || format!("{}-error", id.get())
            aria-invalid=invalid(error)
            on:change=move |ev| value.set(event_target_value(&ev))
        >
            {methods
                .into_iter()
                .map(|m| {
                    let selected = m.eq_ignore_ascii_case(&current);
                    let label = if m == "*" { "Any method".to_owned() } else { m.clone() };
                    view! {
                        <option value=m selected=selected>
                            {label}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}

/// Rows of a list in a form (rules, headers, identities): each with its fields and a Remove
/// button, then "Add …".
#[component]
fn Rows<R>(
    ctx: FormCtx,
    rows: RwSignal<Vec<(usize, R)>>,
    new_row: fn() -> R,
    render: fn(FormCtx, R, Signal<usize>) -> AnyView,
    /// "rule", "header", "identity".
    noun: &'static str,
    add_label: &'static str,
    /// Errors about the list as a whole ("rules").
    error: Signal<Option<String>>,
    #[prop(optional)] empty: &'static str,
) -> impl IntoView
where
    R: Clone + Send + Sync + 'static,
{
    let add = move |_| {
        rows.update(|v| {
            let key = v.iter().map(|(k, _)| *k + 1).max().unwrap_or(0);
            v.push((key, new_row()));
        })
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
                            <div class="policy-rows__fields">{render(ctx, data, index)}</div>
                            <button
                                type="button"
                                class="btn btn--ghost btn--sm policy-rows__remove"
                                aria-label=move || format!("Remove {noun} {}", index.get() + 1)
                                on:click=move |_| rows.update(|v| v.retain(|(k, _)| *k != key))
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
fn keyed<R>(items: impl IntoIterator<Item = R>) -> Vec<(usize, R)> {
    items.into_iter().enumerate().collect()
}

// ------------------------------------------------------------------------------------------------
// One form per definition
// ------------------------------------------------------------------------------------------------

/// Granularity, and the header naming the user when it is per user.
#[component]
fn GranularityFields(
    ctx: FormCtx,
    granularity: RwSignal<Granularity>,
    header: RwSignal<String>,
) -> impl IntoView {
    let current = granularity.get_untracked();
    let header_error = ctx.error("header");
    view! {
        <Field
            id="pf-granularity"
            label="Granularity"
            hint="What the limit counts per: each client, the whole API, each IP address, or each user."
            error=ctx.error("granularity")
        >
            <select
                class="select"
                id="pf-granularity"
                aria-describedby=described_by("pf-granularity")
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    if let Some(g) = GRANULARITIES.into_iter().find(|g| granularity_value(*g) == v) {
                        granularity.set(g);
                    }
                }
            >
                {GRANULARITIES
                    .into_iter()
                    .map(|g| {
                        view! {
                            <option value=granularity_value(g) selected=g == current>
                                {g.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </Field>
        <Show when=move || granularity.get() == Granularity::User>
            <Field
                id="pf-header"
                label="Header name"
                required=true
                hint="The request header that identifies the user, e.g. X-User-Id."
                error=header_error
            >
                <TextInput id="pf-header" value=header error=header_error placeholder="X-User-Id" mono=true />
            </Field>
        </Show>
    }
}

/// The period select: every period, or Hour and longer for quotas.
#[component]
fn PeriodField(ctx: FormCtx, period: RwSignal<Period>, calendar: bool) -> impl IntoView {
    let current = period.get_untracked();
    let periods: Vec<Period> = Period::ALL
        .into_iter()
        .filter(|p| !calendar || *p >= Period::Hour)
        .collect();
    let hint = if calendar {
        "Calendar periods in UTC: the count starts again at the start of each."
    } else {
        "The limit applies to any window of this length."
    };
    view! {
        <Field id="pf-period" label="Period" hint=hint error=ctx.error("period")>
            <select
                class="select"
                id="pf-period"
                aria-describedby=described_by("pf-period")
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    if let Some(p) = Period::ALL.into_iter().find(|p| p.label() == v) {
                        period.set(p);
                    }
                }
            >
                {periods
                    .into_iter()
                    .map(|p| {
                        view! {
                            <option value=p.label() selected=p == current>
                                {p.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </Field>
    }
}

fn user_header(granularity: Granularity, header: &str) -> Option<String> {
    (granularity == Granularity::User)
        .then(|| optional(header))
        .flatten()
}

/// Rate Limiting and Quota.
#[component]
fn LimitForm(ctx: FormCtx, initial: Option<Limit>, quota: bool) -> impl IntoView {
    let limit = RwSignal::new(
        initial
            .as_ref()
            .map(|l| l.limit.to_string())
            .unwrap_or_default(),
    );
    let granularity = RwSignal::new(
        initial
            .as_ref()
            .map_or(Granularity::Client, |l| l.granularity),
    );
    let header = RwSignal::new(
        initial
            .as_ref()
            .and_then(|l| l.header.clone())
            .unwrap_or_default(),
    );
    let default_period = if quota { Period::Month } else { Period::Minute };
    let period = RwSignal::new(initial.as_ref().map_or(default_period, |l| l.period));
    ctx.on_build(move || {
        let mut errors = Vec::new();
        let n = number::<u64>(
            &limit.get_untracked(),
            "limit",
            "Enter the number of requests, a whole number of at least 1.",
            &mut errors,
        );
        let Some(n) = n.filter(|_| errors.is_empty()) else {
            return Err(errors);
        };
        let g = granularity.get_untracked();
        to_json(&Limit {
            limit: n,
            granularity: g,
            header: user_header(g, &header.get_untracked()),
            period: period.get_untracked(),
        })
    });
    let limit_error = ctx.error("limit");
    view! {
        <div class="policy-form">
            <div class="policy-form__pair">
                <Field
                    id="pf-limit"
                    label="Limit"
                    required=true
                    hint="Requests allowed per period."
                    error=limit_error
                >
                    <TextInput id="pf-limit" value=limit error=limit_error placeholder="e.g. 100" input_type="number" min="1" />
                </Field>
                <PeriodField ctx period calendar=quota />
            </div>
            <GranularityFields ctx granularity header />
        </div>
    }
}

const BYTE_UNITS: [(u64, &str); 5] = [
    (1, "bytes"),
    (1 << 10, "KB"),
    (1 << 20, "MB"),
    (1 << 30, "GB"),
    (1 << 40, "TB"),
];

/// Transfer Quota.
#[component]
fn TransferQuotaForm(ctx: FormCtx, initial: Option<TransferQuota>) -> impl IntoView {
    // Show the stored byte count in the largest unit that divides it.
    let (amount, unit) = initial.as_ref().map_or((String::new(), 1 << 20), |t| {
        let unit = BYTE_UNITS
            .iter()
            .rev()
            .map(|(u, _)| *u)
            .find(|u| t.limit != 0 && t.limit % u == 0)
            .unwrap_or(1);
        ((t.limit / unit).to_string(), unit)
    });
    let amount = RwSignal::new(amount);
    let unit = RwSignal::new(unit);
    let direction = RwSignal::new(initial.as_ref().map_or(Direction::Both, |t| t.direction));
    let granularity = RwSignal::new(
        initial
            .as_ref()
            .map_or(Granularity::Client, |t| t.granularity),
    );
    let header = RwSignal::new(
        initial
            .as_ref()
            .and_then(|t| t.header.clone())
            .unwrap_or_default(),
    );
    let period = RwSignal::new(initial.as_ref().map_or(Period::Month, |t| t.period));
    ctx.on_build(move || {
        let mut errors = Vec::new();
        let n = number::<u64>(
            &amount.get_untracked(),
            "limit",
            "Enter the amount of data, a whole number of at least 1.",
            &mut errors,
        );
        let Some(n) = n.filter(|_| errors.is_empty()) else {
            return Err(errors);
        };
        let Some(bytes) = n.checked_mul(unit.get_untracked()) else {
            return Err(vec![FieldError::new("limit", "This limit is too large.")]);
        };
        let g = granularity.get_untracked();
        to_json(&TransferQuota {
            limit: bytes,
            direction: direction.get_untracked(),
            granularity: g,
            header: user_header(g, &header.get_untracked()),
            period: period.get_untracked(),
        })
    });
    let limit_error = ctx.error("limit");
    let current_unit = unit.get_untracked();
    let current_direction = direction.get_untracked();
    view! {
        <div class="policy-form">
            <div class="policy-form__pair">
                <Field id="pf-limit" label="Limit" required=true hint="Data allowed per period." error=limit_error>
                    <TextInput id="pf-limit" value=amount error=limit_error placeholder="e.g. 500" input_type="number" min="1" />
                </Field>
                <div class="field">
                    <label class="field__label" for="pf-unit">"Unit"</label>
                    <select
                        class="select"
                        id="pf-unit"
                        on:change=move |ev| {
                            if let Ok(u) = event_target_value(&ev).parse() {
                                unit.set(u);
                            }
                        }
                    >
                        {BYTE_UNITS
                            .iter()
                            .map(|(u, label)| {
                                view! {
                                    <option value=u.to_string() selected=*u == current_unit>
                                        {*label}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </div>
            </div>
            <Field id="pf-direction" label="Direction" error=ctx.error("direction")>
                <select
                    class="select"
                    id="pf-direction"
                    aria-describedby=described_by("pf-direction")
                    on:change=move |ev| {
                        direction
                            .set(
                                match event_target_value(&ev).as_str() {
                                    "upload" => Direction::Upload,
                                    "download" => Direction::Download,
                                    _ => Direction::Both,
                                },
                            )
                    }
                >
                    <option value="upload" selected=current_direction == Direction::Upload>
                        "Upload (request bodies)"
                    </option>
                    <option value="download" selected=current_direction == Direction::Download>
                        "Download (response bodies)"
                    </option>
                    <option value="both" selected=current_direction == Direction::Both>
                        "Upload and download"
                    </option>
                </select>
            </Field>
            <PeriodField ctx period calendar=true />
            <GranularityFields ctx granularity header />
        </div>
    }
}

/// IP Allowlist and IP Blocklist.
#[component]
fn IpListForm(ctx: FormCtx, initial: Option<IpList>, allow: bool) -> impl IntoView {
    let initial = initial.unwrap_or_default();
    let ips = RwSignal::new(initial.ips.join("\n"));
    let response_code = RwSignal::new(initial.response_code);
    let ip_header = RwSignal::new(initial.ip_header.clone().unwrap_or_default());
    ctx.on_build(move || {
        to_json(&IpList {
            ips: lines(&ips.get_untracked()),
            response_code: response_code.get_untracked(),
            ip_header: optional(&ip_header.get_untracked()),
        })
    });
    let ips_error = ctx.errors_under("ips");
    let header_error = ctx.error("ipHeader");
    let current = response_code.get_untracked();
    let ips_hint = if allow {
        "Only these may call. IPv4 or IPv6 addresses, CIDR blocks (10.0.0.0/8), ranges (10.0.0.1-10.0.0.9), or * for any."
    } else {
        "These are refused. IPv4 or IPv6 addresses, CIDR blocks (10.0.0.0/8), ranges (10.0.0.1-10.0.0.9), or * for any."
    };
    view! {
        <div class="policy-form">
            <Field id="pf-ips" label="IP addresses (one per line)" required=true hint=ips_hint error=ips_error>
                <LinesInput id="pf-ips" value=ips error=ips_error placeholder="192.168.1.10\n10.0.0.0/8" rows=5 />
            </Field>
            <Field
                id="pf-responseCode"
                label="Response code"
                hint="The status the gateway answers a refused request with."
                error=ctx.error("responseCode")
            >
                <select
                    class="select"
                    id="pf-responseCode"
                    aria-describedby=described_by("pf-responseCode")
                    on:change=move |ev| {
                        if let Ok(code) = event_target_value(&ev).parse() {
                            response_code.set(code);
                        }
                    }
                >
                    {[(403u16, "403 Forbidden"), (404, "404 Not Found"), (500, "500 Internal Server Error")]
                        .into_iter()
                        .map(|(code, label)| {
                            view! {
                                <option value=code.to_string() selected=code == current>
                                    {label}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </Field>
            <Field
                id="pf-ipHeader"
                label="Client IP header (optional)"
                hint="A header the proxy in front of the gateway sets to the caller's address, e.g. X-Forwarded-For (its last entry counts). Empty: the address of the connection."
                error=header_error
            >
                <TextInput id="pf-ipHeader" value=ip_header error=header_error placeholder="X-Forwarded-For" mono=true />
            </Field>
        </div>
    }
}

#[derive(Clone, Copy)]
struct RuleRow {
    verb: RwSignal<String>,
    path: RwSignal<String>,
}

fn rule_row(r: ResourceRule) -> RuleRow {
    RuleRow {
        verb: RwSignal::new(r.verb),
        path: RwSignal::new(r.path_pattern),
    }
}

/// Ignored Resources.
#[component]
fn IgnoredResourcesForm(ctx: FormCtx, initial: Option<IgnoredResources>) -> impl IntoView {
    let stored = initial.map(|i| i.rules).unwrap_or_default();
    let rules = RwSignal::new(keyed(if stored.is_empty() {
        vec![rule_row(ResourceRule::default())]
    } else {
        stored.into_iter().map(rule_row).collect()
    }));
    ctx.on_build(move || {
        to_json(&IgnoredResources {
            rules: rules.with_untracked(|v| {
                v.iter()
                    .map(|(_, r)| ResourceRule {
                        verb: r.verb.get_untracked(),
                        path_pattern: r.path.get_untracked().trim().to_owned(),
                    })
                    .collect()
            }),
        })
    });
    fn render(ctx: FormCtx, r: RuleRow, index: Signal<usize>) -> AnyView {
        let verb_id = row_id("rules", index, "verb");
        let verb_error = row_error(ctx, "rules", index, "verb");
        let path_id = row_id("rules", index, "pathPattern");
        let path_error = row_error(ctx, "rules", index, "pathPattern");
        view! {
            <RowField id=verb_id label="Method" error=verb_error>
                {method_select(verb_id, r.verb, verb_error)}
            </RowField>
            <RowField id=path_id label="Path pattern (regex)" error=path_error>
                {row_text(path_id, r.path, path_error, "/admin/.*", true)}
            </RowField>
        }
        .into_any()
    }
    view! {
        <div class="policy-form">
            <p class="field__hint">
                "Requests whose method and path match a rule are answered 404 Not Found. Patterns are regular expressions matched against the whole path after the API's address."
            </p>
            <Rows
                ctx
                rows=rules
                new_row=|| rule_row(ResourceRule::default())
                render
                noun="rule"
                add_label="Add rule"
                error=ctx.error("rules")
                empty="No rules yet."
            />
        </div>
    }
}

#[derive(Clone, Copy)]
struct TimeRow {
    start: RwSignal<String>,
    end: RwSignal<String>,
    day_start: RwSignal<u8>,
    day_end: RwSignal<u8>,
    path: RwSignal<String>,
}

fn time_row(r: TimeRule) -> TimeRow {
    TimeRow {
        start: RwSignal::new(r.time_start),
        end: RwSignal::new(r.time_end),
        day_start: RwSignal::new(r.day_start),
        day_end: RwSignal::new(r.day_end),
        path: RwSignal::new(r.path_pattern),
    }
}

fn new_time_row() -> TimeRow {
    time_row(TimeRule {
        time_start: "08:00".to_owned(),
        time_end: "18:00".to_owned(),
        day_start: 1,
        day_end: 5,
        path_pattern: ".*".to_owned(),
    })
}

fn day_select(
    id: Signal<String>,
    value: RwSignal<u8>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let current = value.get_untracked();
    view! {
        <select
            class="select"
            id=move || id.get()
            aria-describedby=move || format!("{}-error", id.get())
            aria-invalid=invalid(error)
            on:change=move |ev| {
                if let Ok(d) = event_target_value(&ev).parse() {
                    value.set(d);
                }
            }
        >
            {DAYS
                .iter()
                .zip(1u8..)
                .map(|(name, n)| {
                    view! {
                        <option value=n.to_string() selected=n == current>
                            {*name}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}

fn time_input(
    id: Signal<String>,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <input
            class="input"
            id=move || id.get()
            type="time"
            aria-describedby=move || format!("{}-error", id.get())
            aria-invalid=invalid(error)
            prop:value=move || value.get()
            on:input=move |ev| value.set(event_target_value(&ev))
        />
    }
}

/// Time Restricted Access.
#[component]
fn TimeRestrictedForm(ctx: FormCtx, initial: Option<TimeRestricted>) -> impl IntoView {
    let stored = initial.map(|t| t.rules).unwrap_or_default();
    let rules = RwSignal::new(keyed(if stored.is_empty() {
        vec![new_time_row()]
    } else {
        stored.into_iter().map(time_row).collect()
    }));
    ctx.on_build(move || {
        to_json(&TimeRestricted {
            rules: rules.with_untracked(|v| {
                v.iter()
                    .map(|(_, r)| TimeRule {
                        time_start: r.start.get_untracked(),
                        time_end: r.end.get_untracked(),
                        day_start: r.day_start.get_untracked(),
                        day_end: r.day_end.get_untracked(),
                        path_pattern: r.path.get_untracked().trim().to_owned(),
                    })
                    .collect()
            }),
        })
    });
    fn render(ctx: FormCtx, r: TimeRow, index: Signal<usize>) -> AnyView {
        let ids = ["timeStart", "timeEnd", "dayStart", "dayEnd", "pathPattern"]
            .map(|f| (row_id("rules", index, f), row_error(ctx, "rules", index, f)));
        let [
            (s_id, s_err),
            (e_id, e_err),
            (ds_id, ds_err),
            (de_id, de_err),
            (p_id, p_err),
        ] = ids;
        view! {
            <RowField id=s_id label="From (UTC)" error=s_err>
                {time_input(s_id, r.start, s_err)}
            </RowField>
            <RowField id=e_id label="To (UTC)" error=e_err>
                {time_input(e_id, r.end, e_err)}
            </RowField>
            <RowField id=ds_id label="From day" error=ds_err>
                {day_select(ds_id, r.day_start, ds_err)}
            </RowField>
            <RowField id=de_id label="To day" error=de_err>
                {day_select(de_id, r.day_end, de_err)}
            </RowField>
            <RowField id=p_id label="Path pattern (regex)" error=p_err>
                {row_text(p_id, r.path, p_err, ".*", true)}
            </RowField>
        }
        .into_any()
    }
    view! {
        <div class="policy-form">
            <p class="field__hint">
                "Matching paths are available only in these windows (times in UTC, both ends included); other requests are answered 423 Locked. Windows may wrap: 22:00 to 06:00, or Saturday to Monday."
            </p>
            <Rows
                ctx
                rows=rules
                new_row=new_time_row
                render
                noun="rule"
                add_label="Add rule"
                error=ctx.error("rules")
                empty="No rules yet."
            />
        </div>
    }
}

/// CORS.
#[component]
fn CorsForm(ctx: FormCtx, initial: Option<Cors>) -> impl IntoView {
    let initial = initial.unwrap_or_default();
    let origins = RwSignal::new(initial.allow_origins.join("\n"));
    let methods = RwSignal::new(initial.allow_methods.join("\n"));
    let headers = RwSignal::new(initial.allow_headers.join("\n"));
    let expose = RwSignal::new(initial.expose_headers.join("\n"));
    let credentials = RwSignal::new(initial.allow_credentials);
    let max_age = RwSignal::new(initial.max_age.map(|m| m.to_string()).unwrap_or_default());
    let error_on_failure = RwSignal::new(initial.error_on_failure);
    ctx.on_build(move || {
        let mut errors = Vec::new();
        let age = max_age.get_untracked();
        let max_age = if age.trim().is_empty() {
            None
        } else {
            number::<u32>(
                &age,
                "maxAge",
                "Enter a number of seconds, or leave it empty.",
                &mut errors,
            )
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        to_json(&Cors {
            allow_origins: lines(&origins.get_untracked()),
            allow_methods: lines(&methods.get_untracked()),
            allow_headers: lines(&headers.get_untracked()),
            expose_headers: lines(&expose.get_untracked()),
            allow_credentials: credentials.get_untracked(),
            max_age,
            error_on_failure: error_on_failure.get_untracked(),
        })
    });
    let (o_err, m_err, h_err, x_err) = (
        ctx.errors_under("allowOrigins"),
        ctx.errors_under("allowMethods"),
        ctx.errors_under("allowHeaders"),
        ctx.errors_under("exposeHeaders"),
    );
    let age_error = ctx.error("maxAge");
    let (credentials_error, failure_error) =
        (ctx.error("allowCredentials"), ctx.error("errorOnFailure"));
    let flags_error =
        Signal::derive(move || credentials_error.get().or_else(|| failure_error.get()));
    view! {
        <div class="policy-form">
            <Field
                id="pf-allowOrigins"
                label="Allowed origins (one per line)"
                required=true
                hint="* for any, or scheme://host[:port], e.g. https://app.example.com."
                error=o_err
            >
                <LinesInput id="pf-allowOrigins" value=origins error=o_err placeholder="https://app.example.com" rows=3 />
            </Field>
            <div class="policy-form__pair">
                <Field
                    id="pf-allowMethods"
                    label="Allowed methods (one per line)"
                    hint="Empty: GET, HEAD and POST. * allows any."
                    error=m_err
                >
                    <LinesInput id="pf-allowMethods" value=methods error=m_err placeholder="GET\nPUT" rows=3 />
                </Field>
                <Field
                    id="pf-allowHeaders"
                    label="Allowed request headers (one per line)"
                    hint="* allows any."
                    error=h_err
                >
                    <LinesInput id="pf-allowHeaders" value=headers error=h_err placeholder="Content-Type" rows=3 />
                </Field>
            </div>
            <Field
                id="pf-exposeHeaders"
                label="Exposed response headers (one per line)"
                hint="Response headers scripts in the browser may read."
                error=x_err
            >
                <LinesInput id="pf-exposeHeaders" value=expose error=x_err placeholder="X-Total-Count" rows=2 />
            </Field>
            <Field id="pf-maxAge" label="Max age (seconds, optional)" hint="How long a browser may cache a preflight answer." error=age_error>
                <TextInput id="pf-maxAge" value=max_age error=age_error placeholder="600" input_type="number" />
            </Field>
            <div class="policy-form__checks">
                <Check id="pf-allowCredentials" label="Allow credentials (cookies, Authorization header)" value=credentials />
                <Check
                    id="pf-errorOnFailure"
                    label="Refuse requests from other origins"
                    value=error_on_failure
                    hint="Answer 400 Bad Request instead of answering without CORS headers."
                />
                <p class="field__error" role="alert">
                    {move || flags_error.get()}
                </p>
            </div>
        </div>
    }
}

#[derive(Clone, Copy)]
struct AddRow {
    name: RwSignal<String>,
    value: RwSignal<String>,
    apply_to: RwSignal<ApplyTo>,
    overwrite: RwSignal<bool>,
}

fn add_row(h: AddHeader) -> AddRow {
    AddRow {
        name: RwSignal::new(h.name),
        value: RwSignal::new(h.value),
        apply_to: RwSignal::new(h.apply_to),
        overwrite: RwSignal::new(h.overwrite),
    }
}

#[derive(Clone, Copy)]
struct StripRow {
    by: RwSignal<StripBy>,
    pattern: RwSignal<String>,
    apply_to: RwSignal<ApplyTo>,
}

fn strip_row(h: StripHeader) -> StripRow {
    StripRow {
        by: RwSignal::new(h.by),
        pattern: RwSignal::new(h.pattern),
        apply_to: RwSignal::new(h.apply_to),
    }
}

fn apply_to_select(
    id: Signal<String>,
    value: RwSignal<ApplyTo>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let current = value.get_untracked();
    view! {
        <select
            class="select"
            id=move || id.get()
            aria-describedby=move || format!("{}-error", id.get())
            aria-invalid=invalid(error)
            on:change=move |ev| value.set(apply_to_parse(&event_target_value(&ev)))
        >
            {APPLY_TO
                .into_iter()
                .map(|(a, label)| {
                    view! {
                        <option value=apply_to_value(a) selected=a == current>
                            {label}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}

/// Simple Header.
#[component]
fn SimpleHeaderForm(ctx: FormCtx, initial: Option<SimpleHeader>) -> impl IntoView {
    let initial = initial.unwrap_or_default();
    let adds = RwSignal::new(keyed(
        if initial.add_headers.is_empty() && initial.strip_headers.is_empty() {
            vec![add_row(AddHeader::default())]
        } else {
            initial.add_headers.into_iter().map(add_row).collect()
        },
    ));
    let strips = RwSignal::new(keyed(initial.strip_headers.into_iter().map(strip_row)));
    ctx.on_build(move || {
        to_json(&SimpleHeader {
            add_headers: adds.with_untracked(|v| {
                v.iter()
                    .map(|(_, r)| AddHeader {
                        name: r.name.get_untracked().trim().to_owned(),
                        value: r.value.get_untracked(),
                        apply_to: r.apply_to.get_untracked(),
                        overwrite: r.overwrite.get_untracked(),
                    })
                    .collect()
            }),
            strip_headers: strips.with_untracked(|v| {
                v.iter()
                    .map(|(_, r)| StripHeader {
                        by: r.by.get_untracked(),
                        pattern: r.pattern.get_untracked().trim().to_owned(),
                        apply_to: r.apply_to.get_untracked(),
                    })
                    .collect()
            }),
        })
    });
    fn render_add(ctx: FormCtx, r: AddRow, index: Signal<usize>) -> AnyView {
        let fields = ["name", "value", "applyTo", "overwrite"].map(|f| {
            (
                row_id("addHeaders", index, f),
                row_error(ctx, "addHeaders", index, f),
            )
        });
        let [(n_id, n_err), (v_id, v_err), (a_id, a_err), (o_id, o_err)] = fields;
        view! {
            <RowField id=n_id label="Header name" error=n_err>
                {row_text(n_id, r.name, n_err, "X-Api-Version", true)}
            </RowField>
            <RowField id=v_id label="Value" error=v_err>
                {row_text(v_id, r.value, v_err, "v1", true)}
            </RowField>
            <RowField id=a_id label="Apply to" error=a_err>
                {apply_to_select(a_id, r.apply_to, a_err)}
            </RowField>
            <div class="policy-check policy-rows__check">
                <input
                    type="checkbox"
                    id=move || o_id.get()
                    prop:checked=move || r.overwrite.get()
                    on:change=move |ev| r.overwrite.set(event_target_checked(&ev))
                />
                <label for=move || o_id.get()>"Replace existing values"</label>
                <p class="field__error" role="alert">{move || o_err.get()}</p>
            </div>
        }
        .into_any()
    }
    fn render_strip(ctx: FormCtx, r: StripRow, index: Signal<usize>) -> AnyView {
        let fields = ["by", "pattern", "applyTo"].map(|f| {
            (
                row_id("stripHeaders", index, f),
                row_error(ctx, "stripHeaders", index, f),
            )
        });
        let [(b_id, b_err), (p_id, p_err), (a_id, a_err)] = fields;
        let by = r.by.get_untracked();
        view! {
            <RowField id=b_id label="Match" error=b_err>
                <select
                    class="select"
                    id=move || b_id.get()
                    on:change=move |ev| {
                        r.by.set(if event_target_value(&ev) == "value" { StripBy::Value } else { StripBy::Name })
                    }
                >
                    <option value="name" selected=by == StripBy::Name>"Header name"</option>
                    <option value="value" selected=by == StripBy::Value>"Header value"</option>
                </select>
            </RowField>
            <RowField id=p_id label="Pattern (regex)" error=p_err>
                {row_text(p_id, r.pattern, p_err, "X-Internal-.*", true)}
            </RowField>
            <RowField id=a_id label="Apply to" error=a_err>
                {apply_to_select(a_id, r.apply_to, a_err)}
            </RowField>
        }
        .into_any()
    }
    view! {
        <div class="policy-form">
            <fieldset class="policy-fieldset">
                <legend>"Add headers"</legend>
                <Rows
                    ctx
                    rows=adds
                    new_row=|| add_row(AddHeader::default())
                    render=render_add
                    noun="header"
                    add_label="Add header"
                    error=ctx.error("addHeaders")
                    empty="No headers are added."
                />
            </fieldset>
            <fieldset class="policy-fieldset">
                <legend>"Strip headers"</legend>
                <p class="field__hint">
                    "Removes headers whose name (any case) or value matches the pattern as a whole. Stripping happens before adding."
                </p>
                <Rows
                    ctx
                    rows=strips
                    new_row=|| strip_row(StripHeader::default())
                    render=render_strip
                    noun="strip rule"
                    add_label="Add strip rule"
                    error=ctx.error("stripHeaders")
                    empty="No headers are stripped."
                />
            </fieldset>
        </div>
    }
}

/// URL Rewriting.
#[component]
fn UrlRewritingForm(ctx: FormCtx, initial: Option<UrlRewriting>) -> impl IntoView {
    let initial = initial.unwrap_or_default();
    let from = RwSignal::new(initial.from_regex.clone());
    let to = RwSignal::new(initial.to_replacement.clone());
    let request_url = RwSignal::new(initial.process_request_url);
    let request_headers = RwSignal::new(initial.process_request_headers);
    let response_headers = RwSignal::new(initial.process_response_headers);
    let body = RwSignal::new(initial.process_body);
    ctx.on_build(move || {
        to_json(&UrlRewriting {
            from_regex: from.get_untracked(),
            to_replacement: to.get_untracked(),
            process_request_url: request_url.get_untracked(),
            process_request_headers: request_headers.get_untracked(),
            process_response_headers: response_headers.get_untracked(),
            process_body: body.get_untracked(),
        })
    });
    let from_error = ctx.error("fromRegex");
    let to_error = ctx.error("toReplacement");
    let apply_errors = [
        "processRequestUrl",
        "processRequestHeaders",
        "processResponseHeaders",
        "processBody",
    ]
    .map(|f| ctx.error(f));
    let apply_error = Signal::derive(move || apply_errors.iter().find_map(|e| e.get()));
    view! {
        <div class="policy-form">
            <Field id="pf-fromRegex" label="From (regex)" required=true hint="A regular expression that matches at least one character; every match is replaced." error=from_error>
                <TextInput id="pf-fromRegex" value=from error=from_error placeholder="/v1/(.*)" mono=true />
            </Field>
            <Field
                id="pf-toReplacement"
                label="To (replacement)"
                hint="At most 1,000 characters. $1 or ${name} insert capture groups; write ${1}x when a letter or digit follows."
                error=to_error
            >
                <TextInput id="pf-toReplacement" value=to error=to_error placeholder="/v2/$1" mono=true />
            </Field>
            <fieldset class="policy-fieldset">
                <legend>"Rewrite"</legend>
                <div class="policy-form__checks">
                    <Check id="pf-processRequestUrl" label="The request URL" value=request_url />
                    <Check id="pf-processRequestHeaders" label="Request headers" value=request_headers />
                    <Check id="pf-processResponseHeaders" label="Response headers" value=response_headers />
                    <Check id="pf-processBody" label="The response body" value=body />
                </div>
                <p class="field__error" role="alert">
                    {move || apply_error.get()}
                </p>
            </fieldset>
        </div>
    }
}

#[derive(Clone, Copy)]
struct IdentityRow {
    username: RwSignal<String>,
    password: RwSignal<String>,
    /// Stored on the server: an empty password keeps its hash.
    stored: bool,
}

fn identity_row(i: Identity, stored: bool) -> IdentityRow {
    IdentityRow {
        username: RwSignal::new(i.username),
        password: RwSignal::new(String::new()),
        stored,
    }
}

/// BASIC Authentication.
#[component]
fn BasicAuthForm(ctx: FormCtx, initial: Option<BasicAuth>) -> impl IntoView {
    let stored = initial.is_some();
    let initial = initial.unwrap_or_default();
    let realm = RwSignal::new(initial.realm.clone());
    let identities = RwSignal::new(keyed(if initial.identities.is_empty() {
        vec![identity_row(Identity::default(), false)]
    } else {
        initial
            .identities
            .into_iter()
            .map(|i| identity_row(i, stored))
            .collect()
    }));
    let forward = RwSignal::new(initial.forward_identity_header.clone().unwrap_or_default());
    let require_tls = RwSignal::new(initial.require_tls);
    ctx.on_build(move || {
        to_json(&BasicAuth {
            realm: realm.get_untracked().trim().to_owned(),
            identities: identities.with_untracked(|v| {
                v.iter()
                    .map(|(_, r)| Identity {
                        username: r.username.get_untracked().trim().to_owned(),
                        password: Some(r.password.get_untracked()).filter(|p| !p.is_empty()),
                        password_hash: None,
                    })
                    .collect()
            }),
            forward_identity_header: optional(&forward.get_untracked()),
            require_tls: require_tls.get_untracked(),
        })
    });
    fn render(ctx: FormCtx, r: IdentityRow, index: Signal<usize>) -> AnyView {
        let u_id = row_id("identities", index, "username");
        let u_err = row_error(ctx, "identities", index, "username");
        let p_id = row_id("identities", index, "password");
        let (password_error, hash_error) = (
            row_error(ctx, "identities", index, "password"),
            row_error(ctx, "identities", index, "passwordHash"),
        );
        let p_err = Signal::derive(move || password_error.get().or_else(|| hash_error.get()));
        let placeholder = if r.stored { "Unchanged" } else { "" };
        view! {
            <RowField id=u_id label="User name" error=u_err>
                {row_text(u_id, r.username, u_err, "", false)}
            </RowField>
            <RowField id=p_id label="Password" error=p_err>
                <input
                    class="input"
                    id=move || p_id.get()
                    type="password"
                    autocomplete="new-password"
                    placeholder=placeholder
                    aria-describedby=move || format!("{}-error", p_id.get())
                    aria-invalid=invalid(p_err)
                    prop:value=move || r.password.get()
                    on:input=move |ev| r.password.set(event_target_value(&ev))
                />
            </RowField>
        }
        .into_any()
    }
    let realm_error = ctx.error("realm");
    let forward_error = ctx.error("forwardIdentityHeader");
    view! {
        <div class="policy-form">
            <Field id="pf-realm" label="Realm" required=true hint="Shown by clients when they ask for a user name and password." error=realm_error>
                <TextInput id="pf-realm" value=realm error=realm_error placeholder="Weather API" />
            </Field>
            <fieldset class="policy-fieldset">
                <legend>"Identities"</legend>
                <p class="field__hint">
                    {if ctx.editing {
                        "Passwords are stored hashed and never shown. Leave a password empty to keep the stored one; a new identity needs a password."
                    } else {
                        "The user names and passwords the gateway accepts. Passwords are stored hashed."
                    }}
                </p>
                <Rows
                    ctx
                    rows=identities
                    new_row=|| identity_row(Identity::default(), false)
                    render
                    noun="identity"
                    add_label="Add identity"
                    error=ctx.error("identities")
                    empty="No identities yet."
                />
            </fieldset>
            <Field
                id="pf-forwardIdentityHeader"
                label="Forward identity header (optional)"
                hint="The gateway sets this request header to the user name for the back end, e.g. X-Authenticated-User."
                error=forward_error
            >
                <TextInput id="pf-forwardIdentityHeader" value=forward error=forward_error placeholder="X-Authenticated-User" mono=true />
            </Field>
            <Check
                id="pf-requireTls"
                label="Require TLS"
                value=require_tls
                hint="Refuse credentials sent over plain HTTP."
            />
        </div>
    }
}

#[derive(Clone, Copy)]
struct CacheRow {
    method: RwSignal<String>,
    path: RwSignal<String>,
    status: RwSignal<String>,
}

fn cache_row(r: CacheRule) -> CacheRow {
    CacheRow {
        method: RwSignal::new(r.method),
        path: RwSignal::new(r.path_pattern),
        status: RwSignal::new(r.status_code.map(|s| s.to_string()).unwrap_or_default()),
    }
}

/// Caching Resources.
#[component]
fn CachingForm(ctx: FormCtx, initial: Option<Caching>) -> impl IntoView {
    let initial = initial.unwrap_or_default();
    let ttl = RwSignal::new(initial.ttl_seconds.to_string());
    let authorized = RwSignal::new(initial.cache_authorized_requests);
    let rules = RwSignal::new(keyed(if initial.rules.is_empty() {
        vec![cache_row(CacheRule {
            path_pattern: ".*".to_owned(),
            ..CacheRule::default()
        })]
    } else {
        initial.rules.into_iter().map(cache_row).collect()
    }));
    ctx.on_build(move || {
        let mut errors = Vec::new();
        let ttl_seconds = number::<u32>(
            &ttl.get_untracked(),
            "ttlSeconds",
            "Enter a number of seconds of at least 1.",
            &mut errors,
        );
        let rules = rules.with_untracked(|v| {
            v.iter()
                .enumerate()
                .map(|(i, (_, r))| {
                    let status = r.status.get_untracked();
                    let status_code = if status.trim().is_empty() {
                        None
                    } else {
                        number::<u16>(
                            &status,
                            format!("rules[{i}].statusCode"),
                            "Enter a status code such as 200, or leave it empty.",
                            &mut errors,
                        )
                    };
                    CacheRule {
                        method: r.method.get_untracked(),
                        path_pattern: r.path.get_untracked().trim().to_owned(),
                        status_code,
                    }
                })
                .collect()
        });
        match ttl_seconds {
            Some(ttl_seconds) if errors.is_empty() => to_json(&Caching {
                ttl_seconds,
                rules,
                cache_authorized_requests: authorized.get_untracked(),
            }),
            _ => Err(errors),
        }
    });
    fn render(ctx: FormCtx, r: CacheRow, index: Signal<usize>) -> AnyView {
        let fields = ["method", "pathPattern", "statusCode"]
            .map(|f| (row_id("rules", index, f), row_error(ctx, "rules", index, f)));
        let [(m_id, m_err), (p_id, p_err), (s_id, s_err)] = fields;
        view! {
            <RowField id=m_id label="Method" error=m_err>
                {method_select(m_id, r.method, m_err)}
            </RowField>
            <RowField id=p_id label="Path pattern (regex)" error=p_err>
                {row_text(p_id, r.path, p_err, "/weather/.*", true)}
            </RowField>
            <RowField id=s_id label="Status code (optional)" error=s_err>
                <input
                    class="input"
                    id=move || s_id.get()
                    type="number"
                    min="100"
                    max="599"
                    placeholder="200"
                    aria-describedby=move || format!("{}-error", s_id.get())
                    aria-invalid=invalid(s_err)
                    prop:value=move || r.status.get()
                    on:input=move |ev| r.status.set(event_target_value(&ev))
                />
            </RowField>
        }
        .into_any()
    }
    let ttl_error = ctx.error("ttlSeconds");
    view! {
        <div class="policy-form">
            <Field
                id="pf-ttlSeconds"
                label="Time to live (seconds)"
                required=true
                hint="How long the gateway keeps a cached response (at most 30 days)."
                error=ttl_error
            >
                <TextInput id="pf-ttlSeconds" value=ttl error=ttl_error placeholder="60" input_type="number" />
            </Field>
            <fieldset class="policy-fieldset">
                <legend>"Cache these responses"</legend>
                <p class="field__hint">"Without a status code, only 200 OK responses are cached."</p>
                <Rows
                    ctx
                    rows=rules
                    new_row=|| cache_row(CacheRule::default())
                    render
                    noun="rule"
                    add_label="Add rule"
                    error=ctx.error("rules")
                    empty="No rules yet."
                />
            </fieldset>
            <Check
                id="pf-cacheAuthorizedRequests"
                label="Cache requests with an Authorization header"
                value=authorized
                hint="Off by default: such answers are usually personal. Each caller (client, BASIC user) has its own cached responses either way."
            />
        </div>
    }
}

// ------------------------------------------------------------------------------------------------
// The API page's effective chain
// ------------------------------------------------------------------------------------------------

/// "Effective policy chain": for each plan an API version offers, the order a request meets
/// policies in: the client's own, the plan's, then the API's.
#[component]
pub fn PolicyChainCard(p: RouteParams, reload: RwSignal<u32>) -> impl IntoView {
    let chains = Resource::new(
        move || (p.org.get(), p.id.get(), p.version.get(), reload.get()),
        |(o, a, v, _)| api_policy_chains(o, a, v),
    );
    view! {
        <section class="card">
            <div class="card__header">
                <h2 class="card__title">"Effective policy chain"</h2>
            </div>
            <div class="card__body stack">
                <p class="muted">
                    "The policies a request meets through each offered plan, in order: the calling client's own, then the plan's, then this API's."
                </p>
                <Transition fallback=|| view! { <SkeletonRows rows=2 /> }>
                    {move || Suspend::new(async move {
                        match chains.await {
                            Err(e) => view! { <LoadError error=e /> }.into_any(),
                            Ok(list) if list.is_empty() => {
                                let plans_tab = format!("{}/plans", p.base(Kind::Api).get_untracked());
                                view! {
                                    <EmptyState message="No plans offered yet.">
                                        <p>
                                            "Offer a plan on the "<a href=plans_tab>"Plans tab"</a>
                                            " to see the chain its requests meet."
                                        </p>
                                    </EmptyState>
                                }
                                    .into_any()
                            }
                            Ok(list) => {
                                let org = p.org.get_untracked();
                                view! {
                                    <div class="chains">
                                        {list.into_iter().map(|c| chain(&org, c)).collect_view()}
                                    </div>
                                }
                                    .into_any()
                            }
                        }
                    })}
                </Transition>
            </div>
        </section>
    }
}

fn chain(org: &str, c: PlanChainDto) -> AnyView {
    let plan = format!("{} {}", c.plan_name, c.plan_version);
    let plan_href = Kind::Plan.page_url(org, &c.plan_id, &c.plan_version);
    let stage = |label: String, policies: Vec<PolicyDto>| {
        view! {
            <li class="chain__stage">
                <span class="chain__label">{label}</span>
                {if policies.is_empty() {
                    view! { <span class="chain__none">"No policies"</span> }.into_any()
                } else {
                    view! {
                        <ol class="chain__policies">
                            {policies
                                .into_iter()
                                .map(|p| {
                                    view! {
                                        <li class="chain__policy" title=p.description.clone()>
                                            {p.name}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ol>
                    }
                        .into_any()
                }}
            </li>
        }
    };
    view! {
        <div class="chain">
            <h3 class="chain__title">
                "Plan "<a href=plan_href>{plan.clone()}</a>
            </h3>
            <ol class="chain__stages" aria-label=format!("Policy chain through {plan}")>
                <li class="chain__stage chain__stage--client">
                    <span class="chain__label">"Client policies"</span>
                    <span class="chain__none">"the client's own, first"</span>
                </li>
                {stage(format!("Plan {plan}"), c.plan_policies)}
                {stage("API".to_owned(), c.api_policies)}
            </ol>
        </div>
    }
    .into_any()
}
