//! Authorization: ordered method and path rules, each naming the roles or scopes it requires,
//! read from a claim of the verified token (or a BASIC user's roles).

use domain::policy::{AccessRule, Authorization, DefaultAction};
use leptos::prelude::*;

use super::{Form, FormCtx, from_json, method_options};
use crate::components::form::{
    Choice, FormErrors, RowInput, RowSelect, Rows, TextField, collect_rows, keyed_or_one, words,
};
use crate::components::ui::Field;

pub(super) const FORM: Form = Form::new("rolesClaim rules defaultAction", form);

#[derive(Clone, Copy)]
struct RuleRow {
    method: RwSignal<String>,
    path: RwSignal<String>,
    /// Comma- or space-separated.
    roles: RwSignal<String>,
}

fn rule_row(r: AccessRule) -> RuleRow {
    RuleRow {
        method: RwSignal::new(r.method),
        path: RwSignal::new(r.path_pattern),
        roles: RwSignal::new(r.roles.join(" ")),
    }
}

fn new_rule() -> RuleRow {
    rule_row(AccessRule::default())
}

fn render(errors: FormErrors, r: RuleRow, index: Signal<usize>) -> AnyView {
    let methods = method_options(&r.method.get_untracked());
    view! {
        <RowSelect errors list="rules" index field="method" label="Method" value=r.method options=methods />
        <RowInput errors list="rules" index field="pathPattern" label="Path pattern (regex)" value=r.path placeholder="/admin/.*" mono=true />
        <RowInput errors list="rules" index field="roles" label="Required roles (any of)" value=r.roles placeholder="weather:write admin" mono=true />
    }
    .into_any()
}

fn form(ctx: FormCtx, json: Option<&str>) -> AnyView {
    let initial: Authorization = from_json(json).unwrap_or_default();
    let claim = RwSignal::new(initial.roles_claim.clone());
    let rules = RwSignal::new(keyed_or_one(initial.rules, rule_row, new_rule));
    let default_action = RwSignal::new(initial.default_action);
    ctx.on_build(move || {
        Ok(Authorization {
            roles_claim: claim.get_untracked().trim().to_owned(),
            rules: collect_rows(rules, |r| AccessRule {
                method: r.method.get_untracked(),
                path_pattern: r.path.get_untracked().trim().to_owned(),
                roles: words(&r.roles.get_untracked()),
            }),
            default_action: default_action.get_untracked(),
        })
    });
    let errors = ctx.errors;
    let actions = vec![
        (
            DefaultAction::Deny,
            "deny".to_owned(),
            "Refuse it (403 Forbidden)".to_owned(),
        ),
        (
            DefaultAction::Allow,
            "allow".to_owned(),
            "Let it through".to_owned(),
        ),
    ];
    view! {
        <div class="policy-form">
            <TextField errors field="rolesClaim" label="Roles claim" required=true
                hint="The claim of the token holding its roles or scopes: scope, roles, realm_access.roles (Keycloak) or resource_access.<client>.roles. A BASIC user's roles count too."
                value=claim placeholder="scope" mono=true />
            <fieldset class="policy-fieldset">
                <legend>"Rules"</legend>
                <p class="field__hint">
                    "Checked in order; the first rule whose method and path match decides. Patterns are regular expressions matched against the whole path after the API's address. A rule without roles lets in anyone verified."
                </p>
                <Rows errors list="rules" rows=rules new_row=new_rule render noun="rule" add_label="Add rule" empty="No rules yet." />
            </fieldset>
            <Field id="pf-defaultAction" label="When no rule matches" error=errors.field("defaultAction", default_action)>
                <Choice id="pf-defaultAction" value=default_action options=actions />
            </Field>
        </div>
    }
    .into_any()
}
