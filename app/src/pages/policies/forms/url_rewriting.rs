//! URL Rewriting: a regular expression replaced in the request URL, headers or response body.

use domain::policy::UrlRewriting;
use leptos::prelude::*;

use super::{Form, FormCtx, from_json};
use crate::components::form::{Check, CheckGroup, TextField};

pub(super) const FORM: Form = Form::new(
    "fromRegex toReplacement processRequestUrl processRequestHeaders processResponseHeaders processBody",
    form,
);

fn form(ctx: FormCtx, json: Option<&str>) -> AnyView {
    let initial: UrlRewriting = from_json(json).unwrap_or_default();
    let from = RwSignal::new(initial.from_regex.clone());
    let to = RwSignal::new(initial.to_replacement.clone());
    let request_url = RwSignal::new(initial.process_request_url);
    let request_headers = RwSignal::new(initial.process_request_headers);
    let response_headers = RwSignal::new(initial.process_response_headers);
    let body = RwSignal::new(initial.process_body);
    ctx.on_build(move || {
        Ok(UrlRewriting {
            from_regex: from.get_untracked(),
            to_replacement: to.get_untracked(),
            process_request_url: request_url.get_untracked(),
            process_request_headers: request_headers.get_untracked(),
            process_response_headers: response_headers.get_untracked(),
            process_body: body.get_untracked(),
        })
    });
    let apply_errors = [
        ("processRequestUrl", request_url),
        ("processRequestHeaders", request_headers),
        ("processResponseHeaders", response_headers),
        ("processBody", body),
    ]
    .map(|(field, value)| ctx.errors.field(field, value));
    let apply_error = Signal::derive(move || apply_errors.iter().find_map(|e| e.get()));
    let errors = ctx.errors;
    view! {
        <div class="policy-form">
            <TextField errors field="fromRegex" label="From (regex)" required=true
                hint="A regular expression that matches at least one character; every match is replaced."
                value=from placeholder="/v1/(.*)" mono=true />
            <TextField errors field="toReplacement" label="To (replacement)"
                hint="At most 1,000 characters. $1 or ${name} insert capture groups; write ${1}x when a letter or digit follows."
                value=to placeholder="/v2/$1" mono=true />
            <fieldset class="policy-fieldset">
                <legend>"Rewrite"</legend>
                <CheckGroup error=apply_error>
                    <Check id="pf-processRequestUrl" label="The request URL" value=request_url />
                    <Check id="pf-processRequestHeaders" label="Request headers" value=request_headers />
                    <Check id="pf-processResponseHeaders" label="Response headers" value=response_headers />
                    <Check id="pf-processBody" label="The response body" value=body />
                </CheckGroup>
            </fieldset>
        </div>
    }
    .into_any()
}
