//! Transfer Quota: bytes uploaded or downloaded per calendar window. Its catalogue entry,
//! configuration ([`TransferQuota`]), validation, description, limits summary and failure. The
//! counting is shared with Rate Limiting and Quota in `limits`; the compiled rule is the
//! configuration itself.

use serde::{Deserialize, Serialize};

use super::check::Errors;
use super::describe::{bytes, per};
use super::failure::{FailureCode, PolicyFailure};
use super::limits::{LimitKind, check_amount, check_calendar_period, check_granularity};
use super::{Category, Definition, Granularity, Period};

/// Its catalogue entry.
pub(super) const DEFINITION: Definition = Definition {
    id: "transfer-quota",
    name: "Transfer Quota",
    category: Category::Limitation,
    summary: "Limits how many bytes a consumer may upload or download per hour, day, month or year.",
};

/// Its failure codes.
pub(super) const FAILURES: &[FailureCode] = &[FailureCode::TransferQuotaExceeded];

/// The largest transfer quota accepted, in bytes (1 PB: a monthly transfer may exceed 1 TB).
const MAX_BYTES: u64 = 1_000_000_000_000_000;

/// Which bytes a transfer quota counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Request bodies.
    Upload,
    /// Response bodies.
    Download,
    #[default]
    Both,
}

impl Direction {
    /// "upload", "download", "upload and download".
    pub fn label(self) -> &'static str {
        match self {
            Direction::Upload => "upload",
            Direction::Download => "download",
            Direction::Both => "upload and download",
        }
    }
}

/// Transfer Quota: `limit` bytes per `period` in `direction`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferQuota {
    /// Bytes.
    pub limit: u64,
    #[serde(default)]
    pub direction: Direction,
    #[serde(default)]
    pub granularity: Granularity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    pub period: Period,
}

impl TransferQuota {
    pub(super) fn check(&self, errs: &mut Errors) {
        check_amount(errs, self.limit, MAX_BYTES);
        check_calendar_period(errs, self.period);
        check_granularity(errs, self.granularity, self.header.as_deref());
    }
}

/// "Consumers may transfer at most 1 GB per Month (download)".
pub(super) fn describe(c: &TransferQuota) -> String {
    format!(
        "Consumers may transfer at most {} per {}{} ({})",
        bytes(c.limit),
        c.period.label(),
        per(c.granularity, c.header.as_deref()),
        c.direction.label()
    )
}

/// What the Developer Portal's limits summary says: "1 GB per Month".
pub(super) fn summary(c: &TransferQuota) -> String {
    format!("{} per {}", bytes(c.limit), c.period.label())
}

/// 429, [`FailureCode::TransferQuotaExceeded`], with `X-TransferQuota-*` headers.
pub fn transfer_quota_failure(limit: u64, reset_secs: u64) -> PolicyFailure {
    LimitKind::TransferQuota.failure(
        FailureCode::TransferQuotaExceeded,
        "Transfer quota exceeded.",
        limit,
        reset_secs,
    )
}
