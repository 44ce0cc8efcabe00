//! An OpenAPI document's operations, grouped by tag, each a disclosure with its parameters,
//! request body and responses: the portal's API pages and the management API's reference
//! (`/docs/api`) read the same [`DefinitionSummary`](domain::portal::DefinitionSummary).

use domain::portal::OperationGroup;
use leptos::prelude::*;

#[component]
pub fn Operations(groups: Vec<OperationGroup>) -> impl IntoView {
    groups
        .into_iter()
        .map(|g| {
            view! {
                <h3 class="op-group">{g.tag.clone()}</h3>
                {g.operations.iter().map(|op| view! {
                    <details class="op">
                        <summary><span class=format!("method method--{}", op.method.to_lowercase())>{op.method.clone()}</span>" "<code>{op.path.clone()}</code>" "<span class="muted">{op.summary.clone()}</span></summary>
                        <div class="op__body">
                            {(!op.parameters.is_empty()).then(|| view! {
                                <table class="table"><thead><tr><th>"Parameter"</th><th>"In"</th><th>"Type"</th><th>"Description"</th></tr></thead><tbody>
                                    {op.parameters.iter().map(|p| view! { <tr><td><code>{p.name.clone()}</code>{p.required.then_some(" *")}</td><td>{p.location.clone()}</td><td>{p.kind.clone()}</td><td>{p.description.clone()}</td></tr> }).collect_view()}
                                </tbody></table>
                            })}
                            {op.request_schema.clone().map(|s| view! { <p><strong>"Request body"</strong></p><pre class="schema">{s}</pre> })}
                            {op.responses.iter().map(|r| view! {
                                <p><strong>{r.status.clone()}</strong>" "{r.description.clone()}</p>
                                {r.schema.clone().map(|s| view! { <pre class="schema">{s}</pre> })}
                            }).collect_view()}
                        </div>
                    </details>
                }).collect_view()}
            }
        })
        .collect_view()
}
