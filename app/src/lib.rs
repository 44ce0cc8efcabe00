//! Tollgate's UI: the Leptos app (pages, components, router), its `#[server]` functions and
//! the error they return. Compiled with `ssr` into the server and with `hydrate` into WASM.

#![recursion_limit = "512"]

pub mod api;
pub mod components;
pub mod error;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;

use crate::components::shell::{CurrentUser, ManagementShell};
use crate::components::toast::provide_toasts;
use crate::pages::account::{AccountPage, ChoosePasswordPage};
use crate::pages::admin::AdminAccountsPage;
use crate::pages::api::ApiPage;
use crate::pages::api_docs::ApiDocsPage;
use crate::pages::approvals::ApprovalsPage;
use crate::pages::auth::{SignInPage, SignUpPage};
use crate::pages::client::ClientPage;
use crate::pages::create_entity::{CreateApiWizard, CreateClientWizard, CreatePlanWizard};
use crate::pages::create_org::CreateOrgWizard;
use crate::pages::dashboard::Dashboard;
use crate::pages::entities::EntityListPage;
use crate::pages::not_found::NotFound;
use crate::pages::orgs::{OrgListPage, OrgPage};
use crate::pages::plan::PlanPage;
use crate::pages::portal::{
    MyClientsPage, PortalApiPage, PortalCatalog, PortalHome, PortalShell, PortalSignUpPage,
};
use domain::EntityKind;

/// The HTML document around the app (server side). Sends the Content-Security-Policy with this
/// response's nonce, which Leptos also puts on its hydration scripts.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(res)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) && let Ok(v) = http::HeaderValue::from_str(&csp(&nonce))
    {
        res.insert_header(http::header::CONTENT_SECURITY_POLICY, v);
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The Content-Security-Policy of HTML pages: scripts only with this response's nonce (and
/// what they load), WASM compilation allowed, no framing, no plugins.
pub fn csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_toasts();
    let user = Resource::new(|| (), |_| crate::api::auth::current_user());
    provide_context(CurrentUser(user));

    // Marks the document once the WASM app has hydrated (end-to-end tests wait for it).
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.class_list().add_1("hydrated");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/tollgate.css" />
        <Title text="Tollgate" />
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/signin") view=SignInPage />
                <Route path=path!("/signup") view=SignUpPage />
                <Route path=path!("/choose-password") view=ChoosePasswordPage />
                <ParentRoute path=path!("/portal") view=PortalShell>
                    <Route path=path!("") view=PortalHome />
                    <Route path=path!("/apis") view=PortalCatalog />
                    <Route path=path!("/apis/:org/:api") view=PortalApiPage />
                    <Route path=path!("/signup/:org/:api/:version/:plan") view=PortalSignUpPage />
                    <Route path=path!("/clients") view=MyClientsPage />
                    <Route path=path!("/account") view=AccountPage />
                </ParentRoute>
                <ParentRoute path=path!("") view=ManagementShell>
                    <Route path=path!("") view=Dashboard />
                    <Route path=path!("/orgs") view=OrgListPage />
                    <Route path=path!("/orgs/:org") view=OrgPage />
                    <Route path=path!("/orgs/:org/:tab") view=OrgPage />
                    <Route path=path!("/create/organization") view=CreateOrgWizard />
                    <Route path=path!("/create/client") view=CreateClientWizard />
                    <Route path=path!("/create/api") view=CreateApiWizard />
                    <Route path=path!("/create/plan") view=CreatePlanWizard />
                    <Route path=path!("/clients") view=|| view! { <EntityListPage kind=EntityKind::Client /> } />
                    <Route path=path!("/apis") view=|| view! { <EntityListPage kind=EntityKind::Api /> } />
                    <Route path=path!("/plans") view=|| view! { <EntityListPage kind=EntityKind::Plan /> } />
                    <Route path=path!("/approvals") view=ApprovalsPage />
                    <Route path=path!("/account") view=AccountPage />
                    <Route path=path!("/admin/accounts") view=AdminAccountsPage />
                    <Route path=path!("/docs/api") view=ApiDocsPage />
                    <Route path=path!("/orgs/:org/clients/:id/:version") view=ClientPage />
                    <Route path=path!("/orgs/:org/clients/:id/:version/:tab") view=ClientPage />
                    <Route path=path!("/orgs/:org/apis/:id/:version") view=ApiPage />
                    <Route path=path!("/orgs/:org/apis/:id/:version/:tab") view=ApiPage />
                    <Route path=path!("/orgs/:org/plans/:id/:version") view=PlanPage />
                    <Route path=path!("/orgs/:org/plans/:id/:version/:tab") view=PlanPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
