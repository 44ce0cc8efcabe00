//! The Implementation tab's gateway bounds through the real router on SQLite and PostgreSQL:
//! the request body limit (bounds checked, kept, cloned to a new version), the encoded-slash
//! switch, and the warning for an endpoint the gateway refuses to connect to.

mod common;

use app::api::entities::{CreateEntity, GetApiVersion};
use app::api::lifecycle::UpdateApiImplementation;
use app::api::orgs::CreateOrg;
use axum::http::StatusCode;
use common::TestApp;
use domain::dto::ApiVersionDetail;

async fn ok(r: common::Reply) -> common::Reply {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r
}

async fn get_api(app: &mut TestApp) -> ApiVersionDetail {
    ok(app
        .call::<GetApiVersion>(&[("org", "Acme"), ("api", "Weather"), ("version", "1.0")])
        .await)
    .await
    .json()
}

async fn implementation(
    app: &mut TestApp,
    endpoint: &str,
    extra: &[(&str, &str)],
) -> common::Reply {
    let mut form = vec![
        ("org", "Acme"),
        ("api", "Weather"),
        ("version", "1.0"),
        ("endpoint", endpoint),
        ("content_type", "JSON"),
        ("public_api", "false"),
    ];
    form.extend_from_slice(extra);
    app.call::<UpdateApiImplementation>(&form).await
}

on_both!(implementation_tab_sets_the_gateway_bounds, |app| {
    // As the server sets it from TOLLGATE_GATEWAY_DENY_NETWORKS: loopback denied.
    service::gateway::set_network_rule(std::sync::Arc::new(
        domain::gateway_bounds::NetworkRule::new(
            &[],
            &["127.0.0.0/8".to_owned(), "::1".to_owned()],
            Vec::new(),
        )
        .unwrap(),
    ));
    ok(app.sign_up("pat@example.com", "Pat").await).await;
    ok(app
        .call::<CreateOrg>(&[("name", "Acme"), ("description", "")])
        .await)
    .await;
    ok(app
        .call::<CreateEntity>(&[
            ("kind", "Api"),
            ("org", "Acme"),
            ("name", "Weather"),
            ("version", "1.0"),
            ("description", ""),
            ("endpoint", "http://10.1.2.3:9/v1"),
        ])
        .await)
    .await;
    // The defaults: no limit of its own (10 MiB), encoded slashes refused, no warning.
    let d = get_api(&mut app).await;
    assert_eq!(
        (
            d.request_body_limit,
            d.allow_encoded_slashes,
            d.endpoint_refusal.clone()
        ),
        (None, false, None)
    );

    // Set, then kept.
    ok(implementation(
        &mut app,
        "http://10.1.2.3:9/v1",
        &[
            ("request_body_limit", "2048"),
            ("allow_encoded_slashes", "true"),
        ],
    )
    .await)
    .await;
    let d = get_api(&mut app).await;
    assert_eq!(
        (d.request_body_limit, d.allow_encoded_slashes),
        (Some(2048), true)
    );

    // Over 1 GiB: refused on its field, nothing written.
    let r = implementation(
        &mut app,
        "http://10.1.2.3:9/v1",
        &[("request_body_limit", "1073741825")],
    )
    .await;
    assert!(r.status.is_client_error(), "{}", r.body);
    let message = r.error().field("requestBodyLimit").unwrap_or_default();
    assert!(message.contains("1 GiB"), "{}", r.body);
    assert_eq!(get_api(&mut app).await.request_body_limit, Some(2048));

    // Back to the default: the field left out.
    ok(implementation(&mut app, "http://10.1.2.3:9/v1", &[]).await).await;
    let d = get_api(&mut app).await;
    assert_eq!(
        (d.request_body_limit, d.allow_encoded_slashes),
        (None, false)
    );

    // An endpoint on the metadata address, or a name that resolves to link-local: the tab
    // says the gateway refuses it, and why.
    for endpoint in [
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]/x",
    ] {
        ok(implementation(&mut app, endpoint, &[]).await).await;
        let warning = get_api(&mut app).await.endpoint_refusal.unwrap_or_default();
        assert!(warning.contains("refuses"), "{endpoint}: {warning}");
        assert!(warning.contains("link-local"), "{endpoint}: {warning}");
    }
    // A DNS name is resolved, and its addresses checked as the gateway checks them.
    ok(implementation(&mut app, "http://localhost:9/v1", &[]).await).await;
    let warning = get_api(&mut app).await.endpoint_refusal.unwrap_or_default();
    assert!(warning.contains("localhost"), "{warning}");
    assert!(warning.contains("denied"), "{warning}");
    // A private on-premises backend is fine.
    ok(implementation(&mut app, "http://10.1.2.3:8080/v1", &[]).await).await;
    assert_eq!(get_api(&mut app).await.endpoint_refusal, None);
});
