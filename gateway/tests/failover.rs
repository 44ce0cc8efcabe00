//! A gateway keeps serving its last snapshot when its database goes away: a SQLite file that
//! becomes unreadable, and a PostgreSQL server (started by this test with `pg_ctl` in a
//! temporary folder, not the machine's shared one) that stops.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use axum::http::StatusCode;
use support::*;

/// Requests keep being accepted for a while after the database is gone (the watcher fails
/// several times meanwhile), and a change can no longer be made.
async fn keeps_serving(http: &HttpClient, url: &str, key: &str) {
    for _ in 0..6 {
        tokio::time::sleep(gateway::POLL_EVERY).await;
        let (status, body) = get(http, url.to_owned(), Some(key)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

/// The world on `db`, a gateway node serving it, and a request it accepts: (context, key,
/// HTTP client, that request's URL).
async fn serving(db: &service::DatabaseConnection) -> (service::Ctx, String, HttpClient, String) {
    let backend = backend().await;
    let (ctx, key) = world(db, backend, &[], &[]).await;
    let gw = serve(gateway::Gateway::start(db.clone()).await.unwrap()).await;
    let http = http();
    let probe = format!("http://{gw}/Acme/Weather/1.0/x");
    assert_eq!(
        get(&http, probe.clone(), Some(&key)).await.0,
        StatusCode::OK
    );
    (ctx, key, http, probe)
}

#[tokio::test]
async fn serves_on_when_the_sqlite_file_becomes_unreadable() {
    let (dir, url) = sqlite_url("unreadable");
    let db = support::connect(&url).await;
    let (_ctx, key, http, probe) = serving(&db).await;

    // Overwrite the file, its write-ahead log and the log's index with garbage: every read
    // now fails. (Permissions would not do: the tests may run as root.)
    for name in ["gw.db", "gw.db-wal", "gw.db-shm"] {
        let file = dir.join(name);
        if let Ok(meta) = std::fs::metadata(&file) {
            let garbage = vec![0xA5u8; meta.len().max(4096) as usize];
            std::fs::OpenOptions::new()
                .write(true)
                .open(&file)
                .and_then(|mut f| std::io::Write::write_all(&mut f, &garbage))
                .unwrap();
        }
    }
    assert!(
        service::gateway::config_version(&db).await.is_err(),
        "the database should be unreadable now"
    );
    keeps_serving(&http, &probe, &key).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The PostgreSQL server binaries of this machine (Debian: /usr/lib/postgresql/<n>/bin).
fn pg_bin() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("pg_ctl").exists() && p.join("initdb").exists())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs a PostgreSQL tool, as the `postgres` user when the test runs as root (initdb refuses
/// root).
fn pg(bin: &Path, tool: &str, args: &[&str]) {
    let program = bin.join(tool);
    let status = if is_root() {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(&program)
            .args(args)
            .status()
    } else {
        Command::new(&program).args(args).status()
    }
    .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    assert!(status.success(), "{tool} {args:?} failed: {status}");
}

/// A PostgreSQL server of the test's own, stopped (immediately) when dropped.
struct OwnPostgres {
    bin: PathBuf,
    data: PathBuf,
    running: bool,
}

impl OwnPostgres {
    fn start(bin: PathBuf) -> (OwnPostgres, u16) {
        let data = std::env::temp_dir().join(format!("tollgate-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data).unwrap();
        if is_root() {
            let ok = Command::new("chown")
                .args(["postgres:", data.to_str().unwrap()])
                .status()
                .unwrap()
                .success();
            assert!(ok, "cannot hand {} to the postgres user", data.display());
        }
        let d = data.to_str().unwrap();
        pg(
            &bin,
            "initdb",
            &["-D", d, "-A", "trust", "-U", "postgres", "--no-sync"],
        );
        let port = free_port();
        let options = format!("-p {port} -k {d} -c listen_addresses=127.0.0.1 -c fsync=off");
        pg(
            &bin,
            "pg_ctl",
            &[
                "-D",
                d,
                "-o",
                &options,
                "-l",
                &format!("{d}/log"),
                "-w",
                "start",
            ],
        );
        (
            OwnPostgres {
                bin,
                data,
                running: true,
            },
            port,
        )
    }

    fn stop(&mut self) {
        if self.running {
            pg(
                &self.bin,
                "pg_ctl",
                &[
                    "-D",
                    self.data.to_str().unwrap(),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
            );
            self.running = false;
        }
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        if self.running {
            let _ = Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"))
                .args(["-D", self.data.to_str().unwrap(), "-m", "immediate", "stop"])
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

#[tokio::test]
async fn serves_on_when_its_postgresql_stops() {
    let Some(bin) = pg_bin() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "PostgreSQL server binaries (initdb, pg_ctl) are needed under CI"
        );
        eprintln!("skipped: no PostgreSQL server binaries on this machine");
        return;
    };
    let (mut server, port) = OwnPostgres::start(bin);
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let db = support::connect(&url).await;
    let (ctx, key, http, probe) = serving(&db).await;

    server.stop();
    let failed = tokio::time::timeout(
        Duration::from_secs(15),
        service::clients::unregister(&db, &ctx, &at("Acme", "App")),
    )
    .await;
    assert!(!matches!(failed, Ok(Ok(()))), "the database should be gone");
    keeps_serving(&http, &probe, &key).await;
}
