//! The Metrics tab of client and API versions: a time range, summary tiles, and charts (requests
//! over time by response class, latency, usage by client and by plan), each with tooltips and a
//! table of the same figures for assistive technology. Times are UTC. The SVG primitives are
//! `components::chart`'s.

use chrono::{DateTime, Utc};
use domain::EntityKind;
use domain::dto::{MetricsDto, MetricsPoint, UsageRow};
use domain::metrics::Range;
use domain::portal::thousands;
use leptos::prelude::*;

use crate::api::policies::version_metrics;
use crate::components::chart::{
    Chart, Column, Legend, fmt, line, nice_count, nice_value, stacked_bars,
};
use crate::components::ui::{EmptyState, LoadError};
use crate::pages::entities::RouteParams;

/// Response classes as the charts show them: index into `by_class`, label, CSS modifier.
const CLASSES: [(usize, &str, &str); 5] = [
    (1, "2xx", "2xx"),
    (2, "3xx", "3xx"),
    (3, "4xx", "4xx"),
    (4, "5xx", "5xx"),
    (0, "1xx", "1xx"),
];

/// The Metrics tab: `help` says where the figures come from (shown when there is no traffic).
#[component]
pub fn MetricsTab(kind: EntityKind, p: RouteParams, #[prop(into)] help: String) -> impl IntoView {
    let range = RwSignal::new(Range::Day);
    let metrics = Resource::new(
        move || (p.org.get(), p.id.get(), p.version.get(), range.get()),
        move |(o, i, v, r)| version_metrics(kind, o, i, v, r.as_str().to_owned()),
    );
    let loading = RwSignal::new(false);
    let help = StoredValue::new(help);
    view! {
        <div class="metrics" aria-busy=move || loading.get().to_string()>
            <div class="metrics__toolbar">
                <div>
                    <h2 class="metrics__title">"Traffic"</h2>
                    <p class="muted metrics__subtitle">"Gateway requests. Times in UTC."</p>
                </div>
                <div class="segmented" role="group" aria-label="Time range">
                    {Range::ALL
                        .into_iter()
                        .map(|r| {
                            view! {
                                <button
                                    type="button"
                                    class="segmented__option"
                                    aria-pressed=move || (range.get() == r).to_string()
                                    on:click=move |_| range.set(r)
                                >
                                    {r.label()}
                                </button>
                            }
                        })
                        .collect_view()}
                </div>
            </div>
            <Transition fallback=|| view! { <MetricsSkeleton /> } set_pending=loading.write_only()>
                {move || Suspend::new(async move {
                    match metrics.await {
                        Err(e) => {
                            view! {
                                <section class="card">
                                    <div class="card__body">
                                        <LoadError error=e />
                                    </div>
                                </section>
                            }
                                .into_any()
                        }
                        Ok(m) if m.total == 0 => {
                            view! {
                                <section class="card">
                                    <div class="card__body">
                                        <EmptyState message="No traffic yet.">
                                            <p class="muted">{help.get_value()}</p>
                                        </EmptyState>
                                    </div>
                                </section>
                            }
                                .into_any()
                        }
                        Ok(m) => dashboard(kind, m),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn MetricsSkeleton() -> impl IntoView {
    view! {
        <div class="metric-tiles" aria-busy="true" aria-label="Loading">
            {(0..5).map(|_| view! { <div class="tile"><div class="skeleton skeleton--line"></div><div class="skeleton skeleton--block"></div></div> }).collect_view()}
        </div>
        <section class="card">
            <div class="card__body">
                <div class="skeleton skeleton--chart"></div>
            </div>
        </section>
    }
}

fn dashboard(kind: EntityKind, m: MetricsDto) -> AnyView {
    let range = Range::parse(&m.range).unwrap_or(Range::Day);
    let errors = m.by_class[3] + m.by_class[4];
    let error_rate = percent(errors, m.total);
    let by_plan_title = if kind == EntityKind::Api {
        "Usage by plan"
    } else {
        "Usage by API and plan"
    };
    let by_client = (kind == EntityKind::Api).then(|| m.by_client.clone());
    let by_plan = m.by_plan.clone();
    let class_legend: Vec<(String, String)> = CLASSES
        .iter()
        .filter(|(i, _, _)| *i != 0 || m.by_class[0] > 0)
        .map(|(_, label, modifier)| ((*label).to_owned(), format!("swatch--{modifier}")))
        .collect();
    view! {
        <div class="metric-tiles">
            <Tile label="Requests" value=thousands(m.total) detail=range.label().to_owned() />
            <Tile
                label="Errors (4xx+5xx)"
                value=thousands(errors)
                detail=format!("{error_rate} of requests")
                tone={if errors > 0 { "danger" } else { "" }}
            />
            <Tile label="p50 latency" value=latency(m.p50_ms) detail="Median".to_owned() />
            <Tile label="p95 latency" value=latency(m.p95_ms) detail="95th percentile".to_owned() />
            <Tile
                label="Data in / out"
                value=format!("{} / {}", bytes(m.bytes_in), bytes(m.bytes_out))
                detail="Request / response bodies".to_owned()
            />
        </div>
        <section class="card">
            <div class="card__header">
                <h3 class="card__title">"Requests over time"</h3>
                <Legend items=class_legend />
            </div>
            <div class="card__body">{requests_chart(range, &m)}</div>
        </section>
        <section class="card">
            <div class="card__header">
                <h3 class="card__title">"Latency"</h3>
                <Legend items={vec![
                    ("p50".to_owned(), "swatch--p50".to_owned()),
                    ("p95".to_owned(), "swatch--p95".to_owned()),
                ]} />
            </div>
            <div class="card__body">{latency_chart(range, &m)}</div>
        </section>
        <div class="metrics__usage">
            {by_client
                .map(|rows| {
                    view! { <UsageCard title="Usage by client" rows /> }
                })}
            <UsageCard title=by_plan_title rows=by_plan />
        </div>
        <details class="metrics__table">
            <summary>"Show the figures as a table"</summary>
            {figures_table(range, &m)}
        </details>
    }
    .into_any()
}

#[component]
fn Tile(
    label: &'static str,
    value: String,
    detail: String,
    #[prop(default = "")] tone: &'static str,
) -> impl IntoView {
    let class = if tone.is_empty() {
        "tile metric-tile".to_owned()
    } else {
        format!("tile metric-tile metric-tile--{tone}")
    };
    view! {
        <div class=class>
            <span class="tile__label">{label}</span>
            <span class="tile__value">{value}</span>
            <span class="metric-tile__detail">{detail}</span>
        </div>
    }
}

/// Stacked bars per bucket by response class.
fn requests_chart(range: Range, m: &MetricsDto) -> AnyView {
    let totals: Vec<u64> = m.points.iter().map(|p| p.by_class.iter().sum()).collect();
    let y_max = nice_count(totals.iter().copied().max().unwrap_or(0));
    let label = format!(
        "Requests over time: {} requests, {}",
        thousands(m.total),
        range.label().to_lowercase()
    );
    let columns = m
        .points
        .iter()
        .zip(&totals)
        .enumerate()
        .map(|(i, (p, &total))| {
            let parts = CLASSES
                .iter()
                .filter(|(c, _, _)| p.by_class[*c] > 0)
                .map(|(c, _, modifier)| (p.by_class[*c], format!("bar bar--{modifier}")))
                .collect();
            let tip = format!(
                "{}: {} {}",
                bucket_label(range, m.bucket_minutes, p.minute),
                thousands(total),
                if total == 1 { "request" } else { "requests" },
            ) + &class_breakdown(p);
            view! { <Column i tip>{stacked_bars(i, parts, y_max)}</Column> }
        })
        .collect_view();
    view! {
        <Chart n=m.points.len() y_max={thousands(y_max)} y_mid={y_max.is_multiple_of(2).then(|| thousands(y_max / 2))} ticks={ticks(range, &m.points)} label>
            {columns}
        </Chart>
    }
    .into_any()
}

/// p50 and p95 per bucket as two lines (gaps where a bucket had no traffic).
fn latency_chart(range: Range, m: &MetricsDto) -> AnyView {
    let highest = m
        .points
        .iter()
        .filter_map(|p| p.p95_ms.or(p.p50_ms))
        .fold(0.0_f64, f64::max);
    let y_max = nice_value(highest);
    let label = format!(
        "Latency: p50 {}, p95 {}, {}",
        latency(m.p50_ms),
        latency(m.p95_ms),
        range.label().to_lowercase()
    );
    let p95: Vec<Option<f64>> = m.points.iter().map(|p| p.p95_ms).collect();
    let p50: Vec<Option<f64>> = m.points.iter().map(|p| p.p50_ms).collect();
    let columns = m
        .points
        .iter()
        .enumerate()
        .filter(|(_, p)| p.p50_ms.is_some() || p.p95_ms.is_some())
        .map(|(i, p)| {
            let tip = format!(
                "{}: p50 {}, p95 {}",
                bucket_label(range, m.bucket_minutes, p.minute),
                latency(p.p50_ms),
                latency(p.p95_ms)
            );
            view! { <Column i tip /> }
        })
        .collect_view();
    view! {
        <Chart n=m.points.len() y_max={latency(Some(y_max))} y_mid={Some(latency(Some(y_max / 2.0)))} ticks={ticks(range, &m.points)} label>
            {columns}
            {line(&p95, y_max, "line--p95")}
            {line(&p50, y_max, "line--p50")}
        </Chart>
    }
    .into_any()
}

/// Requests per client or plan as horizontal bars, largest first.
#[component]
fn UsageCard(title: &'static str, rows: Vec<UsageRow>) -> impl IntoView {
    let mut rows = rows;
    rows.sort_by(|a, b| {
        b.requests
            .cmp(&a.requests)
            .then_with(|| a.label.cmp(&b.label))
    });
    let max = rows.iter().map(|r| r.requests).max().unwrap_or(0).max(1);
    view! {
        <section class="card">
            <div class="card__header">
                <h3 class="card__title">{title}</h3>
            </div>
            <div class="card__body">
                {if rows.is_empty() {
                    view! { <p class="muted">"No requests in this range."</p> }.into_any()
                } else {
                    view! {
                        <ul class="usage-list">
                            {rows
                                .into_iter()
                                .map(|r| {
                                    let width = r.requests as f64 / max as f64 * 100.0;
                                    let error_width = r.errors.min(r.requests) as f64 / max as f64 * 100.0;
                                    let tip = format!(
                                        "{}: {} {}, {} {}",
                                        r.label,
                                        thousands(r.requests),
                                        if r.requests == 1 { "request" } else { "requests" },
                                        thousands(r.errors),
                                        if r.errors == 1 { "error" } else { "errors" },
                                    );
                                    view! {
                                        <li class="usage-row">
                                            <div class="usage-row__text">
                                                <span class="usage-row__label">{r.label.clone()}</span>
                                                <span class="usage-row__count">
                                                    {thousands(r.requests)}
                                                    {(r.errors > 0)
                                                        .then(|| {
                                                            view! {
                                                                <span class="usage-row__errors">
                                                                    {format!(
                                                                        " · {} {}",
                                                                        thousands(r.errors),
                                                                        if r.errors == 1 { "error" } else { "errors" },
                                                                    )}
                                                                </span>
                                                            }
                                                        })}
                                                </span>
                                            </div>
                                            <svg
                                                class="usage-row__bar"
                                                viewBox="0 0 100 8"
                                                preserveAspectRatio="none"
                                                aria-hidden="true"
                                            >
                                                <g>
                                                    <title>{tip}</title>
                                                    <rect class="usage-row__track" x="0" y="0" width="100" height="8" />
                                                    <rect class="usage-row__fill" x="0" y="0" width=fmt(width) height="8" />
                                                    <rect class="usage-row__fill--errors" x=fmt(width - error_width) y="0" width=fmt(error_width) height="8" />
                                                </g>
                                            </svg>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }}
            </div>
        </section>
    }
}

/// The buckets with traffic as a table.
fn figures_table(range: Range, m: &MetricsDto) -> AnyView {
    let rows = m
        .points
        .iter()
        .filter(|p| p.by_class.iter().sum::<u64>() > 0)
        .map(|p| {
            let total: u64 = p.by_class.iter().sum();
            view! {
                <tr>
                    <td>{bucket_label(range, m.bucket_minutes, p.minute)}</td>
                    <td class="num">{thousands(total)}</td>
                    <td class="num">{thousands(p.by_class[1])}</td>
                    <td class="num">{thousands(p.by_class[2])}</td>
                    <td class="num">{thousands(p.by_class[3])}</td>
                    <td class="num">{thousands(p.by_class[4])}</td>
                    <td class="num">{latency(p.p50_ms)}</td>
                    <td class="num">{latency(p.p95_ms)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="table">
                <caption class="visually-hidden">"Requests and latency per time bucket (UTC)"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Time (UTC)"</th>
                        <th scope="col" class="num">"Requests"</th>
                        <th scope="col" class="num">"2xx"</th>
                        <th scope="col" class="num">"3xx"</th>
                        <th scope="col" class="num">"4xx"</th>
                        <th scope="col" class="num">"5xx"</th>
                        <th scope="col" class="num">"p50"</th>
                        <th scope="col" class="num">"p95"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

// ------------------------------------------------------------------------------------------------
// Numbers and times
// ------------------------------------------------------------------------------------------------

/// "12.5%" of a total; "0%" of nothing.
fn percent(part: u64, total: u64) -> String {
    if total == 0 {
        return "0%".to_owned();
    }
    let p = part as f64 / total as f64 * 100.0;
    if p == 0.0 || p >= 10.0 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

/// "0.8 ms", "12 ms", "1.25 s", or "–" without data.
fn latency(ms: Option<f64>) -> String {
    match ms {
        None => "–".to_owned(),
        Some(v) if v >= 1000.0 => format!("{:.2} s", v / 1000.0),
        Some(v) if v < 10.0 => {
            let s = format!("{v:.1}");
            format!("{} ms", s.trim_end_matches(".0"))
        }
        Some(v) => format!("{v:.0} ms"),
    }
}

/// "512 B", "1.5 KB", "3.2 MB" (1024-based, like the transfer quota).
fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KB", "MB", "GB", "TB", "PB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut unit = "B";
    for u in UNITS {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    if v >= 100.0 {
        format!("{v:.0} {unit}")
    } else {
        let s = format!("{v:.1}");
        format!("{} {unit}", s.trim_end_matches(".0"))
    }
}

fn time_of(minute: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(minute.saturating_mul(60), 0).unwrap_or_default()
}

/// The bucket in a tooltip or the table: "14:05", "14:00–14:30", "27 Nov, 06:00–12:00",
/// "27 Nov 2026".
fn bucket_label(range: Range, bucket_minutes: i64, minute: i64) -> String {
    let start = time_of(minute);
    let end = time_of(minute + bucket_minutes);
    match range {
        Range::Hour => format!("{} UTC", start.format("%H:%M")),
        Range::Day => format!("{}–{} UTC", start.format("%H:%M"), end.format("%H:%M")),
        Range::Week => format!(
            "{}, {}–{} UTC",
            start.format("%-d %b"),
            start.format("%H:%M"),
            end.format("%H:%M")
        ),
        Range::Month => start.format("%-d %b %Y").to_string(),
    }
}

/// The x-axis labels: every 10 minutes, every 6 hours, every day, or every 5 days.
fn ticks(range: Range, points: &[MetricsPoint]) -> Vec<(usize, String)> {
    points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let t = time_of(p.minute);
            let (every, format) = match range {
                Range::Hour => (10, "%H:%M"),
                Range::Day => (360, "%H:%M"),
                Range::Week => (1440, "%-d %b"),
                Range::Month => (1440 * 5, "%-d %b"),
            };
            (p.minute.rem_euclid(every) == 0).then(|| (i, t.format(format).to_string()))
        })
        .collect()
}

/// " (2xx 40, 4xx 2)" for a tooltip.
fn class_breakdown(p: &MetricsPoint) -> String {
    let parts: Vec<String> = CLASSES
        .iter()
        .filter(|(c, _, _)| p.by_class[*c] > 0)
        .map(|(c, label, _)| format!("{label} {}", thousands(p.by_class[*c])))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(percent(1, 3), "33%");
        assert_eq!(percent(1, 200), "0.5%");
        assert_eq!(latency(Some(2.0)), "2 ms");
        assert_eq!(latency(Some(2.5)), "2.5 ms");
        assert_eq!(latency(Some(1250.0)), "1.25 s");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KB");
        assert_eq!(bytes(5 << 20), "5 MB");
    }

    #[test]
    fn labels_in_utc() {
        // 2026-11-27 14:00 UTC in epoch minutes.
        let minute = 1_795_788_000 / 60;
        assert_eq!(bucket_label(Range::Hour, 1, minute), "14:00 UTC");
        assert_eq!(bucket_label(Range::Day, 30, minute), "14:00–14:30 UTC");
        assert_eq!(
            bucket_label(Range::Month, 1440, minute - 14 * 60),
            "27 Nov 2026"
        );
    }
}
