//! IP Allowlist: only the listed addresses may call. Its form also serves IP Blocklist.

use domain::policy::IpList;
use leptos::prelude::*;

use super::{Form, FormCtx, from_json};
use crate::components::form::{Choice, TextField, lines, optional};
use crate::components::ui::Field;

pub(super) const FORM: Form = Form::new("ips responseCode ipHeader", form);

fn form(ctx: FormCtx, json: Option<&str>) -> AnyView {
    let initial: Option<IpList> = from_json(json);
    let hint = "Only these may call. IPv4 or IPv6 addresses, CIDR blocks (10.0.0.0/8), ranges (10.0.0.1-10.0.0.9), or * for any.";
    view! { <IpListForm ctx initial ips_hint=hint /> }.into_any()
}

/// The addresses, the status refused requests get, and the header that carries the caller's
/// address.
#[component]
pub(super) fn IpListForm(
    ctx: FormCtx,
    initial: Option<IpList>,
    ips_hint: &'static str,
) -> impl IntoView {
    let initial = initial.unwrap_or_default();
    let ips = RwSignal::new(initial.ips.join("\n"));
    let response_code = RwSignal::new(initial.response_code);
    let ip_header = RwSignal::new(initial.ip_header.clone().unwrap_or_default());
    ctx.on_build(move || {
        Ok(IpList {
            ips: lines(&ips.get_untracked()),
            response_code: response_code.get_untracked(),
            ip_header: optional(&ip_header.get_untracked()),
        })
    });
    let codes = [
        (403u16, "403 Forbidden"),
        (404, "404 Not Found"),
        (500, "500 Internal Server Error"),
    ]
    .map(|(code, label)| (code, code.to_string(), label.to_owned()))
    .into();
    view! {
        <div class="policy-form">
            <TextField errors=ctx.errors field="ips" label="IP addresses (one per line)" required=true hint=ips_hint
                value=ips placeholder="192.168.1.10\n10.0.0.0/8" lines=5 />
            <Field id="pf-responseCode" label="Response code" hint="The status the gateway answers a refused request with."
                error=ctx.errors.field("responseCode", response_code)>
                <Choice id="pf-responseCode" value=response_code options=codes />
            </Field>
            <TextField errors=ctx.errors field="ipHeader" label="Client IP header (optional)"
                hint="A header the proxy in front of the gateway sets to the caller's address, e.g. X-Forwarded-For (its last entry counts). Empty: the address of the connection."
                value=ip_header placeholder="X-Forwarded-For" mono=true />
        </div>
    }
}
