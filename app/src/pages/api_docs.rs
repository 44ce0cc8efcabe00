//! `/docs/api`: the management REST API's reference, rendered from its OpenAPI document by the
//! same component as the portal's API pages, with no assets from elsewhere.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::docs::api_reference;
use crate::components::operations::Operations;
use crate::components::ui::{LoadError, SkeletonRows};

#[component]
pub fn ApiDocsPage() -> impl IntoView {
    let reference = Resource::new(|| (), |_| api_reference());
    view! {
        <Title text="REST API reference · Tollgate" />
        <div class="page-header">
            <h1 class="page-title">"REST API reference"</h1>
            <p class="muted">"Automate Tollgate from scripts and pipelines: everything the management pages do, as versioned JSON operations under "<code>"/api/v1"</code>"."</p>
        </div>
        <div class="grid-main">
            <section class="card">
                <div class="card__header"><h2 class="card__title">"Operations"</h2></div>
                <div class="card__body stack">
                    <Transition fallback=|| view! { <SkeletonRows rows=8 /> }>
                        {move || Suspend::new(async move {
                            match reference.await {
                                Ok(r) => view! { <Operations groups=r.groups /> }.into_any(),
                                Err(e) => view! { <LoadError error=e /> }.into_any(),
                            }
                        })}
                    </Transition>
                </div>
            </section>
            <div class="stack">
                <section class="card">
                    <div class="card__header"><h2 class="card__title">"Authentication"</h2></div>
                    <div class="card__body stack">
                        <p>"Send a personal access token with every request:"</p>
                        <pre class="schema">"Authorization: Bearer tgp_…"</pre>
                        <p class="muted">"Create one on "<a href="/account">"Account settings"</a>". A token acts with its owner's rights at the time of each call, limited to its scope and organizations."</p>
                    </div>
                </section>
                <section class="card">
                    <div class="card__header"><h2 class="card__title">"Conventions"</h2></div>
                    <div class="card__body">
                        <ul class="conventions">
                            <li>"Errors are "<code>"application/problem+json"</code>", with the same messages and field names as the forms."</li>
                            <li>"Lists take "<code>"page"</code>" and "<code>"per_page"</code>" (at most 100) and answer with "<code>"Link"</code>" and "<code>"X-Total-Count"</code>"."</li>
                            <li>"Reads carry an "<code>"ETag"</code>"; send it as "<code>"If-Match"</code>" to update only what you read (412 otherwise)."</li>
                            <li>"Creating answers 201 with the new object's "<code>"Location"</code>"."</li>
                            <li>"Each account may make a bounded number of requests a minute; past it the answer is 429 with "<code>"Retry-After"</code>"."</li>
                        </ul>
                    </div>
                </section>
                <section class="card">
                    <div class="card__header"><h2 class="card__title">"OpenAPI document"</h2></div>
                    <div class="card__body stack">
                        <p class="muted">"OpenAPI 3.1, for code generators and API clients."</p>
                        <p><a class="btn btn--secondary" href="/api/v1/openapi.json" download="tollgate-openapi.json">"Download openapi.json"</a></p>
                    </div>
                </section>
            </div>
        </div>
    }
}
