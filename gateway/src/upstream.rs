//! The way to the backends: the pooled hyper client with TLS for `https://` backends
//! ([`https_client`]), the connector that checks every backend address after DNS against
//! `domain::gateway_bounds::NetworkRule` ([`Guarded`], refusals are [`Refused`], code 10029),
//! hop-by-hop headers, `X-Forwarded-*` and this node's `Via` entry on the request sent
//! ([`send`]), and the loop check on that entry ([`Gateway::looped`]).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use domain::failure::FailureCode;
use domain::gateway_bounds::NetworkRule;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::Gateway;
use crate::chain::Exchange;
use crate::errors::{failure, failure_as};

/// How long a backend may take to answer.
const BACKEND_TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) type HttpsClient = Client<HttpsConnector<Guarded>, Body>;

/// A backend address the gateway refused to connect to (failure code 10029).
#[derive(Debug)]
pub(crate) struct Refused(domain::gateway_bounds::Refusal);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.message())
    }
}

impl std::error::Error for Refused {}

impl Refused {
    /// The refusal somewhere in an error's chain of sources, if any.
    pub(crate) fn find<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
        let mut cur = Some(e);
        while let Some(e) = cur {
            if let Some(r) = e.downcast_ref::<Refused>() {
                return Some(r);
            }
            cur = e.source();
        }
        None
    }

    pub(crate) fn message(&self) -> &'static str {
        self.0.message()
    }
}

/// The TCP connector under TLS: resolves the backend's host itself, checks every address
/// against the [`NetworkRule`] and connects only to allowed ones, so a DNS name that resolves
/// to a refused address is refused too (and rebinding between check and connect is not
/// possible: the checked address is the one connected to).
#[derive(Clone)]
pub(crate) struct Guarded {
    inner: HttpConnector,
    rule: Arc<NetworkRule>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower_service::Service<axum::http::Uri> for Guarded {
    type Response = <HttpConnector as tower_service::Service<axum::http::Uri>>::Response;
    type Error = BoxError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, BoxError>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: axum::http::Uri) -> Self::Future {
        let mut inner = self.inner.clone();
        let rule = self.rule.clone();
        Box::pin(async move {
            let host = uri.host().ok_or("the backend URL has no host")?;
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            let port = uri
                .port_u16()
                .unwrap_or(if uri.scheme_str() == Some("https") {
                    443
                } else {
                    80
                });
            let addrs: Vec<std::net::SocketAddr> = match host.parse::<std::net::IpAddr>() {
                Ok(ip) => vec![std::net::SocketAddr::new(ip, port)],
                Err(_) => tokio::net::lookup_host((host, port)).await?.collect(),
            };
            let mut refused = None;
            let mut failed: Option<BoxError> = None;
            for addr in addrs {
                if let Err(r) = service::gateway::check_address(&rule, addr) {
                    tracing::debug!(%host, %addr, reason = r.message(), "backend address refused");
                    refused.get_or_insert(r);
                    continue;
                }
                let target: axum::http::Uri = format!("http://{addr}").parse()?;
                match inner.call(target).await {
                    Ok(stream) => return Ok(stream),
                    Err(e) => failed = Some(e.into()),
                }
            }
            // A refused address says more than a failed connection to another one.
            Err(match (refused, failed) {
                (Some(r), _) => Box::new(Refused(r)),
                (None, Some(e)) => e,
                (None, None) => format!("{host} has no address").into(),
            })
        })
    }
}

pub(crate) fn https_client(extra_roots: &[Vec<u8>], rule: Arc<NetworkRule>) -> HttpsClient {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    for der in extra_roots {
        if let Err(e) = roots.add(rustls::pki_types::CertificateDer::from(der.clone())) {
            tracing::warn!(error = %e, "an extra root certificate was not accepted");
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map(|b| b.with_root_certificates(roots).with_no_client_auth());
    let mut http = HttpConnector::new();
    http.set_connect_timeout(Some(Duration::from_secs(5)));
    http.set_nodelay(true);
    http.enforce_http(false);
    let http = Guarded { inner: http, rule };
    let connector = match tls {
        Ok(config) => hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http),
        Err(e) => {
            tracing::error!(error = %e, "TLS is not available; https:// backends will fail");
            hyper_rustls::HttpsConnectorBuilder::new()
                .with_webpki_roots()
                .https_or_http()
                .enable_http1()
                .wrap_connector(http)
        }
    };
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(256)
        .build(connector)
}

/// Hop-by-hop headers, never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let listed: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for name in listed {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

impl Gateway {
    /// Whether a request already passed through this node (its `Via` names it).
    pub(crate) fn looped(&self, headers: &HeaderMap) -> bool {
        let ours = self.via.as_bytes();
        let ours = &ours[ours.iter().position(|b| *b == b' ').map_or(0, |i| i + 1)..];
        headers
            .get_all(header::VIA)
            .iter()
            .any(|v| v.as_bytes().windows(ours.len()).any(|w| w == ours))
    }
}

/// Sends the (policy-edited) request to the backend.
pub(crate) async fn send(
    gw: &Gateway,
    endpoint: &str,
    ex: &Exchange,
    mut parts: axum::http::request::Parts,
    body: Body,
) -> Result<Response, Response> {
    let mut url = format!("{}{}", endpoint.trim_end_matches('/'), ex.rest);
    if ex.rest.is_empty() && endpoint.ends_with('/') {
        url.push('/');
    }
    if let Some(q) = &ex.query {
        url.push('?');
        url.push_str(q);
    }
    let Ok(uri) = url.parse::<Uri>() else {
        return Err(failure(
            FailureCode::BackendFailed,
            "The API's endpoint is not a valid URL.",
        ));
    };
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(failure(
            FailureCode::BackendFailed,
            "The API's endpoint must be an http:// or https:// URL.",
        ));
    }
    let host = parts.headers.get(header::HOST).cloned();
    strip_hop_by_hop(&mut parts.headers);
    parts.headers.remove(header::HOST);
    let forwarded = match parts
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
    {
        Some(prev) => format!("{prev}, {}", ex.peer),
        None => ex.peer.to_string(),
    };
    if let Ok(v) = HeaderValue::from_str(&forwarded) {
        parts.headers.insert("x-forwarded-for", v);
    }
    parts.headers.insert(
        "x-forwarded-proto",
        HeaderValue::from_static(if ex.https { "https" } else { "http" }),
    );
    if let Some(h) = host {
        parts.headers.insert("x-forwarded-host", h);
    }
    parts.headers.append(header::VIA, gw.via.clone());
    parts.uri = uri;
    let request = Request::from_parts(parts, body);
    match tokio::time::timeout(BACKEND_TIMEOUT, gw.client.request(request)).await {
        Ok(Ok(res)) => {
            let (mut parts, body) = res.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            Ok(Response::from_parts(parts, Body::new(body)))
        }
        Ok(Err(e)) => {
            if let Some(refused) = Refused::find(&e) {
                return Err(failure(
                    FailureCode::BackendRefused,
                    &format!(
                        "The gateway refuses to connect to the API's backend: {}.",
                        refused.message()
                    ),
                ));
            }
            tracing::warn!(error = %e, "backend request failed");
            Err(failure(
                FailureCode::BackendFailed,
                "The API's backend did not answer.",
            ))
        }
        Err(_) => Err(failure_as(
            StatusCode::GATEWAY_TIMEOUT,
            FailureCode::BackendFailed,
            "The API's backend timed out.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_are_dropped() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("close, x-secret"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("5"));
        h.insert("accept", HeaderValue::from_static("*/*"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("accept"));
    }
}
