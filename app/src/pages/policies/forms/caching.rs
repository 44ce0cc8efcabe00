//! Caching Resources: matching responses kept in the gateway for a number of seconds.

use domain::policy::{CacheRule, Caching};
use leptos::prelude::*;

use super::{Form, FormCtx, from_json, method_options};
use crate::components::form::{
    Check, FormErrors, RowInput, RowSelect, Rows, TextField, blank, keyed_or_one, number,
};

pub(super) const FORM: Form = Form::new("ttlSeconds rules", form);

#[derive(Clone, Copy)]
struct CacheRow {
    method: RwSignal<String>,
    path: RwSignal<String>,
    status: RwSignal<String>,
}

fn cache_row(r: CacheRule) -> CacheRow {
    CacheRow {
        method: RwSignal::new(r.method),
        path: RwSignal::new(r.path_pattern),
        status: RwSignal::new(r.status_code.map(|s| s.to_string()).unwrap_or_default()),
    }
}

/// The first rule of a new policy: every path.
fn any_path() -> CacheRow {
    cache_row(CacheRule {
        path_pattern: ".*".to_owned(),
        ..CacheRule::default()
    })
}

fn render(errors: FormErrors, r: CacheRow, index: Signal<usize>) -> AnyView {
    let methods = method_options(&r.method.get_untracked());
    view! {
        <RowSelect errors list="rules" index field="method" label="Method" value=r.method options=methods />
        <RowInput errors list="rules" index field="pathPattern" label="Path pattern (regex)" value=r.path placeholder="/weather/.*" mono=true />
        <RowInput errors list="rules" index field="statusCode" label="Status code (optional)" value=r.status placeholder="200" input_type="number" min="100" max="599" />
    }
    .into_any()
}

fn form(ctx: FormCtx, json: Option<&str>) -> AnyView {
    let initial: Caching = from_json(json).unwrap_or_default();
    let ttl = RwSignal::new(initial.ttl_seconds.to_string());
    let authorized = RwSignal::new(initial.cache_authorized_requests);
    let rules = RwSignal::new(keyed_or_one(initial.rules, cache_row, any_path));
    ctx.on_build(move || {
        let mut errors = Vec::new();
        let ttl_seconds = number::<u32>(
            &ttl.get_untracked(),
            "ttlSeconds",
            "Enter a number of seconds of at least 1.",
            &mut errors,
        );
        let rules = rules.with_untracked(|v| {
            v.iter()
                .enumerate()
                .map(|(i, (_, r))| {
                    let status = r.status.get_untracked();
                    let message = "Enter a status code such as 200, or leave it empty.";
                    CacheRule {
                        method: r.method.get_untracked(),
                        path_pattern: r.path.get_untracked().trim().to_owned(),
                        status_code: (!blank(&status))
                            .then(|| {
                                number(
                                    &status,
                                    format!("rules[{i}].statusCode"),
                                    message,
                                    &mut errors,
                                )
                            })
                            .flatten(),
                    }
                })
                .collect()
        });
        match ttl_seconds {
            Some(ttl_seconds) if errors.is_empty() => Ok(Caching {
                ttl_seconds,
                rules,
                cache_authorized_requests: authorized.get_untracked(),
            }),
            _ => Err(errors),
        }
    });
    let errors = ctx.errors;
    view! {
        <div class="policy-form">
            <TextField errors field="ttlSeconds" label="Time to live (seconds)" required=true
                hint="How long the gateway keeps a cached response (at most 30 days)." value=ttl placeholder="60" input_type="number" />
            <fieldset class="policy-fieldset">
                <legend>"Cache these responses"</legend>
                <p class="field__hint">"Without a status code, only 200 OK responses are cached."</p>
                <Rows errors list="rules" rows=rules new_row=|| cache_row(CacheRule::default()) render
                    noun="rule" add_label="Add rule" empty="No rules yet." />
            </fieldset>
            <Check id="pf-cacheAuthorizedRequests" label="Cache requests with an Authorization header" value=authorized
                hint="Off by default: such answers are usually personal. Each caller (client, BASIC user) has its own cached responses either way." />
        </div>
    }
    .into_any()
}
