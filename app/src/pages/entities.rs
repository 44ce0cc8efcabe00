//! Clients, APIs and plans: the list tables (dashboard, top navigation, organization tabs) and the
//! pages of one version (`/orgs/{org}/{clients|apis|plans}/{id}/{version}[/{tab}]`).

use domain::Description;
use domain::dto::{DEFAULT_PAGE_SIZE, EntityHeader, EntitySummary};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::api::entities::{UpdateEntityDescription, entity_change_log, list_entities};
use crate::api::lifecycle::{DeleteEntity, NewVersion, RunVersionAction, VersionAction};
use crate::components::change_log::ChangeLogTable;
use crate::components::form::FormErrors;
use crate::components::list::FilteredTable;
use crate::components::status::StatusBadge;
use crate::components::toast::use_toasts;
use crate::components::ui::{ConfirmDialog, Dialog, EmptyState, ErrorAlert, Menu, described_by};
use domain::EntityKind;

/// A filterable, paged table of clients, APIs or plans (all the caller may view, or one
/// organization's). The empty state offers the matching Create wizard.
#[component]
pub fn EntityTable(kind: EntityKind, #[prop(optional)] org: Option<String>) -> impl IntoView {
    let show_org = org.is_none();
    let create_href = match &org {
        Some(o) => format!("/create/{}?org={o}", kind.noun().to_lowercase()),
        None => format!("/create/{}", kind.noun().to_lowercase()),
    };
    let org = StoredValue::new(org);
    let items = Resource::new(|| (), move |_| list_entities(kind, org.get_value()));
    let mut columns = vec!["Name"];
    if show_org {
        columns.push("Organization");
    }
    columns.extend(["Versions", "Description"]);
    let row = Callback::new(move |e: EntitySummary| {
        let latest = e
            .versions
            .first()
            .map(|v| v.version.clone())
            .unwrap_or_default();
        view! {
            <tr>
                <td><a href=kind.page_url(&e.org_id, &e.id, &latest)>{e.name.clone()}</a></td>
                {show_org.then(|| view! { <td><a href=format!("/orgs/{}", e.org_id)>{e.org_name.clone()}</a></td> })}
                <td>
                    <div class="row">
                        {e.versions.iter().map(|v| view! {
                            <a class="version-chip" href=kind.page_url(&e.org_id, &e.id, &v.version)>
                                <span class="mono">{v.version.clone()}</span>
                                <StatusBadge status=v.status.clone() />
                            </a>
                        }).collect_view()}
                    </div>
                </td>
                <td class="muted">{e.description.clone()}</td>
            </tr>
        }
        .into_any()
    });
    let empty = ViewFn::from(move || {
        let href = create_href.clone();
        view! {
            <EmptyState message=format!("No {} yet.", kind.plural().to_lowercase())>
                <a href=href>{format!("Click here to create a new {}", kind.noun())}</a>
            </EmptyState>
        }
    });
    view! {
        <FilteredTable
            items
            noun=kind.plural_lower()
            matches=|e: &EntitySummary, needle| {
                e.name.to_lowercase().contains(needle)
                    || e.description.to_lowercase().contains(needle)
                    || e.org_name.to_lowercase().contains(needle)
            }
            columns
            row
            empty
        />
    }
}

/// `/clients`, `/apis`, `/plans`: everything of that kind the caller may view.
#[component]
pub fn EntityListPage(kind: EntityKind) -> impl IntoView {
    view! {
        <Title text=format!("{} · Tollgate", kind.plural()) />
        <div class="page-header row">
            <h1 class="page-title">{kind.plural()}</h1>
            <span class="spacer"></span>
            <a class="btn btn--primary" href=format!("/create/{}", kind.noun().to_lowercase())>
                {format!("Create {}", if kind == EntityKind::Api { "API" } else if kind == EntityKind::Client { "Client" } else { "Plan" })}
            </a>
        </div>
        <section class="card">
            <div class="card__body">
                <EntityTable kind />
            </div>
        </section>
    }
}

/// The header of a client, API or plan page: "Organization / Name", description (editable in
/// place with the edit permission), version switcher (with "New version…"), status, and the
/// page's `actions` on the right.
#[component]
pub(crate) fn EntityHeaderView(
    kind: EntityKind,
    header: EntityHeader,
    status: String,
    reload: RwSignal<u32>,
    #[prop(default = None)] extra_badge: Option<(&'static str, &'static str)>,
    #[prop(optional, into)] actions: ViewFn,
) -> impl IntoView {
    let edit_permission = kind.edit_permission();
    let can_edit = header.can(edit_permission);
    let editing = RwSignal::new(false);
    let draft = RwSignal::new(header.description.clone());
    let save = ServerAction::<UpdateEntityDescription>::new();
    let toasts = use_toasts();
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            editing.set(false);
            toasts.success("Description saved.");
            reload.update(|n| *n += 1);
        }
    });
    let local_error =
        Signal::derive(move || Description::parse(&draft.get()).err().map(|e| e.message));
    let server_error = Signal::derive(move || save.value().get().and_then(Result::err));
    let description_error =
        FormErrors::new(server_error, "entity").field_or("description", draft, local_error);
    let navigate = use_navigate();
    let new_version_open = RwSignal::new(false);
    let h = StoredValue::new(header.clone());
    let description = header.description.clone();
    view! {
        <div class="page-header">
            <div class="page-header__top">
                <h1 class="page-title">
                    <a href=format!("/orgs/{}", header.org_id)>{header.org_name.clone()}</a>
                    " / "
                    {header.name.clone()}
                </h1>
                <div class="page-actions">{actions.run()}</div>
            </div>
            <Show when=move || editing.get() fallback=move || {
                let description = description.clone();
                view! {
                    <p class=if description.is_empty() { "muted" } else { "" }>
                        {if description.is_empty() { "No description".to_owned() } else { description.clone() }}
                        {can_edit.then(|| view! {
                            " "
                            <button class="btn btn--ghost btn--sm" on:click=move |_| editing.set(true)>"Edit description"</button>
                        })}
                    </p>
                }
            }>
                <div class="field">
                    <label class="field__label" for="entity-description">"Description"</label>
                    <textarea class="textarea" id="entity-description" aria-describedby=described_by("entity-description")
                        prop:value=move || draft.get() on:input=move |ev| draft.set(event_target_value(&ev))></textarea>
                    <p class="field__error" id="entity-description-error" role="alert">
                        {move || description_error.get()}
                    </p>
                </div>
                <ErrorAlert error=server_error />
                <div class="row">
                    <button class="btn btn--primary btn--sm" disabled=move || save.pending().get() || local_error.get().is_some()
                        on:click=move |_| { save.dispatch(UpdateEntityDescription { kind, org: h.with_value(|h| h.org_id.clone()), id: h.with_value(|h| h.id.clone()), description: draft.get() }); }>
                        "Save"
                    </button>
                    <button class="btn btn--secondary btn--sm" on:click=move |_| editing.set(false)>"Cancel"</button>
                </div>
            </Show>
            <div class="page-subtitle">
                <span class="mono version-current" title="Version">{header.version.clone()}</span>
                    <select class="version-switcher" aria-label="Change version" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if v == NEW_VERSION {
                            new_version_open.set(true);
                        } else {
                            navigate(&h.with_value(|h| kind.page_url(&h.org_id, &h.id, &v)), Default::default());
                        }
                    }>
                        <option value="" selected=true disabled=true>"Switch version"</option>
                        {header.versions.iter().map(|v| {
                            let label = if v.version == header.version { format!("{} (current)", v.version) } else { v.version.clone() };
                            view! { <option value=v.version.clone()>{label}</option> }
                        }).collect_view()}
                        {can_edit.then(|| view! { <option value=NEW_VERSION>"New version…"</option> })}
                    </select>
                <StatusBadge status />
                {extra_badge.map(|(label, modifier)| view! { <crate::components::ui::Badge label modifier /> })}
            </div>
            <NewVersionDialog kind header open=new_version_open />
        </div>
    }
}

const NEW_VERSION: &str = "__new__";

/// "New version": a version name, and the version to copy (or none).
#[component]
fn NewVersionDialog(kind: EntityKind, header: EntityHeader, open: RwSignal<bool>) -> impl IntoView {
    let version = RwSignal::new(String::new());
    let clone_from = RwSignal::new(header.version.clone());
    let create = ServerAction::<NewVersion>::new();
    let toasts = use_toasts();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok((url, skipped))) = create.value().get() {
            open.set(false);
            toasts.success(if skipped > 0 {
                format!("Version created. {skipped} contract(s) could not be copied: their API version or plan no longer qualifies.")
            } else {
                "Version created.".to_owned()
            });
            navigate(&url, Default::default());
        }
    });
    let local_error = Signal::derive(move || {
        let v = version.get();
        (!v.is_empty())
            .then(|| domain::Version::parse(&v).err().map(|e| e.message))
            .flatten()
    });
    let server_error = Signal::derive(move || create.value().get().and_then(Result::err));
    let version_error =
        FormErrors::new(server_error, "new").field_or("version", version, local_error);
    let h = StoredValue::new(header);
    let what_is_copied = match kind {
        EntityKind::Client => {
            "policies and contracts (contracts may need approval again); the new version gets its own API key"
        }
        EntityKind::Api => "endpoint, content type, public flag, definition, plans and policies",
        EntityKind::Plan => "policies",
    };
    view! {
        <Dialog open title=format!("New {} version", kind.noun())>
            <form class="form-grid" on:submit=move |ev| {
                ev.prevent_default();
                let (org, id) = h.with_value(|h| (h.org_id.clone(), h.id.clone()));
                create.dispatch(NewVersion { kind, org, id, version: version.get(), clone_from: clone_from.get() });
            }>
                <div class="field">
                    <label class="field__label" for="new-version">"Version"</label>
                    <input class="input" id="new-version" autocomplete="off" placeholder="e.g. 2.0" required
                        aria-describedby=described_by("new-version")
                        prop:value=move || version.get() on:input=move |ev| version.set(event_target_value(&ev)) />
                    <p class="field__hint" id="new-version-hint">"Letters, digits, dots, dashes and underscores."</p>
                    <p class="field__error" id="new-version-error" role="alert">
                        {move || version_error.get()}
                    </p>
                </div>
                <div class="field">
                    <label class="field__label" for="clone-from">"Copy from"</label>
                    <select class="select" id="clone-from" on:change=move |ev| clone_from.set(event_target_value(&ev))>
                        <option value="">"Nothing: start empty"</option>
                        {h.with_value(|h| h.versions.iter().map(|v| {
                            let selected = v.version == h.version;
                            view! { <option value=v.version.clone() selected=selected>{format!("Version {}", v.version)}</option> }
                        }).collect_view())}
                    </select>
                    <p class="field__hint">{format!("A copy takes over the {what_is_copied}.")}</p>
                </div>
                <ErrorAlert error=server_error />
                <div class="dialog__actions">
                    <button type="button" class="btn btn--secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                    <button type="submit" class="btn btn--primary" disabled=move || create.pending().get() || local_error.get().is_some()>
                        "Create version"
                    </button>
                </div>
            </form>
        </Dialog>
    }
}

/// A version action (register, publish, lock, …) as the page offers it.
#[derive(Clone)]
pub struct ActionSpec {
    pub action: VersionAction,
    pub label: &'static str,
    /// (title, message, confirm button) when it asks first.
    pub confirm: Option<(String, String, &'static str)>,
}

/// The actions of a version page: `primary` as a button, the rest in an "Actions" menu,
/// `delete` (its confirmation message) last. Each success shows a toast and reloads the page's
/// data; a deleted entity leads back to its organization.
#[component]
pub(crate) fn VersionActions(
    kind: EntityKind,
    header: EntityHeader,
    reload: RwSignal<u32>,
    #[prop(default = vec![])] primary: Vec<ActionSpec>,
    #[prop(default = vec![])] menu: Vec<ActionSpec>,
    #[prop(default = None)] delete: Option<String>,
) -> impl IntoView {
    let run = ServerAction::<RunVersionAction>::new();
    let remove = ServerAction::<DeleteEntity>::new();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let chosen: RwSignal<Option<ActionSpec>> = RwSignal::new(None);
    let confirm_open = RwSignal::new(false);
    let delete_open = RwSignal::new(false);
    let h = StoredValue::new(header);
    Effect::new(move |_| match run.value().get() {
        Some(Ok(())) => {
            confirm_open.set(false);
            if let Some(spec) = chosen.get_untracked() {
                toasts.success(spec.action.done());
            }
            reload.update(|n| *n += 1);
        }
        Some(Err(e)) if !confirm_open.get_untracked() => toasts.error(e.message()),
        _ => {}
    });
    Effect::new(move |_| {
        if let Some(Ok(url)) = remove.value().get() {
            delete_open.set(false);
            toasts.success(format!("The {} was deleted.", kind.noun()));
            navigate(&url, Default::default());
        }
    });
    let start = move |spec: ActionSpec| {
        let action = spec.action;
        let asks = spec.confirm.is_some();
        chosen.set(Some(spec));
        if asks {
            confirm_open.set(true);
        } else {
            let (org, id, version) =
                h.with_value(|h| (h.org_id.clone(), h.id.clone(), h.version.clone()));
            run.dispatch(RunVersionAction {
                kind,
                org,
                id,
                version,
                action,
            });
        }
    };
    let has_menu = !menu.is_empty() || delete.is_some();
    let menu = StoredValue::new(menu);
    let delete = StoredValue::new(delete);
    view! {
        {primary.into_iter().map(|spec| {
            let label = spec.label;
            view! { <button class="btn btn--primary" disabled=move || run.pending().get() on:click=move |_| start(spec.clone())>{label}</button> }
        }).collect_view()}
        {has_menu.then(|| view! {
            <Menu label="Actions">
                {menu.get_value().into_iter().map(|spec| {
                    let label = spec.label;
                    view! { <button class="menu-item" role="menuitem" on:click=move |_| start(spec.clone())>{label}</button> }
                }).collect_view()}
                {delete.get_value().map(|_| view! {
                    <div class="menu-divider"></div>
                    <button class="menu-item menu-item--danger" role="menuitem" on:click=move |_| delete_open.set(true)>
                        {format!("Delete {}", kind.noun())}
                    </button>
                })}
            </Menu>
        })}
        <ConfirmDialog
            open=confirm_open
            title=Signal::derive(move || chosen.get().and_then(|s| s.confirm).map(|c| c.0).unwrap_or_default())
            message=Signal::derive(move || chosen.get().and_then(|s| s.confirm).map(|c| c.1).unwrap_or_default())
            confirm_label=Signal::derive(move || chosen.get().and_then(|s| s.confirm).map(|c| c.2.to_owned()).unwrap_or_default())
            pending=run.pending()
            error=Signal::derive(move || run.value().get().and_then(Result::err))
            on_confirm=move || {
                if let Some(spec) = chosen.get_untracked() {
                    let (org, id, version) = h.with_value(|h| (h.org_id.clone(), h.id.clone(), h.version.clone()));
                    run.dispatch(RunVersionAction { kind, org, id, version, action: spec.action });
                }
            }
        />
        <ConfirmDialog
            open=delete_open
            title=format!("Delete {}", kind.noun())
            message=Signal::derive(move || delete.get_value().unwrap_or_default())
            confirm_label=format!("Delete {}", kind.noun())
            pending=remove.pending()
            error=Signal::derive(move || remove.value().get().and_then(Result::err))
            on_confirm=move || {
                let (org, id) = h.with_value(|h| (h.org_id.clone(), h.id.clone()));
                remove.dispatch(DeleteEntity { kind, org, id });
            }
        />
    }
}

#[component]
pub(crate) fn EntityTabs(
    #[prop(into)] base: Signal<String>,
    tabs: &'static [(&'static str, &'static str)],
    #[prop(into)] tab: Signal<String>,
) -> impl IntoView {
    view! {
        <nav class="tabs" aria-label="Sections">
            {tabs.iter().map(|(slug, label)| {
                let slug = *slug;
                let href = move || if slug.is_empty() { base.get() } else { format!("{}/{slug}", base.get()) };
                view! { <a class="tab" href=href aria-current=move || (tab.get() == slug).then_some("page")>{*label}</a> }
            }).collect_view()}
        </nav>
    }
}

/// The route parameters of a version page.
#[derive(Clone, Copy)]
pub struct RouteParams {
    pub org: Memo<String>,
    pub id: Memo<String>,
    pub version: Memo<String>,
    pub tab: Memo<String>,
}

impl RouteParams {
    pub fn base(self, kind: EntityKind) -> Signal<String> {
        Signal::derive(move || kind.page_url(&self.org.get(), &self.id.get(), &self.version.get()))
    }
}

pub(crate) fn route_params() -> RouteParams {
    let params = use_params_map();
    let get = move |k: &'static str| Memo::new(move |_| params.read().get(k).unwrap_or_default());
    RouteParams {
        org: get("org"),
        id: get("id"),
        version: get("version"),
        tab: get("tab"),
    }
}

#[component]
pub(crate) fn ChangeLogCard(kind: EntityKind, org: String, id: String) -> impl IntoView {
    let page = RwSignal::new(1u64);
    let per_page = RwSignal::new(DEFAULT_PAGE_SIZE);
    let key = StoredValue::new((org, id));
    let entries = Resource::new(
        move || (page.get(), per_page.get()),
        move |(p, n)| {
            let (o, i) = key.get_value();
            entity_change_log(kind, o, i, p, n)
        },
    );
    view! { <ChangeLogTable entries page per_page /> }
}
