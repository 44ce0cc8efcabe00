//! Time Restricted Access: matching paths are available only in the given windows (UTC).

use domain::policy::{TimeRestricted, TimeRule};
use leptos::prelude::*;

use super::{Form, FormCtx, RuleRows, from_json, rules_form};
use crate::components::form::{FormErrors, RowInput, RowSelect};

const HINT: &str = "Matching paths are available only in these windows (times in UTC, both ends included); other requests are answered 423 Locked. Windows may wrap: 22:00 to 06:00, or Saturday to Monday.";

pub(super) const FORM: Form = Form::new("rules", form);

const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

#[derive(Clone, Copy)]
struct TimeRow {
    start: RwSignal<String>,
    end: RwSignal<String>,
    day_start: RwSignal<u8>,
    day_end: RwSignal<u8>,
    path: RwSignal<String>,
}

fn time_row(r: TimeRule) -> TimeRow {
    TimeRow {
        start: RwSignal::new(r.time_start),
        end: RwSignal::new(r.time_end),
        day_start: RwSignal::new(r.day_start),
        day_end: RwSignal::new(r.day_end),
        path: RwSignal::new(r.path_pattern),
    }
}

fn read(r: &TimeRow) -> TimeRule {
    TimeRule {
        time_start: r.start.get_untracked(),
        time_end: r.end.get_untracked(),
        day_start: r.day_start.get_untracked(),
        day_end: r.day_end.get_untracked(),
        path_pattern: r.path.get_untracked().trim().to_owned(),
    }
}

fn new_time_row() -> TimeRow {
    time_row(TimeRule {
        time_start: "08:00".to_owned(),
        time_end: "18:00".to_owned(),
        day_start: 1,
        day_end: 5,
        path_pattern: ".*".to_owned(),
    })
}

fn days() -> Vec<(u8, String, String)> {
    DAYS.iter()
        .zip(1u8..)
        .map(|(name, n)| (n, n.to_string(), (*name).to_owned()))
        .collect()
}

fn render(errors: FormErrors, r: TimeRow, index: Signal<usize>) -> AnyView {
    view! {
        <RowInput errors list="rules" index field="timeStart" label="From (UTC)" value=r.start input_type="time" />
        <RowInput errors list="rules" index field="timeEnd" label="To (UTC)" value=r.end input_type="time" />
        <RowSelect errors list="rules" index field="dayStart" label="From day" value=r.day_start options=days() />
        <RowSelect errors list="rules" index field="dayEnd" label="To day" value=r.day_end options=days() />
        <RowInput errors list="rules" index field="pathPattern" label="Path pattern (regex)" value=r.path placeholder=".*" mono=true />
    }
    .into_any()
}

const ROWS: RuleRows<TimeRule, TimeRow> = RuleRows::new(HINT, time_row, new_time_row, read, render);

fn form(ctx: FormCtx, json: Option<&str>) -> AnyView {
    let stored = from_json::<TimeRestricted>(json).map(|t| t.rules);
    rules_form(ctx, stored, ROWS, |rules| TimeRestricted { rules })
}
