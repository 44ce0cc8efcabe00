//! `https://` backends: the gateway verifies the backend's certificate (here a self-signed one
//! it is told to trust, as an operator would add a private CA) and refuses one it does not trust.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::StatusCode;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use support::*;

/// A TLS backend for `localhost` answering `{"tls": true, "path": …}`; returns its address and
/// its certificate (DER).
async fn tls_backend() -> (SocketAddr, Vec<u8>) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let der = cert.cert.der().to_vec();
    let key = rustls::pki_types::PrivateKeyDer::try_from(cert.key_pair.serialize_der()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![der.clone().into()], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let body =
                        serde_json::json!({"tls": true, "path": req.uri().path()}).to_string();
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(
                        http_body_util::Full::new(bytes::Bytes::from(body)),
                    ))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (addr, der)
}

#[tokio::test]
async fn https_backends_with_verified_certificates() {
    let (dir, url) = sqlite_url("https");
    let db = support::connect(&url).await;
    let (backend, der) = tls_backend().await;
    let endpoint = format!("https://localhost:{}/v1", backend.port());
    let (_ctx, key) = world_at(&db, &endpoint, &[], &[]).await;
    let http = http();

    // Trusted: the request goes through TLS to the backend.
    let options = gateway::Options {
        extra_roots: vec![der],
        ..Default::default()
    };
    let trusting = serve(
        gateway::Gateway::start_with(db.clone(), options)
            .await
            .unwrap(),
    )
    .await;
    let (status, body) = get(
        &http,
        format!("http://{trusting}/Acme/Weather/1.0/secure"),
        Some(&key),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["tls"], true);
    assert_eq!(body["path"], "/v1/secure");

    // Not trusted: refused as a failing backend, never sent in clear.
    let wary = serve(gateway::Gateway::start(db.clone()).await.unwrap()).await;
    let (status, body) = get(
        &http,
        format!("http://{wary}/Acme/Weather/1.0/secure"),
        Some(&key),
    )
    .await;
    assert_eq!(
        (status, body["failureCode"].as_u64()),
        (StatusCode::BAD_GATEWAY, Some(10025))
    );
    let _ = std::fs::remove_dir_all(&dir);
}
