//! CORS: which origins, methods and headers browsers may use from other sites.

use domain::policy::Cors;
use leptos::prelude::*;

use super::{Form, FormCtx, from_json};
use crate::components::form::{Check, CheckGroup, TextField, blank, lines, whole};

pub(super) const FORM: Form = Form::new(
    "allowOrigins allowMethods allowHeaders exposeHeaders allowCredentials maxAge errorOnFailure",
    form,
);

fn form(ctx: FormCtx, json: Option<&str>) -> AnyView {
    let initial: Cors = from_json(json).unwrap_or_default();
    let origins = RwSignal::new(initial.allow_origins.join("\n"));
    let methods = RwSignal::new(initial.allow_methods.join("\n"));
    let headers = RwSignal::new(initial.allow_headers.join("\n"));
    let expose = RwSignal::new(initial.expose_headers.join("\n"));
    let credentials = RwSignal::new(initial.allow_credentials);
    let max_age = RwSignal::new(initial.max_age.map(|m| m.to_string()).unwrap_or_default());
    let error_on_failure = RwSignal::new(initial.error_on_failure);
    ctx.on_build(move || {
        let age = max_age.get_untracked();
        let message = "Enter a number of seconds, or leave it empty.";
        let age = if blank(&age) {
            None
        } else {
            Some(whole(&age, "maxAge", message)?)
        };
        Ok(Cors {
            allow_origins: lines(&origins.get_untracked()),
            allow_methods: lines(&methods.get_untracked()),
            allow_headers: lines(&headers.get_untracked()),
            expose_headers: lines(&expose.get_untracked()),
            allow_credentials: credentials.get_untracked(),
            max_age: age,
            error_on_failure: error_on_failure.get_untracked(),
        })
    });
    let credentials_error = ctx.errors.field("allowCredentials", credentials);
    let failure_error = ctx.errors.field("errorOnFailure", error_on_failure);
    let flags_error =
        Signal::derive(move || credentials_error.get().or_else(|| failure_error.get()));
    let errors = ctx.errors;
    view! {
        <div class="policy-form">
            <TextField errors field="allowOrigins" label="Allowed origins (one per line)" required=true
                hint="* for any, or scheme://host[:port], e.g. https://app.example.com."
                value=origins placeholder="https://app.example.com" lines=3 />
            <div class="policy-form__pair">
                <TextField errors field="allowMethods" label="Allowed methods (one per line)"
                    hint="Empty: GET, HEAD and POST. * allows any." value=methods placeholder="GET\nPUT" lines=3 />
                <TextField errors field="allowHeaders" label="Allowed request headers (one per line)"
                    hint="* allows any." value=headers placeholder="Content-Type" lines=3 />
            </div>
            <TextField errors field="exposeHeaders" label="Exposed response headers (one per line)"
                hint="Response headers scripts in the browser may read." value=expose placeholder="X-Total-Count" lines=2 />
            <TextField errors field="maxAge" label="Max age (seconds, optional)"
                hint="How long a browser may cache a preflight answer." value=max_age placeholder="600" input_type="number" />
            <CheckGroup error=flags_error>
                <Check id="pf-allowCredentials" label="Allow credentials (cookies, Authorization header)" value=credentials />
                <Check id="pf-errorOnFailure" label="Refuse requests from other origins" value=error_on_failure
                    hint="Answer 400 Bad Request instead of answering without CORS headers." />
            </CheckGroup>
        </div>
    }
    .into_any()
}
