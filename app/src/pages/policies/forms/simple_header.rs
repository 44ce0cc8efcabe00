//! Simple Header: headers added to requests or responses, or stripped from them.

use domain::policy::{AddHeader, ApplyTo, SimpleHeader, StripBy, StripHeader};
use leptos::prelude::*;

use super::{Form, FormCtx, from_json};
use crate::components::form::{Check, FormErrors, RowInput, RowSelect, Rows, collect_rows, keyed};

pub(super) const FORM: Form = Form::new("addHeaders stripHeaders", form);

#[derive(Clone, Copy)]
struct AddRow {
    name: RwSignal<String>,
    value: RwSignal<String>,
    apply_to: RwSignal<ApplyTo>,
    overwrite: RwSignal<bool>,
}

fn add_row(h: AddHeader) -> AddRow {
    AddRow {
        name: RwSignal::new(h.name),
        value: RwSignal::new(h.value),
        apply_to: RwSignal::new(h.apply_to),
        overwrite: RwSignal::new(h.overwrite),
    }
}

#[derive(Clone, Copy)]
struct StripRow {
    by: RwSignal<StripBy>,
    pattern: RwSignal<String>,
    apply_to: RwSignal<ApplyTo>,
}

fn strip_row(h: StripHeader) -> StripRow {
    StripRow {
        by: RwSignal::new(h.by),
        pattern: RwSignal::new(h.pattern),
        apply_to: RwSignal::new(h.apply_to),
    }
}

/// Request, response or both.
fn apply_to_options() -> Vec<(ApplyTo, String, String)> {
    [
        (ApplyTo::Request, "request", "Request"),
        (ApplyTo::Response, "response", "Response"),
        (ApplyTo::Both, "both", "Request and response"),
    ]
    .map(|(a, value, label)| (a, value.to_owned(), label.to_owned()))
    .into()
}

fn render_add(errors: FormErrors, r: AddRow, index: Signal<usize>) -> AnyView {
    let list = "addHeaders";
    let (o_id, o_err) = errors.row(list, index, "overwrite", r.overwrite);
    view! {
        <RowInput errors list index field="name" label="Header name" value=r.name placeholder="X-Api-Version" mono=true />
        <RowInput errors list index field="value" label="Value" value=r.value placeholder="v1" mono=true />
        <RowSelect errors list index field="applyTo" label="Apply to" value=r.apply_to options=apply_to_options() />
        <Check id=o_id label="Replace existing values" value=r.overwrite class="policy-rows__check" error=o_err />
    }
    .into_any()
}

fn render_strip(errors: FormErrors, r: StripRow, index: Signal<usize>) -> AnyView {
    let list = "stripHeaders";
    let by = vec![
        (StripBy::Name, "name".to_owned(), "Header name".to_owned()),
        (
            StripBy::Value,
            "value".to_owned(),
            "Header value".to_owned(),
        ),
    ];
    view! {
        <RowSelect errors list index field="by" label="Match" value=r.by options=by />
        <RowInput errors list index field="pattern" label="Pattern (regex)" value=r.pattern placeholder="X-Internal-.*" mono=true />
        <RowSelect errors list index field="applyTo" label="Apply to" value=r.apply_to options=apply_to_options() />
    }
    .into_any()
}

fn form(ctx: FormCtx, json: Option<&str>) -> AnyView {
    let initial: SimpleHeader = from_json(json).unwrap_or_default();
    let adds = RwSignal::new(keyed(
        if initial.add_headers.is_empty() && initial.strip_headers.is_empty() {
            vec![add_row(AddHeader::default())]
        } else {
            initial.add_headers.into_iter().map(add_row).collect()
        },
    ));
    let strips = RwSignal::new(keyed(initial.strip_headers.into_iter().map(strip_row)));
    ctx.on_build(move || {
        Ok(SimpleHeader {
            add_headers: collect_rows(adds, |r| AddHeader {
                name: r.name.get_untracked().trim().to_owned(),
                value: r.value.get_untracked(),
                apply_to: r.apply_to.get_untracked(),
                overwrite: r.overwrite.get_untracked(),
            }),
            strip_headers: collect_rows(strips, |r| StripHeader {
                by: r.by.get_untracked(),
                pattern: r.pattern.get_untracked().trim().to_owned(),
                apply_to: r.apply_to.get_untracked(),
            }),
        })
    });
    view! {
        <div class="policy-form">
            <fieldset class="policy-fieldset">
                <legend>"Add headers"</legend>
                <Rows errors=ctx.errors list="addHeaders" rows=adds new_row=|| add_row(AddHeader::default()) render=render_add
                    noun="header" add_label="Add header" empty="No headers are added." />
            </fieldset>
            <fieldset class="policy-fieldset">
                <legend>"Strip headers"</legend>
                <p class="field__hint">
                    "Removes headers whose name (any case) or value matches the pattern as a whole. Stripping happens before adding."
                </p>
                <Rows errors=ctx.errors list="stripHeaders" rows=strips new_row=|| strip_row(StripHeader::default()) render=render_strip
                    noun="strip rule" add_label="Add strip rule" empty="No headers are stripped." />
            </fieldset>
        </div>
    }
    .into_any()
}
