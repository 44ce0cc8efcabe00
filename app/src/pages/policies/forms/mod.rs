//! One configuration form per policy type, chosen by [`PolicyKind`], and the pieces several of
//! them share (granularity, period, HTTP methods). Each form reads its stored configuration
//! (when editing), keeps what the user enters in signals, and builds the typed configuration of
//! `domain::policy` from them ([`FormCtx::on_build`]).

mod authorization;
mod basic_auth;
mod caching;
mod cors;
mod ignored_resources;
mod ip_allowlist;
mod ip_blocklist;
mod jwt;
mod quota;
mod rate_limiting;
mod simple_header;
mod time_restricted_access;
mod transfer_quota;
mod url_rewriting;

use std::sync::Arc;

use domain::FieldError;
use domain::policy::{Granularity, Period, PolicyKind};
use leptos::prelude::*;
use leptos::serde_json;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::components::form::{
    Choice, FormErrors, Rows, TextField, collect_rows, keyed_or_one, labelled, optional,
};
use crate::components::ui::Field;

/// Builds the configuration JSON from a form, or says which fields do not read.
pub(super) type Build = Arc<dyn Fn() -> Result<String, Vec<FieldError>> + Send + Sync>;

/// What a configuration form shares with the dialog around it.
#[derive(Clone, Copy)]
pub(super) struct FormCtx {
    /// The messages to show: the form's own (numbers that do not read) or the server's.
    pub errors: FormErrors,
    build: StoredValue<Option<Build>>,
    /// Editing a stored policy (not adding one).
    pub editing: bool,
}

impl FormCtx {
    pub fn new(errors: FormErrors, build: StoredValue<Option<Build>>, editing: bool) -> Self {
        Self {
            errors,
            build,
            editing,
        }
    }

    /// How the form builds its configuration; also the form's own check while the user edits.
    pub fn on_build<T: Serialize>(
        self,
        f: impl Fn() -> Result<T, Vec<FieldError>> + Send + Sync + 'static,
    ) {
        let f = Arc::new(f);
        let check = Arc::clone(&f);
        self.build
            .set_value(Some(Arc::new(move || f().and_then(|c| to_json(&c)))));
        self.errors
            .on_check(move || check().err().unwrap_or_default());
    }
}

/// A policy type's form: the configuration fields it shows next to inputs (errors on any other
/// field are listed above the buttons), and how it is made from the stored configuration.
#[derive(Clone, Copy)]
pub(super) struct Form {
    /// Space-separated.
    fields: &'static str,
    make: fn(FormCtx, Option<&str>) -> AnyView,
}

impl Form {
    const fn new(fields: &'static str, make: fn(FormCtx, Option<&str>) -> AnyView) -> Self {
        Self { fields, make }
    }
}

/// The form of a policy type.
fn of(kind: PolicyKind) -> Form {
    match kind {
        PolicyKind::RateLimiting => rate_limiting::FORM,
        PolicyKind::Quota => quota::FORM,
        PolicyKind::TransferQuota => transfer_quota::FORM,
        PolicyKind::IpAllowlist => ip_allowlist::FORM,
        PolicyKind::IpBlocklist => ip_blocklist::FORM,
        PolicyKind::IgnoredResources => ignored_resources::FORM,
        PolicyKind::TimeRestrictedAccess => time_restricted_access::FORM,
        PolicyKind::Cors => cors::FORM,
        PolicyKind::SimpleHeader => simple_header::FORM,
        PolicyKind::UrlRewriting => url_rewriting::FORM,
        PolicyKind::BasicAuth => basic_auth::FORM,
        PolicyKind::Caching => caching::FORM,
        PolicyKind::Jwt => jwt::FORM,
        PolicyKind::Authorization => authorization::FORM,
    }
}

/// The configuration fields a policy type's form shows next to inputs.
pub(super) fn shown_fields(kind: PolicyKind) -> impl Iterator<Item = &'static str> {
    of(kind).fields.split_whitespace()
}

/// The form of a policy type, filled from `initial` (the stored configuration) when editing.
pub(super) fn config_form(kind: PolicyKind, initial: Option<String>, ctx: FormCtx) -> AnyView {
    (of(kind).make)(ctx, initial.as_deref())
}

fn from_json<T: DeserializeOwned>(json: Option<&str>) -> Option<T> {
    json.and_then(|j| serde_json::from_str(j).ok())
}

fn to_json<T: Serialize>(value: &T) -> Result<String, Vec<FieldError>> {
    serde_json::to_string(value).map_err(|e| {
        vec![FieldError::new(
            "configuration",
            format!("The configuration could not be written: {e}."),
        )]
    })
}

/// What a limit counts per, and the header naming the user when it is per user.
#[derive(Clone, Copy)]
struct Scope {
    granularity: RwSignal<Granularity>,
    header: RwSignal<String>,
}

impl Scope {
    fn new(stored: Option<(Granularity, Option<String>)>) -> Self {
        let (granularity, header) = stored.unwrap_or((Granularity::Client, None));
        Self {
            granularity: RwSignal::new(granularity),
            header: RwSignal::new(header.unwrap_or_default()),
        }
    }

    /// The granularity, and the user header when it counts per user.
    fn read(self) -> (Granularity, Option<String>) {
        let g = self.granularity.get_untracked();
        let header = (g == Granularity::User)
            .then(|| optional(&self.header.get_untracked()))
            .flatten();
        (g, header)
    }
}

/// The serialised name of a granularity.
fn granularity_value(g: Granularity) -> &'static str {
    match g {
        Granularity::Client => "Client",
        Granularity::Api => "Api",
        Granularity::Ip => "Ip",
        Granularity::User => "User",
    }
}

/// Granularity, and the header naming the user when it is per user.
#[component]
fn GranularityFields(ctx: FormCtx, scope: Scope) -> impl IntoView {
    let options = [
        Granularity::Client,
        Granularity::Api,
        Granularity::Ip,
        Granularity::User,
    ]
    .into_iter()
    .map(|g| (g, granularity_value(g).to_owned(), g.label().to_owned()))
    .collect();
    view! {
        <Field
            id="pf-granularity"
            label="Granularity"
            hint="What the limit counts per: each client, the whole API, each IP address, or each user."
            error=ctx.errors.field("granularity", scope.granularity)
        >
            <Choice id="pf-granularity" value=scope.granularity options />
        </Field>
        <Show when=move || scope.granularity.get() == Granularity::User>
            <TextField
                errors=ctx.errors
                field="header"
                label="Header name"
                required=true
                hint="The request header that identifies the user, e.g. X-User-Id."
                value=scope.header
                placeholder="X-User-Id"
                mono=true
            />
        </Show>
    }
}

/// The period select: every period, or Hour and longer for calendar quotas.
#[component]
fn PeriodField(ctx: FormCtx, period: RwSignal<Period>, calendar: bool) -> impl IntoView {
    let periods = Period::ALL
        .into_iter()
        .filter(move |p| !calendar || *p >= Period::Hour);
    let hint = if calendar {
        "Calendar periods in UTC: the count starts again at the start of each."
    } else {
        "The limit applies to any window of this length."
    };
    view! {
        <Field id="pf-period" label="Period" hint=hint error=ctx.errors.field("period", period)>
            <Choice id="pf-period" value=period options=labelled(periods, Period::label) />
        </Field>
    }
}

const METHODS: [&str; 8] = [
    "*", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
];

/// The HTTP methods (and `*`, any) of a rule; a stored method not in the list stays one.
fn method_options(current: &str) -> Vec<(String, String, String)> {
    let mut options: Vec<(String, String, String)> = METHODS
        .iter()
        .map(|m| {
            let label = if *m == "*" { "Any method" } else { m };
            // The stored spelling, so that its option shows as chosen.
            let t = if m.eq_ignore_ascii_case(current) {
                current
            } else {
                m
            };
            (t.to_owned(), (*m).to_owned(), label.to_owned())
        })
        .collect();
    if !current.is_empty() && !METHODS.iter().any(|m| m.eq_ignore_ascii_case(current)) {
        options.push((current.to_owned(), current.to_owned(), current.to_owned()));
    }
    options
}

/// A list of rules under its hint: how its rows are made from the stored rules, read back and
/// shown.
struct RuleRows<T, R> {
    hint: &'static str,
    row: fn(T) -> R,
    new_row: fn() -> R,
    read: fn(&R) -> T,
    render: fn(FormErrors, R, Signal<usize>) -> AnyView,
}

impl<T, R> RuleRows<T, R> {
    const fn new(
        hint: &'static str,
        row: fn(T) -> R,
        new_row: fn() -> R,
        read: fn(&R) -> T,
        render: fn(FormErrors, R, Signal<usize>) -> AnyView,
    ) -> Self {
        Self {
            hint,
            row,
            new_row,
            read,
            render,
        }
    }
}

/// A form that is a list of rules (the field "rules"); `wrap` makes the configuration of the
/// rules read back.
fn rules_form<T, R, C>(
    ctx: FormCtx,
    stored: Option<Vec<T>>,
    rows: RuleRows<T, R>,
    wrap: fn(Vec<T>) -> C,
) -> AnyView
where
    T: 'static,
    R: Clone + Send + Sync + 'static,
    C: Serialize + 'static,
{
    let RuleRows {
        hint,
        row,
        new_row,
        read,
        render,
    } = rows;
    let rows = RwSignal::new(keyed_or_one(stored.unwrap_or_default(), row, new_row));
    ctx.on_build(move || Ok(wrap(collect_rows(rows, read))));
    view! {
        <div class="policy-form">
            <p class="field__hint">{hint}</p>
            <Rows errors=ctx.errors list="rules" rows new_row render noun="rule" add_label="Add rule" empty="No rules yet." />
        </div>
    }
    .into_any()
}
