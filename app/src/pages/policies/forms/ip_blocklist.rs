//! IP Blocklist: the listed addresses are refused (the form of IP Allowlist).

use domain::policy::IpList;
use leptos::prelude::*;

use super::ip_allowlist::IpListForm;
use super::{Form, FormCtx, from_json};

pub(super) const FORM: Form = Form::new(super::ip_allowlist::FORM.fields, form);

fn form(ctx: FormCtx, json: Option<&str>) -> AnyView {
    let initial: Option<IpList> = from_json(json);
    let hint = "These are refused. IPv4 or IPv6 addresses, CIDR blocks (10.0.0.0/8), ranges (10.0.0.1-10.0.0.9), or * for any.";
    view! { <IpListForm ctx initial ips_hint=hint /> }.into_any()
}
