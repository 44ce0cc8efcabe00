//! JWT Validation: where the signing keys come from, which algorithms are accepted, what a token
//! must say (issuer, audience, claims), and what goes on to the back end.

use domain::FieldError;
use domain::policy::{ForwardClaim, Jwt, JwtAlgorithm, RequiredClaim, Secret, StaticKey};
use leptos::prelude::*;
use leptos::serde_json;

use super::{Form, FormCtx, from_json};
use crate::components::form::{
    Check, CheckGroup, Choice, FormErrors, RowInput, Rows, TextField, blank, collect_rows, keyed,
    lines, optional, whole,
};
use crate::components::ui::Field;

pub(super) const FORM: Form = Form::new(
    "algorithms jwksUrl staticKeys sharedSecret issuer audience leewaySeconds requiredClaims forwardClaims stripAuthorization realm",
    form,
);

/// Where the public keys come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeySource {
    Jwks,
    Static,
}

fn key_sources() -> Vec<(KeySource, String, String)> {
    vec![
        (
            KeySource::Jwks,
            "jwks".to_owned(),
            "JWKS URL of the identity provider".to_owned(),
        ),
        (
            KeySource::Static,
            "static".to_owned(),
            "Public keys entered here".to_owned(),
        ),
    ]
}

#[derive(Clone, Copy)]
struct KeyRow {
    kid: RwSignal<String>,
    /// A PEM, or a JWK as JSON.
    key: RwSignal<String>,
}

fn key_row(k: StaticKey) -> KeyRow {
    let key = match (k.pem, k.jwk) {
        (Some(pem), _) => pem,
        (None, Some(jwk)) => serde_json::to_string_pretty(&jwk).unwrap_or_default(),
        (None, None) => String::new(),
    };
    KeyRow {
        kid: RwSignal::new(k.kid.unwrap_or_default()),
        key: RwSignal::new(key),
    }
}

fn new_key() -> KeyRow {
    key_row(StaticKey::default())
}

/// A static key as entered: text starting with `{` is a JWK, anything else a PEM.
fn read_key(i: usize, r: &KeyRow, errors: &mut Vec<FieldError>) -> StaticKey {
    let text = r.key.get_untracked().trim().to_owned();
    let kid = optional(&r.kid.get_untracked());
    if text.starts_with('{') {
        match serde_json::from_str(&text) {
            Ok(jwk) => StaticKey {
                kid,
                pem: None,
                jwk: Some(jwk),
            },
            Err(_) => {
                errors.push(FieldError::new(
                    format!("staticKeys[{i}].jwk"),
                    "This JWK is not valid JSON.",
                ));
                StaticKey::default()
            }
        }
    } else {
        StaticKey {
            kid,
            pem: (!text.is_empty()).then_some(text),
            jwk: None,
        }
    }
}

fn render_key(errors: FormErrors, r: KeyRow, index: Signal<usize>) -> AnyView {
    let list = "staticKeys";
    view! {
        <RowInput errors list index field="kid" label="Key ID (optional)" value=r.kid placeholder="2026-12" mono=true />
        <RowInput errors list index field="pem" also="jwk" label="Public key (PEM or JWK)" value=r.key
            placeholder="-----BEGIN PUBLIC KEY-----" mono=true lines=4 />
    }
    .into_any()
}

/// A row of two texts: a required claim and its value, or a claim and its header.
#[derive(Clone, Copy)]
struct PairRow {
    claim: RwSignal<String>,
    other: RwSignal<String>,
}

impl PairRow {
    fn new(claim: String, other: String) -> Self {
        Self {
            claim: RwSignal::new(claim),
            other: RwSignal::new(other),
        }
    }

    fn read(&self) -> (String, String) {
        (
            self.claim.get_untracked().trim().to_owned(),
            self.other.get_untracked().trim().to_owned(),
        )
    }
}

fn claim_row(c: RequiredClaim) -> PairRow {
    PairRow::new(c.name, c.value.unwrap_or_default())
}

fn render_claim(errors: FormErrors, r: PairRow, index: Signal<usize>) -> AnyView {
    let list = "requiredClaims";
    view! {
        <RowInput errors list index field="name" label="Claim" value=r.claim placeholder="email_verified" mono=true />
        <RowInput errors list index field="value" label="Value (optional)" value=r.other placeholder="true" mono=true />
    }
    .into_any()
}

fn forward_row(f: ForwardClaim) -> PairRow {
    PairRow::new(f.claim, f.header)
}

fn render_forward(errors: FormErrors, r: PairRow, index: Signal<usize>) -> AnyView {
    let list = "forwardClaims";
    view! {
        <RowInput errors list index field="claim" label="Claim" value=r.claim placeholder="sub" mono=true />
        <RowInput errors list index field="header" label="Request header" value=r.other placeholder="X-User-Id" mono=true />
    }
    .into_any()
}

fn form(ctx: FormCtx, json: Option<&str>) -> AnyView {
    let initial: Jwt = from_json(json).unwrap_or_else(|| Jwt {
        algorithms: vec!["RS256".to_owned()],
        ..Jwt::default()
    });
    let accepted = JwtAlgorithm::ALL.map(|a| {
        (
            a,
            RwSignal::new(initial.algorithms.iter().any(|n| n == a.as_str())),
        )
    });
    let source = RwSignal::new(if initial.static_keys.is_empty() {
        KeySource::Jwks
    } else {
        KeySource::Static
    });
    let jwks_url = RwSignal::new(initial.jwks_url.clone().unwrap_or_default());
    let keys = RwSignal::new(keyed(if initial.static_keys.is_empty() {
        vec![new_key()]
    } else {
        initial.static_keys.into_iter().map(key_row).collect()
    }));
    // The stored secret is never sent to the browser: empty keeps it.
    let secret = RwSignal::new(String::new());
    let issuer = RwSignal::new(initial.issuer.clone().unwrap_or_default());
    let audience = RwSignal::new(initial.audience.join("\n"));
    let leeway = RwSignal::new(initial.leeway_seconds.to_string());
    let required = RwSignal::new(keyed(initial.required_claims.into_iter().map(claim_row)));
    let forward = RwSignal::new(keyed(initial.forward_claims.into_iter().map(forward_row)));
    let strip = RwSignal::new(initial.strip_authorization);
    let realm = RwSignal::new(initial.realm.clone().unwrap_or_default());
    let hs256 = accepted
        .iter()
        .find(|(a, _)| *a == JwtAlgorithm::HS256)
        .map(|(_, on)| *on)
        .expect("HS256 is an algorithm");
    let asymmetric = Signal::derive(move || {
        accepted
            .iter()
            .any(|(a, on)| *a != JwtAlgorithm::HS256 && on.get())
    });
    ctx.on_build(move || {
        let mut errors = Vec::new();
        let leeway = leeway.get_untracked();
        let leeway_seconds = if blank(&leeway) {
            30
        } else {
            whole(&leeway, "leewaySeconds", "Enter a number of seconds.")?
        };
        let asymmetric = asymmetric.get_untracked();
        let from_jwks = asymmetric && source.get_untracked() == KeySource::Jwks;
        let static_keys = if asymmetric && !from_jwks {
            let mut read = Vec::new();
            keys.with_untracked(|rows| {
                for (i, (_, r)) in rows.iter().enumerate() {
                    read.push(read_key(i, r, &mut errors));
                }
            });
            read
        } else {
            Vec::new()
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let hs256 = hs256.get_untracked();
        Ok(Jwt {
            jwks_url: from_jwks
                .then(|| optional(&jwks_url.get_untracked()))
                .flatten(),
            static_keys,
            shared_secret: hs256
                .then(|| optional(&secret.get_untracked()))
                .flatten()
                .map(Secret),
            algorithms: accepted
                .iter()
                .filter(|(_, on)| on.get_untracked())
                .map(|(a, _)| a.as_str().to_owned())
                .collect(),
            issuer: optional(&issuer.get_untracked()),
            audience: lines(&audience.get_untracked()),
            leeway_seconds,
            required_claims: collect_rows(required, |r| {
                let (name, value) = r.read();
                RequiredClaim {
                    name,
                    value: optional(&value),
                }
            }),
            forward_claims: collect_rows(forward, |r| {
                let (claim, header) = r.read();
                ForwardClaim { claim, header }
            }),
            strip_authorization: strip.get_untracked(),
            realm: optional(&realm.get_untracked()),
        })
    });
    let errors = ctx.errors;
    let algorithms_error = {
        let all = Signal::derive(move || accepted.map(|(_, on)| on.get()));
        errors.under("algorithms", all)
    };
    let secret_hint = if ctx.editing {
        "At least 32 characters, stored encrypted and never shown. Leave it empty to keep the stored one."
    } else {
        "At least 32 characters, stored encrypted and never shown."
    };
    view! {
        <div class="policy-form">
            <fieldset class="policy-fieldset">
                <legend>"Accepted algorithms"</legend>
                <p class="field__hint">"Tokens signed any other way are refused; unsigned tokens (alg none) always are."</p>
                <CheckGroup error=algorithms_error>
                    {accepted
                        .map(|(a, on)| {
                            view! { <Check id=format!("pf-alg-{}", a.as_str()) label=a.as_str() value=on /> }
                        })
                        .collect_view()}
                </CheckGroup>
            </fieldset>
            <Show when=move || asymmetric.get()>
                <fieldset class="policy-fieldset">
                    <legend>"Signing keys"</legend>
                    <Field id="pf-keySource" label="Keys from" error=Signal::derive(|| None::<String>)>
                        <Choice id="pf-keySource" value=source options=key_sources() />
                    </Field>
                    <Show
                        when=move || source.get() == KeySource::Jwks
                        fallback=move || {
                            view! {
                                <Rows errors list="staticKeys" rows=keys new_row=new_key render=render_key
                                    noun="key" add_label="Add key" empty="No keys yet." />
                            }
                        }
                    >
                        <TextField errors field="jwksUrl" label="JWKS URL" required=true
                            hint="The gateway fetches the keys, caches them, and looks again (at most every 30 s) for a key it does not know."
                            value=jwks_url placeholder="https://id.example.com/.well-known/jwks.json" mono=true />
                    </Show>
                </fieldset>
            </Show>
            <Show when=move || hs256.get()>
                <TextField errors field="sharedSecret" label="HS256 shared secret" required=!ctx.editing
                    hint=secret_hint value=secret input_type="password"
                    placeholder=if ctx.editing { "Unchanged" } else { "" } />
            </Show>
            <fieldset class="policy-fieldset">
                <legend>"What a token must say"</legend>
                <div class="policy-form__pair">
                    <TextField errors field="issuer" label="Issuer (optional)" hint="The iss claim, exactly."
                        value=issuer placeholder="https://id.example.com" mono=true />
                    <TextField errors field="leewaySeconds" label="Clock skew (seconds)"
                        hint="Allowed on exp and nbf; at most 300." value=leeway input_type="number" min="0" />
                </div>
                <TextField errors field="audience" label="Audiences (one per line, optional)"
                    hint="The token's aud must hold one of them." value=audience placeholder="weather-api" lines=2 />
                <p class="field__hint">"Required claims: a claim path such as realm_access.roles; with a value, the claim must equal it or, for a list, hold it."</p>
                <Rows errors list="requiredClaims" rows=required new_row=|| claim_row(RequiredClaim::default()) render=render_claim
                    noun="claim" add_label="Add required claim" empty="No claims are required beyond exp." />
            </fieldset>
            <fieldset class="policy-fieldset">
                <legend>"Sent to the back end"</legend>
                <Rows errors list="forwardClaims" rows=forward new_row=|| forward_row(ForwardClaim::default()) render=render_forward
                    noun="claim header" add_label="Add claim header" empty="No claims are sent as headers." />
                <Check id="pf-stripAuthorization" label="Remove the Authorization header" value=strip
                    hint="The back end does not see the token." error=errors.field("stripAuthorization", strip) />
                <TextField errors field="realm" label="Realm (optional)" hint="Named in the WWW-Authenticate header of a refusal."
                    value=realm placeholder="weather" />
            </fieldset>
        </div>
    }
    .into_any()
}
