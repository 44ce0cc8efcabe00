//! The Add Policy wizard (1 choose a policy from the catalogue, 2 configure it) and the Edit
//! Policy dialog, around the form of the chosen policy type (`forms`).

use domain::EntityKind;
use domain::dto::{PolicyDefinitionDto, PolicyDto};
use domain::policy::{Category, PolicyKind};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::forms::{Build, FormCtx, config_form, shown_fields};
use super::list::PolicyTitle;
use crate::api::policies::{AddPolicy, PolicyDefinitions, UpdatePolicy};
use crate::components::form::{Choice, FormErrors, within};
use crate::components::toast::use_toasts;
use crate::components::ui::{ErrorAlert, Field, LoadError, SkeletonRows, Stepper};
use crate::error::AppError;
use crate::pages::entities::RouteParams;

/// What the policy dialog is open for.
#[derive(Clone)]
pub(super) enum Target {
    /// The wizard; the current policies (for "Position").
    Add(Vec<PolicyDto>),
    Edit(PolicyDto),
}

/// The definition being configured: id, name, category, and one line about it.
#[derive(Clone, PartialEq)]
struct Chosen {
    id: String,
    name: String,
    category: String,
    about: String,
}

#[component]
pub(super) fn PolicyEditor(
    kind: EntityKind,
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
    let server_error = Signal::derive(move || {
        if is_edit {
            update.value().get().and_then(Result::err)
        } else {
            add.value().get().and_then(Result::err)
        }
    });
    let errors = FormErrors::new(server_error, "pf");
    let build = StoredValue::new(None::<Build>);
    let ctx = FormCtx::new(errors, build, is_edit);
    let pending = Signal::derive(move || add.pending().get() || update.pending().get());

    Effect::new(move |_| {
        let saved = if is_edit {
            update.value().with(|v| matches!(v, Some(Ok(_))))
        } else {
            add.value().with(|v| matches!(v, Some(Ok(_))))
        };
        if saved {
            open.set(false);
            toasts.success(if is_edit {
                "Policy saved."
            } else {
                "Policy added."
            });
            reload.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(AppError::Invalid(list)) = server_error.get() {
            errors.focus_on(&list);
        }
    });

    let choose = move |d: PolicyDefinitionDto| {
        add.clear();
        errors.reset();
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
        errors.reset();
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
            Err(found) => {
                errors.show_own(found);
            }
            Ok(configuration) => {
                errors.show_own(Vec::new());
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
    // "At the end", "First", "After 1. Quota", … (not after the last: that is the end).
    let positions = move || {
        let mut options = vec![
            (String::new(), String::new(), "At the end".to_owned()),
            ("0".to_owned(), "0".to_owned(), "First".to_owned()),
        ];
        others.with_value(|list| {
            let last = list.len().saturating_sub(1);
            for (i, p) in list.iter().take(last).enumerate() {
                let n = (i + 1).to_string();
                options.push((n.clone(), n, format!("After {}. {}", i + 1, p.name)));
            }
        });
        options
    };
    let no_error = Signal::derive(|| None::<String>);
    let unplaced = Signal::derive(move || {
        let kind = chosen.with(|c| c.as_ref().and_then(|c| PolicyKind::from_id(&c.id)));
        errors
            .all()
            .into_iter()
            .filter(|e| !kind.is_some_and(|k| shown_fields(k).any(|f| within(&e.field, f))))
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
                    view! { <PolicyCatalogue definitions filter choose open /> }.into_any()
                } else {
                    let Some(c) = chosen.get() else { return ().into_any() };
                    let initial = editing.with_value(|e| e.as_ref().map(|p| p.configuration.clone()));
                    let form = match PolicyKind::from_id(&c.id).map(|k| config_form(k, initial, ctx)) {
                        Some(form) => form,
                        None => view! {
                            <p class="alert alert--warning">
                                {format!("Policies of type '{}' cannot be configured here.", c.id)}
                            </p>
                        }
                        .into_any(),
                    };
                    view! {
                        <form class="policy-editor__form" novalidate=true on:submit=submit>
                            <div class="policy-editor__chosen">
                                <PolicyTitle name=c.name.clone() category=c.category.clone() />
                                <p class="muted">{c.about.clone()}</p>
                            </div>
                            {form}
                            {(!is_edit && !others.with_value(Vec::is_empty))
                                .then(|| {
                                    view! {
                                        <Field id="pf-position" label="Position" hint="Policies run from top to bottom." error=no_error>
                                            <Choice id="pf-position" value=position options=positions() />
                                        </Field>
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
fn PolicyCatalogue(
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
                let groups: Vec<(&str, Vec<PolicyDefinitionDto>)> = Category::ALL
                    .iter()
                    .map(|c| c.label())
                    .map(|c| {
                        (
                            c,
                            all
                                .iter()
                                .filter(|d| d.category == c && matches(d))
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
