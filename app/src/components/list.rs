//! A filterable, paged table over a list that loads once (the dashboard's and the list pages'
//! tables): a filter box, the rows of the current page, "Items per page" and the pager, and an
//! empty state when there is nothing at all.

use domain::dto::DEFAULT_PAGE_SIZE;
use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::components::ui::{LoadError, Pager, SkeletonRows};
use crate::error::AppError;

#[component]
pub fn FilteredTable<T>(
    items: Resource<Result<Vec<T>, AppError>>,
    /// Plural, lower case ("organizations"): the filter's label.
    noun: &'static str,
    /// Whether an item matches the filter text (trimmed, lower case, not empty).
    matches: fn(&T, &str) -> bool,
    /// The column headings.
    #[prop(into)]
    columns: Vec<&'static str>,
    /// One `<tr>` per item.
    row: Callback<T, AnyView>,
    /// Shown when the list is empty (not merely filtered to nothing).
    empty: ViewFn,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
{
    let filter = RwSignal::new(String::new());
    let page = RwSignal::new(1u64);
    let per_page = RwSignal::new(DEFAULT_PAGE_SIZE);
    let matching = move || {
        let needle = filter.get().trim().to_lowercase();
        items
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .filter(|item| needle.is_empty() || matches(item, &needle))
            .collect::<Vec<_>>()
    };
    let total = Signal::derive(move || matching().len() as u64);
    let columns = StoredValue::new(columns);
    let empty = StoredValue::new(empty);
    view! {
        <div class="list-toolbar">
            <input
                class="input filter-input"
                type="search"
                placeholder=format!("Filter {noun}")
                aria-label=format!("Filter {noun}")
                prop:value=move || filter.get()
                on:input=move |ev| {
                    filter.set(event_target_value(&ev));
                    page.set(1);
                }
            />
        </div>
        <Transition fallback=|| view! { <SkeletonRows /> }>
            {move || Suspend::new(async move {
                match items.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(all) if all.is_empty() => empty.with_value(|e| e.run()),
                    Ok(_) => view! {
                        <div class="table-wrap">
                            <table class="table">
                                <thead><tr>
                                    {columns.get_value().into_iter().map(|c| view! { <th>{c}</th> }).collect_view()}
                                </tr></thead>
                                <tbody>
                                    {move || {
                                        let (p, n) = (page.get(), per_page.get());
                                        let rows: Vec<T> = matching().into_iter().skip(((p - 1) * n) as usize).take(n as usize).collect();
                                        if rows.is_empty() {
                                            let span = columns.with_value(Vec::len).to_string();
                                            return view! { <tr><td colspan=span class="muted">"Nothing matches the filter."</td></tr> }.into_any();
                                        }
                                        rows.into_iter().map(|item| row.run(item)).collect_view().into_any()
                                    }}
                                </tbody>
                            </table>
                        </div>
                        <Pager page per_page total />
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
