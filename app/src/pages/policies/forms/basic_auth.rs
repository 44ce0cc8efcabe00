//! BASIC Authentication: a realm and the user names and passwords the gateway accepts.

use domain::policy::{BasicAuth, Identity};
use leptos::prelude::*;

use super::{Form, FormCtx, from_json};
use crate::components::form::{
    Check, FormErrors, RowInput, Rows, TextField, collect_rows, keyed_or_one, optional, words,
};

pub(super) const FORM: Form = Form::new("realm identities forwardIdentityHeader requireTls", form);

#[derive(Clone, Copy)]
struct IdentityRow {
    username: RwSignal<String>,
    password: RwSignal<String>,
    /// Comma- or space-separated.
    roles: RwSignal<String>,
    /// Stored on the server: an empty password keeps its hash.
    stored: bool,
}

fn stored_identity(i: Identity) -> IdentityRow {
    IdentityRow {
        username: RwSignal::new(i.username),
        password: RwSignal::new(String::new()),
        roles: RwSignal::new(i.roles.join(", ")),
        stored: true,
    }
}

fn new_identity() -> IdentityRow {
    IdentityRow {
        stored: false,
        ..stored_identity(Identity::default())
    }
}

fn render(errors: FormErrors, r: IdentityRow, index: Signal<usize>) -> AnyView {
    let list = "identities";
    let placeholder = if r.stored { "Unchanged" } else { "" };
    view! {
        <RowInput errors list index field="username" label="User name" value=r.username />
        <RowInput errors list index field="password" also="passwordHash" label="Password" value=r.password
            placeholder input_type="password" autocomplete="new-password" />
        <RowInput errors list index field="roles" label="Roles (optional)" value=r.roles
            placeholder="admin, reader" />
    }
    .into_any()
}

fn form(ctx: FormCtx, json: Option<&str>) -> AnyView {
    let initial: BasicAuth = from_json(json).unwrap_or_default();
    let realm = RwSignal::new(initial.realm.clone());
    let identities = RwSignal::new(keyed_or_one(
        initial.identities,
        stored_identity,
        new_identity,
    ));
    let forward = RwSignal::new(initial.forward_identity_header.clone().unwrap_or_default());
    let require_tls = RwSignal::new(initial.require_tls);
    ctx.on_build(move || {
        Ok(BasicAuth {
            realm: realm.get_untracked().trim().to_owned(),
            identities: collect_rows(identities, |r| Identity {
                username: r.username.get_untracked().trim().to_owned(),
                password: Some(r.password.get_untracked()).filter(|p| !p.is_empty()),
                password_hash: None,
                roles: words(&r.roles.get_untracked()),
            }),
            forward_identity_header: optional(&forward.get_untracked()),
            require_tls: require_tls.get_untracked(),
        })
    });
    let errors = ctx.errors;
    view! {
        <div class="policy-form">
            <TextField errors field="realm" label="Realm" required=true hint="Shown by clients when they ask for a user name and password."
                value=realm placeholder="Weather API" />
            <fieldset class="policy-fieldset">
                <legend>"Identities"</legend>
                <p class="field__hint">
                    {if ctx.editing {
                        "Passwords are stored hashed and never shown. Leave a password empty to keep the stored one; a new identity needs a password."
                    } else {
                        "The user names and passwords the gateway accepts, and the roles an Authorization policy sees for each. Passwords are stored hashed."
                    }}
                </p>
                <Rows errors list="identities" rows=identities new_row=new_identity render
                    noun="identity" add_label="Add identity" empty="No identities yet." />
            </fieldset>
            <TextField errors field="forwardIdentityHeader" label="Forward identity header (optional)"
                hint="The gateway sets this request header to the user name for the back end, e.g. X-Authenticated-User."
                value=forward placeholder="X-Authenticated-User" mono=true />
            <Check id="pf-requireTls" label="Require TLS" value=require_tls hint="Refuse credentials sent over plain HTTP." />
        </div>
    }
    .into_any()
}
