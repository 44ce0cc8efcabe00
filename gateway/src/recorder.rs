//! Per-request metrics, off the request path: a request hands its [`Record`] to a bounded
//! channel (never waiting; a full channel is counted in `dropped` and reported in `/metrics`
//! and the log), and one task adds the records to per-minute rollups. Every second it hands
//! what it holds to a write task of its own (`service::metrics::write_batch`), so that a slow
//! or unreachable database never stops it from taking records: what a write could not write
//! comes back and waits for the next flush, up to [`MAX_PENDING`] rows in all.

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
    // The write under way, in its own task so that records keep being added while the
    // database takes its time (or does not answer); it hands back what it could not write.
    let mut writing: Option<Writing> = None;
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            r = rx.recv() => match r {
                Some(Msg::Record(r)) => {
                    let in_flight = writing.as_ref().map_or(0, |w| w.rows);
                    pending.add(&recorder, r, in_flight);
                }
                Some(Msg::Flush(done)) => {
                    finish(&mut writing, &mut pending).await;
                    let batch = std::mem::take(&mut pending);
                    pending.merge(write(recorder.clone(), db.clone(), batch).await);
                    let _ = done.send(());
                }
                None => {
                    finish(&mut writing, &mut pending).await;
                    write(recorder.clone(), db.clone(), pending).await;
                    return;
                }
            },
            back = async { (&mut writing.as_mut().expect("guarded by the branch condition").task).await },
                if writing.is_some() =>
            {
                writing = None;
                pending.merge(back.unwrap_or_default());
            }
            _ = tick.tick(), if writing.is_none() && !pending.is_empty() => {
                let batch = std::mem::take(&mut pending);
                let rows = batch.rows();
                writing = Some(Writing {
                    rows,
                    task: tokio::spawn(write(recorder.clone(), db.clone(), batch)),
                });
            }
        }
    }
}

/// A write under way: its task, and how many rows it holds (they count towards the bound).
struct Writing {
    rows: usize,
    task: tokio::task::JoinHandle<Pending>,
}

/// Waits for the write under way, and takes back what it could not write.
async fn finish(writing: &mut Option<Writing>, pending: &mut Pending) {
    if let Some(w) = writing.take() {
        pending.merge(w.task.await.unwrap_or_default());
    }
}

/// What waits for the next flush: per-minute rollups, and the minute each key was last used.
#[derive(Default)]
struct Pending {
    rollups: HashMap<MinuteKey, MinuteStats>,
    key_uses: HashMap<i32, i64>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.rollups.is_empty() && self.key_uses.is_empty()
    }

    fn rows(&self) -> usize {
        self.rollups.len().max(self.key_uses.len())
    }

    /// Adds a record; `in_flight` rows, being written, count towards [`MAX_PENDING`].
    fn add(&mut self, recorder: &Recorder, r: Record, in_flight: usize) {
        let room = |len: usize| len + in_flight < MAX_PENDING;
        if let Some(id) = r.key_id
            && (room(self.key_uses.len()) || self.key_uses.contains_key(&id))
        {
            let minute = self.key_uses.entry(id).or_insert(r.key.minute);
            *minute = (*minute).max(r.key.minute);
        }
        if !room(self.rollups.len()) && !self.rollups.contains_key(&r.key) {
            recorder.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.rollups
            .entry(r.key)
            .or_default()
            .add(r.duration_us, r.bytes_in, r.bytes_out);
    }

    /// Takes back what a write could not write. Both held at most [`MAX_PENDING`] rows between
    /// them, so the sum stays within the bound.
    fn merge(&mut self, back: Pending) {
        for (id, minute) in back.key_uses {
            let into = self.key_uses.entry(id).or_insert(minute);
            *into = (*into).max(minute);
        }
        for (k, s) in back.rollups {
            self.rollups.entry(k).or_default().merge(&s);
        }
    }
}

/// Writes the last key uses and the rollups, each all or nothing; returns what was not written.
async fn write(
    recorder: Arc<Recorder>,
    db: service::DatabaseConnection,
    mut pending: Pending,
) -> Pending {
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
        match service::api_keys::record_use(&db, &uses).await {
            Ok(()) => pending.key_uses.clear(),
            Err(e) => {
                tracing::warn!(error = %e, keys = uses.len(), "last key uses not written; retrying with the next flush")
            }
        }
    }
    if pending.rollups.is_empty() {
        return pending;
    }
    let batch: Vec<(MinuteKey, MinuteStats)> = pending.rollups.drain().collect();
    match service::metrics::write_batch(&db, &batch).await {
        Ok(()) => {
            recorder
                .written
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
        }
        Err(e) => {
            recorder.write_errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %e, rows = batch.len(), "metrics not written; retrying with the next flush");
            pending.rollups.extend(batch);
        }
    }
    pending
}
