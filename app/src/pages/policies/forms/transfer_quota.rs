//! Transfer Quota: bytes per calendar period, uploaded, downloaded or both.

use domain::FieldError;
use domain::policy::{Direction, Period, TransferQuota};
use leptos::prelude::*;

use super::{Form, FormCtx, GranularityFields, PeriodField, Scope, from_json};
use crate::components::form::{Choice, TextField, whole};
use crate::components::ui::Field;

pub(super) const FORM: Form = Form::new("limit direction granularity header period", form);

const BYTE_UNITS: [(u64, &str); 5] = [
    (1, "bytes"),
    (1 << 10, "KB"),
    (1 << 20, "MB"),
    (1 << 30, "GB"),
    (1 << 40, "TB"),
];

fn form(ctx: FormCtx, json: Option<&str>) -> AnyView {
    let initial: Option<TransferQuota> = from_json(json);
    view! { <TransferQuotaForm ctx initial /> }.into_any()
}

#[component]
fn TransferQuotaForm(ctx: FormCtx, initial: Option<TransferQuota>) -> impl IntoView {
    // Show the stored byte count in the largest unit that divides it.
    let (amount, unit) = initial.as_ref().map_or((String::new(), 1 << 20), |t| {
        let unit = BYTE_UNITS
            .iter()
            .rev()
            .map(|(u, _)| *u)
            .find(|u| t.limit != 0 && t.limit % u == 0)
            .unwrap_or(1);
        ((t.limit / unit).to_string(), unit)
    });
    let amount = RwSignal::new(amount);
    let unit = RwSignal::new(unit);
    let direction = RwSignal::new(initial.as_ref().map_or(Direction::Both, |t| t.direction));
    let scope = Scope::new(initial.as_ref().map(|t| (t.granularity, t.header.clone())));
    let period = RwSignal::new(initial.as_ref().map_or(Period::Month, |t| t.period));
    ctx.on_build(move || {
        let message = "Enter the amount of data, a whole number of at least 1.";
        let n: u64 = whole(&amount.get_untracked(), "limit", message)?;
        let too_large = || vec![FieldError::new("limit", "This limit is too large.")];
        let (granularity, header) = scope.read();
        Ok(TransferQuota {
            limit: n.checked_mul(unit.get_untracked()).ok_or_else(too_large)?,
            direction: direction.get_untracked(),
            period: period.get_untracked(),
            granularity,
            header,
        })
    });
    let units = BYTE_UNITS
        .iter()
        .map(|(u, label)| (*u, u.to_string(), (*label).to_owned()))
        .collect();
    let directions = [
        (Direction::Upload, "upload", "Upload (request bodies)"),
        (
            Direction::Download,
            "download",
            "Download (response bodies)",
        ),
        (Direction::Both, "both", "Upload and download"),
    ]
    .map(|(d, value, label)| (d, value.to_owned(), label.to_owned()))
    .into();
    let no_error = Signal::derive(|| None::<String>);
    // Another unit makes another limit.
    ctx.errors.watch(|| "limit".to_owned(), unit);
    view! {
        <div class="policy-form">
            <div class="policy-form__pair">
                <TextField errors=ctx.errors field="limit" label="Limit" required=true hint="Data allowed per period."
                    value=amount placeholder="e.g. 500" input_type="number" min="1" />
                <Field id="pf-unit" label="Unit" error=no_error>
                    <Choice id="pf-unit" value=unit options=units />
                </Field>
            </div>
            <Field id="pf-direction" label="Direction" error=ctx.errors.field("direction", direction)>
                <Choice id="pf-direction" value=direction options=directions />
            </Field>
            <PeriodField ctx period calendar=true />
            <GranularityFields ctx scope />
        </div>
    }
}
