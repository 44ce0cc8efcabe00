//! The metrics recorder while its database does not answer (issue 16): records keep being
//! taken and rolled up while a write waits, and once the database answers again every one of
//! them is written, none dropped. A second connection holds SQLite's write lock for longer than
//! the channel's worth of records takes to arrive.

mod support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use gateway::recorder::{CHANNEL, Record, Recorder};
use sea_orm::{ConnectionTrait, Statement};
use service::metrics::MinuteKey;

/// Sixty batches of records: three channels' worth in all.
const BATCHES: u64 = 60;
const PER_BATCH: u64 = 3 * CHANNEL as u64 / BATCHES + 1;
const RECORDS: u64 = BATCHES * PER_BATCH;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_are_kept_while_the_database_is_locked_and_written_after() {
    let (dir, url) = support::sqlite_url("recorder");
    let db = support::connect(&url).await;
    let recorder = Recorder::start(db.clone());

    // Another connection takes the write lock and keeps it for 4 s.
    let locker = service::db::connect(&url).await.unwrap();
    let lock = service::db::write(&locker).await.unwrap();
    lock.execute_unprepared("UPDATE metrics_minute SET requests = requests WHERE 0 = 1")
        .await
        .unwrap();
    let held = Instant::now();

    // Three channels' worth of records arrive while it is held, spread over 3 s.
    let minute = chrono::Utc::now().timestamp() / 60;
    for b in 0..BATCHES {
        for i in 0..PER_BATCH {
            recorder.record(Record {
                key: MinuteKey {
                    minute,
                    api_version_id: 1 + (i % 3) as i32,
                    client_version_id: 1,
                    plan_version_id: 1,
                    status: 200,
                    failure_code: 0,
                },
                duration_us: 1_000,
                bytes_in: 10,
                bytes_out: 100,
                key_id: None,
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(b < BATCHES - 1 || held.elapsed() < Duration::from_secs(4));
    }
    tokio::time::sleep(Duration::from_secs(4).saturating_sub(held.elapsed())).await;
    assert_eq!(
        recorder.written.load(Ordering::Relaxed),
        0,
        "nothing could be written while the lock was held"
    );
    lock.rollback().await.unwrap();

    recorder.flush().await;
    assert_eq!(
        recorder.dropped.load(Ordering::Relaxed),
        0,
        "records dropped"
    );
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT CAST(COALESCE(SUM(requests), 0) AS BIGINT) AS n, COUNT(*) AS rows FROM metrics_minute",
        ))
        .await
        .unwrap()
        .unwrap();
    let (n, rows): (i64, i64) = (
        row.try_get("", "n").unwrap(),
        row.try_get("", "rows").unwrap(),
    );
    assert_eq!((n as u64, rows), (RECORDS, 3), "every record written, once");
    drop(dir);
}
