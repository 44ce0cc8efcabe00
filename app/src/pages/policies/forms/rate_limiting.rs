//! Rate Limiting: requests per window; its form also serves Quota (calendar periods).

use domain::policy::{Limit, Period};
use leptos::prelude::*;

use super::{Form, FormCtx, GranularityFields, PeriodField, Scope, from_json};
use crate::components::form::{TextField, whole};

pub(super) const FORM: Form = Form::new("limit granularity header period", form);

fn form(ctx: FormCtx, json: Option<&str>) -> AnyView {
    let initial: Option<Limit> = from_json(json);
    view! { <LimitForm ctx initial calendar=false /> }.into_any()
}

/// Requests allowed per period: any window (Rate Limiting) or calendar periods (Quota).
#[component]
pub(super) fn LimitForm(ctx: FormCtx, initial: Option<Limit>, calendar: bool) -> impl IntoView {
    let limit = RwSignal::new(
        initial
            .as_ref()
            .map(|l| l.limit.to_string())
            .unwrap_or_default(),
    );
    let scope = Scope::new(initial.as_ref().map(|l| (l.granularity, l.header.clone())));
    let default_period = if calendar {
        Period::Month
    } else {
        Period::Minute
    };
    let period = RwSignal::new(initial.as_ref().map_or(default_period, |l| l.period));
    ctx.on_build(move || {
        let message = "Enter the number of requests, a whole number of at least 1.";
        let limit = whole(&limit.get_untracked(), "limit", message)?;
        let (granularity, header) = scope.read();
        Ok(Limit {
            limit,
            granularity,
            header,
            period: period.get_untracked(),
        })
    });
    view! {
        <div class="policy-form">
            <div class="policy-form__pair">
                <TextField errors=ctx.errors field="limit" label="Limit" required=true hint="Requests allowed per period."
                    value=limit placeholder="e.g. 100" input_type="number" min="1" />
                <PeriodField ctx period calendar />
            </div>
            <GranularityFields ctx scope />
        </div>
    }
}
