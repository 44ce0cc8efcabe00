//! The management shell: dark top bar with navigation and the user menu, the page, and the
//! floating Create button that every management page shows.

use domain::dto::UserDto;
use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};
use leptos_router::hooks::use_location;

use crate::api::auth::SignOut;
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
                        Ok(Some(u)) => {
                            provide_context(u.clone());
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
                <UserMenu user />
            </div>
        </header>
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
