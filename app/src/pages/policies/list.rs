//! The Policies tab: the ordered list with its actions (Edit, Remove, reorder by drag and drop
//! or with Move up / Move down), the Remove dialog, and the dialog the editor opens in.

use domain::EntityKind;
use domain::dto::PolicyDto;
use domain::policy::Category;
use leptos::ev::DragEvent;
use leptos::prelude::*;

use super::PolicyAccess;
use super::editor::{PolicyEditor, Target};
use crate::api::policies::{PolicyDefinitions, RemovePolicy, ReorderPolicies, version_policies};
use crate::components::toast::use_toasts;
use crate::components::ui::{
    Card, ConfirmDialog, Dialog, EmptyState, LoadError, SkeletonRows, focus_first_of,
};
use crate::error::AppError;
use crate::pages::entities::RouteParams;

/// The exact text of the link that opens the Add Policy wizard.
pub const ATTACH_POLICY: &str = "Click here to attach a new policy";

/// The Policies tab: `note` says where these policies run in the chain. `detail` is the page's
/// version resource, `access` reads from it what the user may change; every change reloads the
/// page's data (`reload`), so the header shows "Unpublished Changes" where that applies.
#[component]
pub fn PoliciesTab<T>(
    kind: EntityKind,
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
        <Card title="Policies">
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
        </Card>
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
                                        <PolicyTitle name=policy.name.clone() category=policy.category.clone() />
                                        <p class="policy-row__description">{policy.description.clone()}</p>
                                    </div>
                                    {editable
                                        .then(|| {
                                            let name = name.clone();
                                            view! {
                                                <div class="policy-row__actions">
                                                    <MoveButton id=up_id.clone() name=name.clone() up=true
                                                        disabled=Signal::derive(move || index.get() == 0 || saving.get())
                                                        on_click=Callback::new(move |()| keyboard_move(-1, up_first.clone(), up_second.clone())) />
                                                    <MoveButton id=down_id.clone() name=name.clone() up=false
                                                        disabled=Signal::derive(move || index.get() + 1 >= count() || saving.get())
                                                        on_click=Callback::new(move |()| keyboard_move(1, down_first.clone(), down_second.clone())) />
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
    let modifier = Category::ALL
        .into_iter()
        .find(|c| c.label() == category)
        .map_or_else(|| "other".to_owned(), |c| c.label().to_lowercase());
    view! { <span class=format!("badge badge--category badge--{modifier}")>{category}</span> }
}

/// A policy's name with its category badge.
#[component]
pub(super) fn PolicyTitle(name: String, category: String) -> impl IntoView {
    view! {
        <div class="policy-row__title">
            <span class="policy-row__name">{name}</span>
            <CategoryBadge category />
        </div>
    }
}

/// Move up (↑) or Move down (↓) of a row, for keyboard users.
#[component]
fn MoveButton(
    id: String,
    /// The policy's name, for the accessible name ("Move Quota up").
    name: String,
    up: bool,
    disabled: Signal<bool>,
    on_click: Callback<()>,
) -> impl IntoView {
    let (word, arrow) = if up { ("up", "↑") } else { ("down", "↓") };
    view! {
        <button
            type="button"
            class="btn btn--ghost btn--sm policy-row__move"
            id=id
            aria-label=format!("Move {name} {word}")
            title=format!("Move {word}")
            disabled=move || disabled.get()
            on:click=move |_| on_click.run(())
        >
            <span aria-hidden="true">{arrow}</span>
        </button>
    }
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
