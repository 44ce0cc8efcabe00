//! Ignored Resources: requests whose method and path match a rule are answered 404.

use domain::policy::{IgnoredResources, ResourceRule};
use leptos::prelude::*;

use super::{Form, FormCtx, RuleRows, from_json, method_options, rules_form};
use crate::components::form::{FormErrors, RowInput, RowSelect};

const HINT: &str = "Requests whose method and path match a rule are answered 404 Not Found. Patterns are regular expressions matched against the whole path after the API's address.";

pub(super) const FORM: Form = Form::new("rules", form);

#[derive(Clone, Copy)]
struct RuleRow {
    verb: RwSignal<String>,
    path: RwSignal<String>,
}

fn rule_row(r: ResourceRule) -> RuleRow {
    RuleRow {
        verb: RwSignal::new(r.verb),
        path: RwSignal::new(r.path_pattern),
    }
}

fn read(r: &RuleRow) -> ResourceRule {
    ResourceRule {
        verb: r.verb.get_untracked(),
        path_pattern: r.path.get_untracked().trim().to_owned(),
    }
}

fn new_rule() -> RuleRow {
    rule_row(ResourceRule::default())
}

const ROWS: RuleRows<ResourceRule, RuleRow> = RuleRows::new(HINT, rule_row, new_rule, read, render);

fn form(ctx: FormCtx, json: Option<&str>) -> AnyView {
    let stored = from_json::<IgnoredResources>(json).map(|i| i.rules);
    rules_form(ctx, stored, ROWS, |rules| IgnoredResources { rules })
}

fn render(errors: FormErrors, r: RuleRow, index: Signal<usize>) -> AnyView {
    let methods = method_options(&r.verb.get_untracked());
    view! {
        <RowSelect errors list="rules" index field="verb" label="Method" value=r.verb options=methods />
        <RowInput errors list="rules" index field="pathPattern" label="Path pattern (regex)" value=r.path placeholder="/admin/.*" mono=true />
    }
    .into_any()
}
