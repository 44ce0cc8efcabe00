//! Per-request metrics, off the request path: a request hands its [`Record`] to a bounded
//! channel (never waiting; a full channel is counted in `dropped` and reported in `/metrics`
//! and the log), and one task adds the records to per-minute rollups and writes them to the
//! database every second (`service::metrics::write_batch`). When the database is unreachable
//! the rollups wait for the next flush, up to [`MAX_PENDING`] rows.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use service::metrics::{MinuteKey, MinuteStats};
use tokio::sync::mpsc;

/// Records waiting in the channel at most.
pub const CHANNEL: usize = 65_536;
/// Rollup rows kept while the database does not answer.
pub const MAX_PENDING: usize = 200_000;
/// How often rollups are written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// One request, as the gateway saw it.
#[derive(Debug, Clone, Copy)]
pub struct Record {
    pub key: MinuteKey,
    pub duration_us: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// The API key that opened the request.
    pub key_id: Option<i32>,
}

enum Msg {
    Record(Record),
    /// Write what is pending now, then answer (graceful shutdown).
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// The sending side, held by the gateway.
pub struct Recorder {
    tx: mpsc::Sender<Msg>,
    pub dropped: AtomicU64,
    pub written: AtomicU64,
    pub write_errors: AtomicU64,
}

impl Recorder {
    /// A recorder writing to `db`, with its flushing task.
    pub fn start(db: service::DatabaseConnection) -> Arc<Recorder> {
        let (tx, rx) = mpsc::channel(CHANNEL);
        let recorder = Arc::new(Recorder {
            tx,
            dropped: AtomicU64::new(0),
            written: AtomicU64::new(0),
            write_errors: AtomicU64::new(0),
        });
        tokio::spawn(run(recorder.clone(), rx, db));
        recorder
    }

    /// Hands a record over without waiting.
    pub fn record(&self, r: Record) {
        if self.tx.try_send(Msg::Record(r)).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed);
            if n.is_power_of_two() {
                tracing::warn!(
                    dropped = n + 1,
                    "metrics buffer full: request records dropped"
                );
            }
        }
    }
}

impl Recorder {
    /// Writes the pending rollups now (at shutdown).
    pub async fn flush(&self) {
        let (done, wait) = tokio::sync::oneshot::channel();
        if self.tx.send(Msg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn run(
    recorder: Arc<Recorder>,
    mut rx: mpsc::Receiver<Msg>,
    db: service::DatabaseConnection,
) {
    let mut pending = Pending::default();
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            r = rx.recv() => match r {
                Some(Msg::Record(r)) => add(&recorder, &mut pending, r),
                Some(Msg::Flush(done)) => {
                    flush(&recorder, &db, &mut pending).await;
                    let _ = done.send(());
                }
                None => {
                    flush(&recorder, &db, &mut pending).await;
                    return;
                }
            },
            _ = tick.tick() => flush(&recorder, &db, &mut pending).await,
        }
    }
}

/// What waits for the next flush: per-minute rollups, and the minute each key was last used.
#[derive(Default)]
struct Pending {
    rollups: HashMap<MinuteKey, MinuteStats>,
    key_uses: HashMap<i32, i64>,
}

fn add(recorder: &Recorder, pending: &mut Pending, r: Record) {
    if let Some(id) = r.key_id
        && (pending.key_uses.len() < MAX_PENDING || pending.key_uses.contains_key(&id))
    {
        let minute = pending.key_uses.entry(id).or_insert(r.key.minute);
        *minute = (*minute).max(r.key.minute);
    }
    let pending = &mut pending.rollups;
    if pending.len() >= MAX_PENDING && !pending.contains_key(&r.key) {
        recorder.dropped.fetch_add(1, Ordering::Relaxed);
        return;
    }
    pending
        .entry(r.key)
        .or_default()
        .add(r.duration_us, r.bytes_in, r.bytes_out);
}

async fn flush(recorder: &Recorder, db: &service::DatabaseConnection, pending: &mut Pending) {
    if !pending.key_uses.is_empty() {
        let uses: HashMap<i32, chrono::DateTime<chrono::Utc>> = pending
            .key_uses
            .iter()
            .filter_map(|(id, minute)| {
                Some((
                    *id,
                    chrono::DateTime::from_timestamp(minute.checked_mul(60)?, 0)?,
                ))
            })
            .collect();
        match service::api_keys::record_use(db, &uses).await {
            Ok(()) => pending.key_uses.clear(),
            Err(e) => {
                tracing::warn!(error = %e, keys = uses.len(), "last key uses not written; retrying with the next flush")
            }
        }
    }
    let pending = &mut pending.rollups;
    if pending.is_empty() {
        return;
    }
    let batch: Vec<(MinuteKey, MinuteStats)> = pending.drain().collect();
    match service::metrics::write_batch(db, &batch).await {
        Ok(()) => {
            recorder
                .written
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
        }
        Err(e) => {
            recorder.write_errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %e, rows = batch.len(), "metrics not written; retrying with the next flush");
            for (k, s) in batch {
                let into = pending.entry(k).or_default();
                into.requests += s.requests;
                into.bytes_in += s.bytes_in;
                into.bytes_out += s.bytes_out;
                into.duration_us += s.duration_us;
                domain::metrics::merge(&mut into.latency, &s.latency);
            }
        }
    }
}
