//! The Change Log table the organization page and every version page show: who, what, when,
//! and field-level before/after, paged.

use domain::dto::{AuditEntryDto, Page};
use leptos::prelude::*;

use crate::components::ui::{Badge, EmptyState, LoadError, Pager, SkeletonRows, format_time};
use crate::error::AppError;

/// A Change Log table: who, what, when, and field-level before/after; paged.
#[component]
pub fn ChangeLogTable(
    entries: Resource<Result<Page<AuditEntryDto>, AppError>>,
    page: RwSignal<u64>,
    per_page: RwSignal<u64>,
) -> impl IntoView {
    view! {
        <section class="card">
            <div class="card__header"><h2 class="card__title">"Change Log"</h2></div>
            <div class="card__body card--flush">
                <Transition fallback=|| view! { <SkeletonRows /> }>
                    {move || Suspend::new(async move {
                        match entries.await {
                            Err(e) => view! { <LoadError error=e /> }.into_any(),
                            Ok(p) if p.items.is_empty() => view! { <EmptyState message="No changes recorded yet." /> }.into_any(),
                            Ok(p) => {
                                let total = p.total;
                                view! {
                                <div class="table-wrap">
                                    <table class="table">
                                        <thead><tr><th>"When"</th><th>"Who"</th><th>"What"</th><th>"Details"</th></tr></thead>
                                        <tbody>
                                            {p.items.into_iter().map(|e| view! {
                                                <tr>
                                                    <td>{format_time(&e.when)}</td>
                                                    <td>{e.who.clone()}</td>
                                                    <td><Badge label=e.what.clone() modifier="role" /></td>
                                                    <td>
                                                        <div>{e.summary.clone()}</div>
                                                        {e.changes.iter().map(|c| view! {
                                                            <div class="muted">{format!("{}: “{}” → “{}”", c.field, c.before, c.after)}</div>
                                                        }).collect_view()}
                                                    </td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                <Pager page per_page total />
                            }.into_any()
                            }
                        }
                    })}
                </Transition>
            </div>
        </section>
    }
}
