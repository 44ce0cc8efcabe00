//! Quota: requests per calendar period (the form of Rate Limiting, with calendar periods).

use domain::policy::Limit;
use leptos::prelude::*;

use super::rate_limiting::LimitForm;
use super::{Form, FormCtx, from_json};

pub(super) const FORM: Form = Form::new(super::rate_limiting::FORM.fields, form);

fn form(ctx: FormCtx, json: Option<&str>) -> AnyView {
    let initial: Option<Limit> = from_json(json);
    view! { <LimitForm ctx initial calendar=true /> }.into_any()
}
