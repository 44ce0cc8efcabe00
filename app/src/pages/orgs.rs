//! Organizations: the list, and the organization page with its tabs (each tab has its URL).

use domain::dto::{DEFAULT_PAGE_SIZE, MemberDto, OrgDetail, OrgSummary};
use domain::{Description, Permission, Role};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::orgs::{
    AddMember, ChangeMemberRole, RemoveMember, UpdateOrgDescription, get_org, list_members,
    list_orgs, org_change_log,
};
use crate::components::change_log::ChangeLogTable;
use crate::components::form::FormErrors;
use crate::components::list::FilteredTable;
use crate::components::toast::use_toasts;
use crate::components::ui::{
    Badge, ConfirmDialog, EmptyState, ErrorAlert, LoadError, SkeletonRows, described_by,
    format_date,
};
use crate::error::AppError;
use crate::pages::entities::EntityTable;
use domain::EntityKind;

/// A filterable, paged table of the caller's organizations.
#[component]
pub fn OrgTable() -> impl IntoView {
    let orgs = Resource::new(|| (), |_| list_orgs(None));
    view! {
        <FilteredTable
            items=orgs
            noun="organizations"
            matches=|o: &OrgSummary, needle| o.name.to_lowercase().contains(needle) || o.id.to_lowercase().contains(needle)
            columns=vec!["Name", "Description", "Your role", "Created"]
            row=Callback::new(|o: OrgSummary| view! {
                <tr>
                    <td><a href=format!("/orgs/{}", o.id)>{o.name}</a></td>
                    <td class="muted">{o.description}</td>
                    <td>{o.role.map(|r| r.label()).unwrap_or("Administrator")}</td>
                    <td>{format_date(&o.created_on)}</td>
                </tr>
            }.into_any())
            empty=ViewFn::from(|| view! {
                <EmptyState message="You are not a member of any organization yet.">
                    <a href="/create/organization">"Click here to create a new organization"</a>
                </EmptyState>
            })
        />
    }
}

#[component]
pub fn OrgListPage() -> impl IntoView {
    view! {
        <Title text="Organizations · Tollgate" />
        <div class="page-header">
            <h1 class="page-title">"Organizations"</h1>
        </div>
        <section class="card">
            <div class="card__body">
                <OrgTable />
            </div>
        </section>
    }
}

/// The result of loading an organization, shared by the page's header and tabs.
type OrgResource = Resource<Result<OrgDetail, AppError>>;

/// The organization page: `/orgs/{org}` (Overview) and `/orgs/{org}/{tab}`.
///
/// The header and each tab wait for their data in their own `Transition`, side by side: a
/// Suspense nested inside another's resolved content does not hydrate reliably.
#[component]
pub fn OrgPage() -> impl IntoView {
    let params = use_params_map();
    let org_id = Memo::new(move |_| params.read().get("org").unwrap_or_default());
    let tab = Memo::new(move |_| params.read().get("tab").unwrap_or_default());
    let reload = RwSignal::new(0u32);
    let org: OrgResource =
        Resource::new(move || (org_id.get(), reload.get()), |(id, _)| get_org(id));
    view! {
        <Transition fallback=|| view! { <SkeletonRows rows=3 /> }>
            {move || Suspend::new(async move {
                match org.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(o) => view! {
                        <Title text=format!("{} · Tollgate", o.name) />
                        <OrgHeader org=o reload />
                    }.into_any(),
                }
            })}
        </Transition>
        <OrgTabs org_id tab />
        {move || {
            let id = org_id.get();
            match tab.get().as_str() {
                "members" => view! { <MembersTab org_id=id org /> }.into_any(),
                "apis" => view! { <OrgEntities kind=EntityKind::Api org=id /> }.into_any(),
                "clients" => view! { <OrgEntities kind=EntityKind::Client org=id /> }.into_any(),
                "plans" => view! { <OrgEntities kind=EntityKind::Plan org=id /> }.into_any(),
                "changelog" => view! { <ChangeLogTab org_id=id /> }.into_any(),
                "" => view! { <OverviewTab org /> }.into_any(),
                _ => view! { <EmptyState message="This tab does not exist." /> }.into_any(),
            }
        }}
    }
}

#[component]
fn OrgHeader(org: OrgDetail, reload: RwSignal<u32>) -> impl IntoView {
    let editing = RwSignal::new(false);
    let draft = RwSignal::new(org.description.clone());
    let save = ServerAction::<UpdateOrgDescription>::new();
    let toasts = use_toasts();
    let local_error =
        Signal::derive(move || Description::parse(&draft.get()).err().map(|e| e.message));
    let server_error = Signal::derive(move || save.value().get().and_then(Result::err));
    let description_error =
        FormErrors::new(server_error, "org").field_or("description", draft, local_error);
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            editing.set(false);
            toasts.success("Description saved.");
            reload.update(|n| *n += 1);
        }
    });
    let can_edit = org.can(Permission::OrgEdit);
    let id = StoredValue::new(org.id.clone());
    let description = org.description.clone();
    view! {
        <div class="page-header">
            <nav class="breadcrumb" aria-label="Breadcrumb">
                <a href="/orgs">"Organizations"</a>
            </nav>
            <h1 class="page-title">{org.name.clone()}</h1>
            <Show
                when=move || editing.get()
                fallback=move || {
                    let description = description.clone();
                    view! {
                        <div class="page-subtitle">
                            <span class=if description.is_empty() { "muted" } else { "" }>
                                {if description.is_empty() { "No description".to_owned() } else { description.clone() }}
                            </span>
                            {org.role.map(|r| view! { <Badge label=r.label() modifier="role" /> })}
                            {can_edit.then(|| view! {
                                <button class="btn btn--ghost btn--sm" on:click=move |_| editing.set(true)>"Edit description"</button>
                            })}
                        </div>
                    }
                }
            >
                <div class="field">
                    <label class="field__label" for="org-description">"Description"</label>
                    <textarea class="textarea" id="org-description" aria-describedby=described_by("org-description")
                        prop:value=move || draft.get() on:input=move |ev| draft.set(event_target_value(&ev))></textarea>
                    <p class="field__error" id="org-description-error" role="alert">
                        {move || description_error.get()}
                    </p>
                </div>
                <ErrorAlert error=server_error />
                <div class="row">
                    <button class="btn btn--primary btn--sm"
                        disabled=move || save.pending().get() || local_error.get().is_some()
                        on:click=move |_| { save.dispatch(UpdateOrgDescription { org: id.get_value(), description: draft.get() }); }>
                        "Save"
                    </button>
                    <button class="btn btn--secondary btn--sm" on:click=move |_| editing.set(false)>"Cancel"</button>
                </div>
            </Show>
        </div>
    }
}

#[component]
fn OrgTabs(org_id: Memo<String>, tab: Memo<String>) -> impl IntoView {
    let tabs = [
        ("", "Overview"),
        ("apis", "APIs"),
        ("clients", "Clients"),
        ("plans", "Plans"),
        ("members", "Members"),
        ("changelog", "Change Log"),
    ];
    view! {
        <nav class="tabs" aria-label="Organization">
            {tabs.into_iter().map(|(slug, label)| {
                let href = move || {
                    let org_id = org_id.get();
                    if slug.is_empty() { format!("/orgs/{org_id}") } else { format!("/orgs/{org_id}/{slug}") }
                };
                view! {
                    <a class="tab" href=href aria-current=move || (tab.get() == slug).then_some("page")>{label}</a>
                }
            }).collect_view()}
        </nav>
    }
}

#[component]
fn OrgEntities(kind: EntityKind, org: String) -> impl IntoView {
    view! {
        <section class="card">
            <div class="card__header">
                <h2 class="card__title">{kind.plural()}</h2>
            </div>
            <div class="card__body">
                <EntityTable kind org />
            </div>
        </section>
    }
}

#[component]
fn OverviewTab(org: OrgResource) -> impl IntoView {
    view! {
        <Transition fallback=|| view! { <SkeletonRows /> }>
            {move || Suspend::new(async move {
                match org.await {
                    Ok(org) => view! { <OrgAbout org /> }.into_any(),
                    Err(_) => ().into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn OrgAbout(org: OrgDetail) -> impl IntoView {
    view! {
        <div class="grid-main">
            <section class="card">
                <div class="card__header"><h2 class="card__title">"About"</h2></div>
                <div class="card__body">
                    <dl class="info-list">
                        <dt>"Id"</dt><dd class="mono">{org.id.clone()}</dd>
                        <dt>"Created"</dt><dd>{format!("{} by {}", format_date(&org.created_on), org.created_by)}</dd>
                        <dt>"Members"</dt><dd>{org.member_count.to_string()}</dd>
                        <dt>"Your role"</dt><dd>{org.role.map(|r| r.label()).unwrap_or("Administrator (not a member)")}</dd>
                    </dl>
                </div>
            </section>
            <section class="card">
                <div class="card__header"><h2 class="card__title">"Your permissions"</h2></div>
                <div class="card__body">
                    <p class="muted">{if org.permissions.is_empty() { "None".to_owned() } else {
                        org.permissions.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
                    }}</p>
                </div>
            </section>
        </div>
    }
}

#[component]
fn MembersTab(org_id: String, org: OrgResource) -> impl IntoView {
    let org_id = StoredValue::new(org_id);
    let reload = RwSignal::new(0u32);
    let members = Resource::new(
        move || reload.get(),
        move |_| list_members(org_id.get_value()),
    );
    let toasts = use_toasts();

    let add = ServerAction::<AddMember>::new();
    let email = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Viewer);
    let add_error = Signal::derive(move || add.value().get().and_then(Result::err));
    let email_error = FormErrors::new(add_error, "member").field("email", email);
    Effect::new(move |_| {
        if let Some(Ok(())) = add.value().get() {
            // The same answer whether or not an account exists (no address probing).
            toasts.success(format!(
                "If an account with the email {} exists, it now has the role {}.",
                email.get_untracked(),
                role.get_untracked().label()
            ));
            email.set(String::new());
            reload.update(|n| *n += 1);
        }
    });

    let change = ServerAction::<ChangeMemberRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    Effect::new(move |_| match change.value().get() {
        Some(Ok(())) => {
            toasts.success("Role changed.");
            reload.update(|n| *n += 1);
        }
        Some(Err(e)) => {
            toasts.error(e.field("role").or_else(|| e.general()).unwrap_or_default());
            reload.update(|n| *n += 1);
        }
        None => {}
    });
    let to_remove = RwSignal::new(None::<MemberDto>);
    let confirm_open = RwSignal::new(false);
    Effect::new(move |_| match remove.value().get() {
        Some(Ok(())) => {
            confirm_open.set(false);
            toasts.success("Member removed.");
            reload.update(|n| *n += 1);
        }
        Some(Err(e)) => {
            confirm_open.set(false);
            toasts.error(e.general().unwrap_or_default());
        }
        None => {}
    });

    view! {
        <section class="card">
            <div class="card__header"><h2 class="card__title">"Members"</h2></div>
            <div class="card__body card--flush">
                <Transition fallback=|| view! { <SkeletonRows /> }>
                    {move || Suspend::new(async move {
                        let can_admin = match org.await {
                            Ok(o) => o.can(Permission::OrgAdmin),
                            Err(_) => false,
                        };
                        match members.await {
                            Err(e) => view! { <LoadError error=e /> }.into_any(),
                            Ok(list) => view! {
                                <div class="table-wrap">
                                    <table class="table">
                                        <thead><tr><th>"Member"</th><th>"Email"</th><th>"Role"</th><th>"Since"</th>
                                            {can_admin.then(|| view! { <th><span class="visually-hidden">"Actions"</span></th> })}</tr></thead>
                                        <tbody>
                                            {list.into_iter().map(|m| {
                                                let m = StoredValue::new(m);
                                                view! {
                                                    <tr>
                                                        <td>{m.with_value(|m| m.display_name.clone())}</td>
                                                        <td class="mono">{m.with_value(|m| m.email.clone())}</td>
                                                        <td>{if can_admin {
                                                            view! {
                                                                <select class="select" aria-label=format!("Role of {}", m.with_value(|m| m.display_name.clone()))
                                                                    disabled=move || change.pending().get()
                                                                    on:change=move |ev| {
                                                                        if let Some(r) = Role::parse(&event_target_value(&ev)) {
                                                                            change.dispatch(ChangeMemberRole { org: org_id.get_value(), user_id: m.with_value(|m| m.user_id.clone()), role: r });
                                                                        }
                                                                    }>
                                                                    {Role::ALL.into_iter().map(|r| view! {
                                                                        <option value=r.as_str() selected=m.with_value(|m| m.role == r)>{r.label()}</option>
                                                                    }).collect_view()}
                                                                </select>
                                                            }.into_any()
                                                        } else {
                                                            view! { <Badge label=m.with_value(|m| m.role.label()) modifier="role" /> }.into_any()
                                                        }}</td>
                                                        <td>{m.with_value(|m| format_date(&m.since))}</td>
                                                        {can_admin.then(|| view! {
                                                            <td class="num">
                                                                <button class="btn btn--ghost btn--sm" on:click=move |_| { to_remove.set(Some(m.get_value())); confirm_open.set(true); }>
                                                                    "Remove"
                                                                </button>
                                                            </td>
                                                        })}
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </div>
        </section>
        <Transition fallback=|| ()>
        {move || Suspend::new(async move {
        let can_admin = org.await.is_ok_and(|o| o.can(Permission::OrgAdmin));
        can_admin.then(|| view! {
            <section class="card">
                <div class="card__header"><h2 class="card__title">"Add a member"</h2></div>
                <div class="card__body">
                    <form class="row" on:submit=move |ev| {
                        ev.prevent_default();
                        add.dispatch(AddMember { org: org_id.get_value(), email: email.get(), role: role.get() });
                    }>
                        <div class="field">
                            <label class="field__label" for="member-email">"Email"</label>
                            <input class="input" id="member-email" type="email" required aria-describedby=described_by("member-email")
                                prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev)) />
                            <p class="field__error" id="member-email-error" role="alert">{move || email_error.get()}</p>
                        </div>
                        <div class="field">
                            <label class="field__label" for="member-role">"Role"</label>
                            <select class="select" id="member-role" on:change=move |ev| {
                                if let Some(r) = Role::parse(&event_target_value(&ev)) { role.set(r) }
                            }>
                                {Role::ALL.into_iter().map(|r| view! {
                                    <option value=r.as_str() selected=move || role.get() == r>{r.label()}</option>
                                }).collect_view()}
                            </select>
                        </div>
                        <button class="btn btn--primary" type="submit" disabled=move || add.pending().get()>"Add member"</button>
                    </form>
                    <p class="muted">{move || role.get().description()}</p>
                    <p class="muted">"Only existing accounts can be added: ask the person to create an account first."</p>
                    <ErrorAlert error=add_error />
                </div>
            </section>
        })
        })}
        </Transition>
        <ConfirmDialog
            open=confirm_open
            title="Remove member"
            message=Signal::derive(move || to_remove.get().map(|m| format!(
                "Remove {} ({}) from this organization? They lose access to everything in it.", m.display_name, m.email
            )).unwrap_or_default())
            confirm_label="Remove member"
            pending=remove.pending()
            on_confirm=move || {
                if let Some(m) = to_remove.get_untracked() {
                    remove.dispatch(RemoveMember { org: org_id.get_value(), user_id: m.user_id });
                }
            }
        />
    }
}

/// The organization's Change Log.
#[component]
fn ChangeLogTab(org_id: String) -> impl IntoView {
    let page = RwSignal::new(1u64);
    let per_page = RwSignal::new(DEFAULT_PAGE_SIZE);
    let org_id = StoredValue::new(org_id);
    let entries = Resource::new(
        move || (page.get(), per_page.get()),
        move |(p, n)| org_change_log(org_id.get_value(), p, n),
    );
    view! { <ChangeLogTable entries page per_page /> }
}
