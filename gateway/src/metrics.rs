//! The node's Prometheus counters ([`Metrics`]), served on the admin listener at `/metrics`:
//! responses by status class, refusals by failure code (the gateway's own and the policies',
//! one series each, every code of `domain::failure::FailureCode::ALL`), requests in flight
//! towards backends and retries after reset connections, the snapshot's size and the metrics
//! pipeline's health.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::response::Response;
use domain::failure::{FailureCode, Family};
use service::gateway::GatewaySnapshot;

use crate::Recorder;
use crate::errors::code_of;

/// Request counters of one node, served in Prometheus text format at `/metrics`.
pub struct Metrics {
    /// Responses by class: 1xx … 5xx.
    by_class: [AtomicU64; 5],
    /// Refusals by failure code, in [`FailureCode::ALL`]'s order.
    refusals: [AtomicU64; FailureCode::ALL.len()],
    /// Requests sent once more after their backend connection was reset.
    retries: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            by_class: Default::default(),
            // More codes than `Default` covers for arrays.
            refusals: std::array::from_fn(|_| AtomicU64::new(0)),
            retries: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    pub(crate) fn record(&self, res: &Response) {
        let class = domain::metrics::status_class(res.status().as_u16());
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        if let Some(code) = code_of(res)
            && let Some(i) = FailureCode::ALL.iter().position(|c| *c == code)
        {
            self.refusals[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn count_retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// One line per code of `family`: `{name}{failure_code="…"} n`.
    fn write_refusals(&self, out: &mut String, name: &str, family: Family) {
        for (code, n) in FailureCode::ALL.iter().zip(&self.refusals) {
            if code.family() == family {
                out.push_str(&format!(
                    "{name}{{failure_code=\"{}\"}} {}\n",
                    code.number(),
                    n.load(Ordering::Relaxed)
                ));
            }
        }
    }

    /// The Prometheus text exposition of the counters, the requests in flight towards backends
    /// (`backend_in_flight`), the snapshot's size and the metrics pipeline's own health.
    pub fn render(
        &self,
        snapshot: &GatewaySnapshot,
        recorder: Option<&Recorder>,
        backend_in_flight: usize,
    ) -> String {
        let mut out = String::from(
            "# HELP tollgate_gateway_responses_total Responses by status class.\n\
             # TYPE tollgate_gateway_responses_total counter\n",
        );
        for (i, n) in self.by_class.iter().enumerate() {
            out.push_str(&format!(
                "tollgate_gateway_responses_total{{class=\"{}xx\"}} {}\n",
                i + 1,
                n.load(Ordering::Relaxed)
            ));
        }
        out.push_str(
            "# HELP tollgate_gateway_refusals_total Requests the gateway refused, by failure code.\n\
             # TYPE tollgate_gateway_refusals_total counter\n",
        );
        self.write_refusals(&mut out, "tollgate_gateway_refusals_total", Family::Gateway);
        out.push_str(
            "# HELP tollgate_gateway_policy_failures_total Requests a policy refused, by failure code.\n\
             # TYPE tollgate_gateway_policy_failures_total counter\n",
        );
        self.write_refusals(
            &mut out,
            "tollgate_gateway_policy_failures_total",
            Family::Policy,
        );
        out.push_str(&format!(
            "# HELP tollgate_gateway_backend_in_flight Requests on their way to a backend or being answered by one.\n\
             # TYPE tollgate_gateway_backend_in_flight gauge\n\
             tollgate_gateway_backend_in_flight {backend_in_flight}\n\
             # HELP tollgate_gateway_backend_retries_total Requests sent once more after their backend connection was reset.\n\
             # TYPE tollgate_gateway_backend_retries_total counter\n\
             tollgate_gateway_backend_retries_total {}\n",
            self.retries.load(Ordering::Relaxed)
        ));
        out.push_str(&format!(
            "# HELP tollgate_gateway_snapshot_apis API versions in the snapshot.\n\
             # TYPE tollgate_gateway_snapshot_apis gauge\n\
             tollgate_gateway_snapshot_apis {}\n\
             # HELP tollgate_gateway_snapshot_clients Registered client versions in the snapshot.\n\
             # TYPE tollgate_gateway_snapshot_clients gauge\n\
             tollgate_gateway_snapshot_clients {}\n\
             # HELP tollgate_gateway_snapshot_version The change counter the snapshot was read at.\n\
             # TYPE tollgate_gateway_snapshot_version gauge\n\
             tollgate_gateway_snapshot_version {}\n",
            snapshot.apis.len(),
            snapshot.clients,
            snapshot.version
        ));
        if let Some(r) = recorder {
            out.push_str(&format!(
                "# HELP tollgate_gateway_metrics_dropped_total Request records dropped because the metrics buffer was full.\n\
                 # TYPE tollgate_gateway_metrics_dropped_total counter\n\
                 tollgate_gateway_metrics_dropped_total {}\n\
                 # HELP tollgate_gateway_metrics_rows_written_total Per-minute rollup rows written.\n\
                 # TYPE tollgate_gateway_metrics_rows_written_total counter\n\
                 tollgate_gateway_metrics_rows_written_total {}\n\
                 # HELP tollgate_gateway_metrics_write_errors_total Failed metrics writes (retried).\n\
                 # TYPE tollgate_gateway_metrics_write_errors_total counter\n\
                 tollgate_gateway_metrics_write_errors_total {}\n",
                r.dropped.load(Ordering::Relaxed),
                r.written.load(Ordering::Relaxed),
                r.write_errors.load(Ordering::Relaxed),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_series() {
        let metrics = Metrics::default();
        metrics.record(&crate::errors::failure(FailureCode::KeyInQuery, "No."));
        metrics.count_retry();
        let text = metrics.render(&GatewaySnapshot::default(), None, 3);
        for code in FailureCode::ALL {
            let series = match code.family() {
                Family::Gateway => "tollgate_gateway_refusals_total",
                Family::Policy => "tollgate_gateway_policy_failures_total",
            };
            let n = u8::from(code == FailureCode::KeyInQuery);
            let line = format!("{series}{{failure_code=\"{}\"}} {n}\n", code.number());
            assert!(text.contains(&line), "{line}");
        }
        assert!(text.contains("tollgate_gateway_responses_total{class=\"4xx\"} 1\n"));
        assert!(text.contains("tollgate_gateway_backend_in_flight 3\n"));
        assert!(text.contains("tollgate_gateway_backend_retries_total 1\n"));
    }
}
