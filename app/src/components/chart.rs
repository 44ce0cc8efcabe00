//! SVG chart primitives, drawn by the app in the palette of `style/`: the frame with its axis
//! labels and grid, hover columns with tooltips, bars' coordinates, lines with gaps, legends,
//! and "nice" axis maxima. What a chart shows (the Metrics tab's requests and latency) is the
//! page's; how it is drawn is here.

use leptos::prelude::*;

/// Width of one bucket in the charts' coordinate system (the SVGs stretch to their box).
pub const STEP: f64 = 10.0;
/// Height of the plots in the charts' coordinate system.
pub const HEIGHT: f64 = 100.0;

/// A chart of `n` buckets: y-axis labels (top, middle, 0), the plot (an SVG named `label`, with
/// its grid, then `children`), x-axis labels (bucket index, text) below it.
#[component]
pub fn Chart(
    n: usize,
    y_max: String,
    y_mid: Option<String>,
    ticks: Vec<(usize, String)>,
    label: String,
    children: Children,
) -> impl IntoView {
    let n = n.max(1);
    view! {
        <div class="chart">
            <div class="chart__y" aria-hidden="true">
                <span>{y_max}</span>
                <span>{y_mid.unwrap_or_default()}</span>
                <span>"0"</span>
            </div>
            <div class="chart__plot">
                <svg
                    class="chart__svg"
                    viewBox=format!("0 0 {} {}", fmt(n as f64 * STEP), fmt(HEIGHT))
                    preserveAspectRatio="none"
                    role="img"
                    aria-label=label
                >
                    <Grid n />
                    {children()}
                </svg>
            </div>
            <div class="chart__x" aria-hidden="true">
                {ticks
                    .into_iter()
                    .map(|(i, label)| {
                        let left = (i as f64 + 0.5) / n as f64 * 100.0;
                        view! {
                            <span style=format!("left: {left:.2}%")>{label}</span>
                        }
                    })
                    .collect_view()}
            </div>
        </div>
    }
}

/// Horizontal grid lines at the top, middle and a quarter steps, and the baseline.
#[component]
fn Grid(n: usize) -> impl IntoView {
    let width = fmt(n as f64 * STEP);
    view! {
        <g class="chart__grid">
            {[0.0, 0.25, 0.5, 0.75]
                .into_iter()
                .map(|f| {
                    let y = fmt(f * HEIGHT);
                    view! {
                        <line x1="0" x2=width.clone() y1=y.clone() y2=y vector-effect="non-scaling-stroke" />
                    }
                })
                .collect_view()}
        </g>
        <line
            class="chart__baseline"
            x1="0"
            x2=width.clone()
            y1=fmt(HEIGHT)
            y2=fmt(HEIGHT)
            vector-effect="non-scaling-stroke"
        />
    }
}

/// The bucket `i` as a hover target with its tooltip, over what it holds (`children`).
#[component]
pub fn Column(
    i: usize,
    tip: String,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <g class="chart__column">
            <title>{tip}</title>
            <rect class="chart__hit" x=fmt(i as f64 * STEP) y="0" width=fmt(STEP) height=fmt(HEIGHT) />
            {children.map(|c| c())}
        </g>
    }
}

/// Bars stacked from the bottom of bucket `i`: each value of `parts` (of `y_max`) with its CSS
/// class.
pub fn stacked_bars(i: usize, parts: Vec<(u64, String)>, y_max: u64) -> impl IntoView {
    let x = i as f64 * STEP;
    let mut y = HEIGHT;
    parts
        .into_iter()
        .map(|(value, class)| {
            let h = value as f64 / y_max.max(1) as f64 * HEIGHT;
            y -= h;
            view! {
                <rect
                    class=class
                    x=fmt(x + STEP * 0.15)
                    y=fmt(y)
                    width=fmt(STEP * 0.7)
                    height=fmt(h)
                />
            }
        })
        .collect_view()
}

/// A line through the buckets' values (of `y_max`), with gaps where a bucket has none; a lone
/// value is a short tick so that it stays visible.
pub fn line(values: &[Option<f64>], y_max: f64, class: &'static str) -> impl IntoView + use<> {
    segments(values, y_max)
        .into_iter()
        .map(|points| {
            if points.len() == 1 {
                let (x, y) = points[0];
                view! {
                    <line
                        class=format!("line {class}")
                        x1=fmt(x - STEP * 0.3)
                        x2=fmt(x + STEP * 0.3)
                        y1=fmt(y)
                        y2=fmt(y)
                        vector-effect="non-scaling-stroke"
                    />
                }
                .into_any()
            } else {
                let path = points
                    .iter()
                    .map(|(x, y)| format!("{},{}", fmt(*x), fmt(*y)))
                    .collect::<Vec<_>>()
                    .join(" ");
                view! {
                    <polyline
                        class=format!("line {class}")
                        points=path
                        vector-effect="non-scaling-stroke"
                    />
                }
                .into_any()
            }
        })
        .collect_view()
}

/// The runs of consecutive buckets with a value, as chart coordinates.
fn segments(values: &[Option<f64>], y_max: f64) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => current.push((
                (i as f64 + 0.5) * STEP,
                HEIGHT - (v / y_max).min(1.0) * HEIGHT,
            )),
            None if !current.is_empty() => out.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The legend of a chart: label and swatch class of each series (the table says it in words).
#[component]
pub fn Legend(items: Vec<(String, String)>) -> impl IntoView {
    view! {
        <ul class="chart-legend" aria-hidden="true">
            {items
                .into_iter()
                .map(|(label, class)| {
                    view! {
                        <li>
                            <span class=format!("swatch {class}")></span>
                            {label}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// A coordinate with at most two decimals.
pub fn fmt(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The next of 1, 2, 5 × 10ⁿ at or above `max` (at least 1): the top of a count axis.
pub fn nice_count(max: u64) -> u64 {
    let mut base = 1u64;
    loop {
        for m in [1, 2, 5] {
            let candidate = base.saturating_mul(m);
            if candidate >= max {
                return candidate;
            }
        }
        if base > u64::MAX / 10 {
            return max;
        }
        base *= 10;
    }
}

/// The next of 1, 2, 5 × 10ⁿ at or above `max` (at least 1): the top of a measure's axis.
pub fn nice_value(max: f64) -> f64 {
    if max <= 1.0 || !max.is_finite() {
        return 1.0;
    }
    let base = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * base)
        .find(|c| *c >= max)
        .unwrap_or(10.0 * base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_scales() {
        assert_eq!(nice_count(0), 1);
        assert_eq!(nice_count(1), 1);
        assert_eq!(nice_count(3), 5);
        assert_eq!(nice_count(42), 50);
        assert_eq!(nice_count(101), 200);
        assert_eq!(nice_value(0.4), 1.0);
        assert_eq!(nice_value(12.0), 20.0);
        assert_eq!(nice_value(480.0), 500.0);
    }

    #[test]
    fn coordinates() {
        assert_eq!(fmt(7.0), "7");
        assert_eq!(fmt(1.5), "1.5");
        assert_eq!(
            segments(&[Some(50.0), None, Some(100.0), Some(0.0)], 100.0),
            vec![vec![(5.0, 50.0)], vec![(25.0, 0.0), (35.0, 100.0)]]
        );
    }
}
