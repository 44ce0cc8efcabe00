//! The management shell: dark top bar with navigation and the user menu, the page, and the
//! floating Create button that every management page shows.

use domain::dto::UserDto;
use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};
use leptos_router::hooks::use_location;

use crate::api::auth::SignOut;
use crate::api::contracts::{GetInboxCounts, ListNotifications, MarkNotificationsRead};
use crate::components::toast::ToastRegion;
use crate::components::ui::{SkeletonRows, urlencode};

/// The signed-in user, loaded once per page load and shared through context.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Resource<Result<Option<UserDto>, crate::error::AppError>>);

/// The signed-in user (only inside [`ManagementShell`], which waits for it).
pub fn use_user() -> UserDto {
    expect_context::<UserDto>()
}

fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

#[component]
pub fn ManagementShell() -> impl IntoView {
    let user = expect_context::<CurrentUser>().0;
    let location = use_location();
    view! {
        <div class="shell">
            <Suspense fallback=|| view! { <header class="topbar"></header> <main class="page"><SkeletonRows rows=4 /></main> }>
                {move || Suspend::new(async move {
                    match user.await {
                        // Portal-only accounts have the Developer Portal only.
                        Ok(Some(u)) if u.portal_only && !u.is_admin => {
                            view! { <Redirect path="/portal" /> }.into_any()
                        }
                        Ok(Some(u)) => {
                            provide_context(u.clone());
                            provide_context(InboxRefresh(RwSignal::new(0)));
                            view! {
                                <TopBar user=u />
                                <main class="page" id="main">
                                    <Outlet />
                                </main>
                                <CreateButton />
                                <ToastRegion />
                            }
                                .into_any()
                        }
                        _ => {
                            let next = format!(
                                "{}{}",
                                location.pathname.get_untracked(),
                                location.search.get_untracked(),
                            );
                            let path = format!("/signin?next={}", urlencode(&next));
                            view! { <Redirect path /> }.into_any()
                        }
                    }
                })}
            </Suspense>
        </div>
    }
}

#[component]
fn TopBar(user: UserDto) -> impl IntoView {
    view! {
        <header class="topbar">
            <a class="topbar__brand" href="/">"Tollgate"</a>
            <nav class="topbar__nav" aria-label="Main">
                <A href="/" exact=true>"Dashboard"</A>
                <A href="/orgs">"Organizations"</A>
                <A href="/apis">"APIs"</A>
                <A href="/clients">"Clients"</A>
                <A href="/plans">"Plans"</A>
            </nav>
            <div class="topbar__right">
                <a class="inbox__link" href="/portal">"Developer Portal"</a>
                <Inbox />
                <UserMenu user />
            </div>
        </header>
    }
}

/// Bumped by pages whose actions change the header's counts (approvals).
#[derive(Clone, Copy)]
struct InboxRefresh(RwSignal<u32>);

/// The signal that refreshes the header's approval and notification counts.
pub fn use_inbox_refresh() -> RwSignal<u32> {
    expect_context::<InboxRefresh>().0
}

/// The header's inbox: a link to Pending Approvals with its count, and the notifications bell.
/// Loaded in the browser only (after hydration), again on every navigation.
#[component]
fn Inbox() -> impl IntoView {
    let refresh = use_inbox_refresh();
    let location = use_location();
    let counts = ServerAction::<GetInboxCounts>::new();
    let list = ServerAction::<ListNotifications>::new();
    let mark = ServerAction::<MarkNotificationsRead>::new();
    let open = RwSignal::new(false);
    Effect::new(move |_| {
        location.pathname.track();
        refresh.track();
        counts.dispatch(GetInboxCounts {});
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = mark.value().get() {
            counts.dispatch(GetInboxCounts {});
            list.dispatch(ListNotifications {});
        }
    });
    let current = move || {
        counts
            .value()
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
    };
    view! {
        <div class="inbox">
            {move || {
                let n = current().pending_approvals;
                (n > 0).then(|| view! {
                    <a class="inbox__link" href="/approvals" aria-label=format!("Pending approvals: {n}")>
                        "Approvals" <span class="count">{n.to_string()}</span>
                    </a>
                })
            }}
            <div class="notifications">
                <button class="inbox__bell" aria-haspopup="true" aria-expanded=move || open.get().to_string()
                    aria-label=move || format!("Notifications: {} unread", current().unread_notifications)
                    on:click=move |_| {
                        open.update(|o| *o = !*o);
                        if open.get_untracked() {
                            list.dispatch(ListNotifications {});
                        }
                    }>
                    <svg width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true">
                        <path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9" /><path d="M13.73 21a2 2 0 0 1-3.46 0" />
                    </svg>
                    {move || {
                        let n = current().unread_notifications;
                        (n > 0).then(|| view! { <span class="count">{n.to_string()}</span> })
                    }}
                </button>
                <Show when=move || open.get()>
                    <div class="menu-backdrop" on:click=move |_| open.set(false)></div>
                    <div class="notifications__panel" role="region" aria-label="Notifications">
                        <div class="notifications__head">
                            <strong>"Notifications"</strong>
                            <button class="btn btn--ghost btn--sm" on:click=move |_| { mark.dispatch(MarkNotificationsRead { id: None }); }>"Mark all read"</button>
                        </div>
                        {move || match list.value().get() {
                            None => view! { <div class="card__body"><SkeletonRows rows=2 /></div> }.into_any(),
                            Some(Err(e)) => view! { <div class="card__body"><p class="muted">{e.message()}</p></div> }.into_any(),
                            Some(Ok(items)) if items.is_empty() => view! { <div class="card__body"><p class="muted">"No notifications yet."</p></div> }.into_any(),
                            Some(Ok(items)) => items.into_iter().map(|n| {
                                let class = if n.read { "notification" } else { "notification notification--unread" };
                                let id = n.id;
                                let href = n.link.clone().unwrap_or_else(|| "#".to_owned());
                                view! {
                                    <a class=class href=href on:click=move |_| { open.set(false); mark.dispatch(MarkNotificationsRead { id: Some(id) }); }>
                                        {n.message.clone()}
                                        <time>{crate::components::ui::format_time(&n.created_on)}</time>
                                    </a>
                                }
                            }).collect_view().into_any(),
                        }}
                    </div>
                </Show>
            </div>
        </div>
    }
}

#[component]
fn UserMenu(user: UserDto) -> impl IntoView {
    let open = RwSignal::new(false);
    let sign_out = ServerAction::<SignOut>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            let _ = window().location().set_href("/signin");
        }
    });
    let close_on_escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            open.set(false);
        }
    });
    on_cleanup(move || close_on_escape.remove());
    let initials = initials(&user.display_name);
    view! {
        <div class="user-menu">
            <button
                class="user-menu__button"
                aria-label="Account menu"
                aria-haspopup="menu"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)
            >
                <span class="avatar" aria-hidden="true">{initials}</span>
                <span class="user-menu__name">{user.display_name.clone()}</span>
            </button>
            <Show when=move || open.get()>
                <div class="menu-backdrop" on:click=move |_| open.set(false)></div>
                <div class="user-menu__panel" role="menu">
                    <div class="menu-header">
                        <strong>{user.display_name.clone()}</strong>
                        <span class="muted">{user.email.clone()}</span>
                        {user.is_admin.then(|| view! { <span class="badge badge--admin">"Administrator"</span> })}
                    </div>
                    <div class="menu-divider"></div>
                    <a class="menu-item" role="menuitem" href="/account" on:click=move |_| open.set(false)>"Account settings"</a>
                    <a class="menu-item" role="menuitem" href="/docs/api" on:click=move |_| open.set(false)>"REST API reference"</a>
                    {user.is_admin.then(|| view! {
                        <a class="menu-item" role="menuitem" href="/admin/accounts" on:click=move |_| open.set(false)>"Accounts and settings"</a>
                    })}
                    <div class="menu-divider"></div>
                    <button
                        class="menu-item"
                        role="menuitem"
                        disabled=move || sign_out.pending().get()
                        on:click=move |_| {
                            sign_out.dispatch(SignOut {});
                        }
                    >
                        "Sign out"
                    </button>
                </div>
            </Show>
        </div>
    }
}

/// The round Create button at the bottom right; its menu opens upward.
#[component]
pub fn CreateButton() -> impl IntoView {
    let open = RwSignal::new(false);
    let close_on_escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            open.set(false);
        }
    });
    on_cleanup(move || close_on_escape.remove());
    let item = move |href: &'static str, label: &'static str| {
        view! {
            <a class="fab-menu__item" role="menuitem" href=href on:click=move |_| open.set(false)>
                {label}
            </a>
        }
    };
    view! {
        <Show when=move || open.get()>
            <div class="menu-backdrop" on:click=move |_| open.set(false)></div>
            <div class="fab-menu" role="menu" aria-label="Create">
                {item("/create/api", "Create API")}
                {item("/create/client", "Create Client")}
                {item("/create/plan", "Create Plan")}
                {item("/create/organization", "Create Organization")}
            </div>
        </Show>
        <button
            class="fab"
            aria-label="Create"
            aria-haspopup="menu"
            aria-expanded=move || open.get().to_string()
            on:click=move |_| open.update(|o| *o = !*o)
        >
            <span aria-hidden="true">"+"</span>
        </button>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn initials_of_names() {
        assert_eq!(super::initials("Jane Doe"), "JD");
        assert_eq!(super::initials("émile zola kant"), "ÉZ");
        assert_eq!(super::initials(""), "");
    }
}
