//! The gateway listener speaks what clients speak: a gateway node (`server gateway`, its own
//! process) in front of a real HTTP/1.1 backend, driven by the real curl and openssl.
//!
//! - Over TLS (`TOLLGATE_GATEWAY_TLS_CERT` / `_KEY`): curl `--http1.1` and `--http2` (ALPN) get
//!   the backend's answer, which saw `X-Forwarded-Proto: https` and HTTP/1.1; a client offering
//!   only TLS 1.1 is refused (and, as a control, the same openssl client does get TLS 1.1 from
//!   a server that allows it); a client that never sends a ClientHello is closed after the
//!   header deadline; SIGHUP swaps the certificate under a load of keep-alive and new
//!   connections, HTTP/1.1 and HTTP/2, without a failed request and without closing the
//!   kept-alive connections; new connections then see the new certificate; a broken pair on
//!   SIGHUP leaves the current one in use.
//! - In clear: prior-knowledge HTTP/2 (h2c) and HTTP/1.1; SIGTERM while an HTTP/2 request is in
//!   flight answers it and the node exits; an HTTP/2 connection left idle, and one that sends
//!   nothing, are closed after the deadline.
//!
//! The figures are printed (`--nocapture`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::process::free_port;
use common::{Backend, TestApp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const OWNER: &str = "kim@example.com";
const PATH: &str = "/Shop/Orders/1.0/echo";
/// The gateway's header (and TLS handshake) deadline, `RequestBounds::default()`.
const DEADLINE: Duration = Duration::from_secs(10);

/// A backend that answers what it was sent: the protocol it was spoken to in, and the
/// gateway's `X-Forwarded-Proto` and `X-Forwarded-Host`. `/slow` answers after 1.5 s.
async fn backend() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new().fallback(|req: axum::extract::Request| async move {
        if req.uri().path().ends_with("/slow") {
            tokio::time::sleep(Duration::from_millis(1500)).await;
        }
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
                .to_owned()
        };
        format!(
            "backend-version={:?} proto={} host={}",
            req.version(),
            header("x-forwarded-proto"),
            header("x-forwarded-host")
        )
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

/// A fresh database with the public API `Shop/Orders 1.0` in front of a new backend.
async fn world() -> TestApp {
    let mut app = TestApp::new(Backend::Sqlite).await.expect("SQLite");
    let upstream = backend().await;
    common::public_orders_api(&mut app, OWNER, upstream).await;
    app
}

/// A self-signed certificate for `localhost` with the common name `cn`, written as
/// `{name}.crt` and `{name}.key` in `dir`.
fn certificate(dir: &Path, name: &str, cn: &str) -> (PathBuf, PathBuf) {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let (crt, pem) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    std::fs::write(&crt, cert.pem()).unwrap();
    std::fs::write(&pem, key.serialize_pem()).unwrap();
    (crt, pem)
}

/// Replaces `to` with `from` in one step (a rename), as a deployment tool would.
fn install(from: &Path, to: &Path) {
    let tmp = to.with_extension("tmp");
    std::fs::copy(from, &tmp).unwrap();
    std::fs::rename(&tmp, to).unwrap();
}

/// A gateway node's process, killed if the test ends without stopping it.
struct Node(Option<Child>);

impl Node {
    fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("the node runs")
    }

    fn running(&mut self) -> bool {
        self.child().try_wait().unwrap().is_none()
    }

    fn signal(&mut self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child().id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits (at most 30 s) for the node to exit on its own.
    async fn exit(mut self) -> std::process::ExitStatus {
        let mut child = self.0.take().expect("the node runs");
        tokio::task::spawn_blocking(move || {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Some(exit) = child.try_wait().unwrap() {
                    return exit;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    panic!("the node did not exit within 30 s");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
        .await
        .unwrap()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts a gateway node on `port`, with `env` added, and waits until it serves the API.
async fn node(app: &TestApp, port: u16, env: &[(&str, &Path)], probe: &[&str]) -> Node {
    let mut cmd = common::process::server_command(&app.url);
    cmd.arg("gateway")
        .env("TOLLGATE_GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
        .env("TOLLGATE_GATEWAY_ADMIN_LISTEN", "off")
        .env("TOLLGATE_SHUTDOWN_GRACE", "10");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut node = Node(Some(cmd.spawn().expect("a gateway node starts")));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = curl(probe).await;
        if out.lines.first().is_some_and(|l| l.starts_with("200 ")) {
            return node;
        }
        assert!(node.running(), "the node exited: {}", out.stderr);
        assert!(
            Instant::now() < deadline,
            "the node did not serve the API within 60 s: {}",
            out.stderr
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

struct Output {
    ok: bool,
    code: Option<i32>,
    lines: Vec<String>,
    body: String,
    stderr: String,
}

/// Runs a command (at most 20 s) and collects its output; curl's `-w` lines (`W …`) apart.
async fn run(program: &str, args: Vec<String>, stdin: &[u8]) -> Output {
    let program = program.to_owned();
    let stdin = stdin.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new("timeout")
            .arg("20")
            .arg(&program)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{program} runs: {e}"));
        {
            use std::io::Write;
            let mut input = child.stdin.take().unwrap();
            let _ = input.write_all(&stdin);
        }
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        Output {
            ok: out.status.success(),
            code: out.status.code(),
            lines: stdout
                .lines()
                .filter(|l| l.starts_with("W "))
                .map(|l| l[2..].to_owned())
                .collect(),
            body: stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

/// curl with `args`, quiet, bounded to 20 s; each transfer adds a line
/// `W <status> <HTTP version> <connections opened>`.
async fn curl(args: &[&str]) -> Output {
    let mut all: Vec<String> = [
        "-sS",
        "--max-time",
        "20",
        "-w",
        "\nW %{http_code} %{http_version} %{num_connects}\n",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    all.extend(args.iter().map(|s| s.to_string()));
    run("curl", all, b"").await
}

/// The TLS URL of the API on `port`, with curl's options to reach `localhost` there and to
/// trust `ca`.
fn tls_args(port: u16, ca: &Path) -> Vec<String> {
    vec![
        "--resolve".into(),
        format!("localhost:{port}:127.0.0.1"),
        "--cacert".into(),
        ca.display().to_string(),
    ]
}

fn url(port: u16, scheme: &str) -> String {
    let host = if scheme == "https" {
        "localhost"
    } else {
        "127.0.0.1"
    };
    format!("{scheme}://{host}:{port}{PATH}")
}

/// How long the server at `port` keeps a connection that sends nothing (`sent`, then silence)
/// open; at most `DEADLINE` + 10 s. HTTP/2 PINGs are answered, as a live client would.
async fn held_open(port: u16, sent: &[u8]) -> Duration {
    let start = Instant::now();
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(sent).await.unwrap();
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(DEADLINE + Duration::from_secs(10), async {
        let mut chunk = [0u8; 4096];
        loop {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            // Answer each complete PING frame (type 6 without ACK) with its ACK.
            while buf.len() >= 9 {
                let len = usize::from(buf[1]) << 8 | usize::from(buf[2]);
                if buf.len() < 9 + len {
                    break;
                }
                let frame: Vec<u8> = buf.drain(..9 + len).collect();
                if frame[3] == 6 && frame[4] & 1 == 0 {
                    let mut ack = frame.clone();
                    ack[4] = 1;
                    if s.write_all(&ack).await.is_err() {
                        return;
                    }
                }
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the connection was never closed");
    start.elapsed()
}

fn assert_closed_by_the_deadline(what: &str, held: Duration) {
    println!("{what}: closed after {} ms", held.as_millis());
    assert!(
        held >= DEADLINE - Duration::from_secs(1) && held < DEADLINE + Duration::from_secs(5),
        "{what}: closed after {held:?}, the deadline is {DEADLINE:?}"
    );
}

/// One load worker's tally.
#[derive(Default)]
struct Tally {
    ok: u64,
    failed: Vec<String>,
    /// Kept-alive curl runs that began before the reload and ended after it on one connection.
    spanned: u64,
}

/// Requests until `stop`, for at most 2,000 curl runs: `per_run` URLs a run (one kept-alive
/// connection) in HTTP/1.1 or HTTP/2.
async fn load(
    port: u16,
    bundle: PathBuf,
    http2: bool,
    per_run: usize,
    stop: Arc<AtomicBool>,
    reloaded: Arc<AtomicBool>,
) -> Tally {
    let mut tally = Tally::default();
    let mut args = tls_args(port, &bundle);
    args.push(if http2 { "--http2" } else { "--http1.1" }.into());
    for _ in 0..per_run {
        args.extend(["-o".into(), "/dev/null".into(), url(port, "https")]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    for _ in 0..2000 {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let before = reloaded.load(Ordering::SeqCst);
        let out = curl(&args).await;
        let after = reloaded.load(Ordering::SeqCst);
        let oks = out.lines.iter().filter(|l| l.starts_with("200 ")).count();
        tally.ok += oks as u64;
        if !out.ok || oks != per_run {
            tally.failed.push(format!(
                "curl {:?}: {} of {per_run} answered 200 ({:?}): {}",
                out.code,
                oks,
                out.lines,
                out.stderr.trim()
            ));
        }
        let connects: u64 = out
            .lines
            .iter()
            .filter_map(|l| l.split(' ').nth(2)?.parse::<u64>().ok())
            .sum();
        if per_run > 1 && !before && after && out.ok && connects == 1 {
            tally.spanned += 1;
        }
    }
    tally
}

async fn tls_node_serves_http1_and_http2_and_reloads_its_certificate() {
    let _alone = common::ONE_AT_A_TIME.lock().await;
    let app = world().await;
    let dir = std::env::temp_dir().join(format!("tollgate-gw-tls-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (first_crt, first_key) = certificate(&dir, "first", "tollgate-gw-1");
    let (second_crt, second_key) = certificate(&dir, "second", "tollgate-gw-2");
    // What the node reads; SIGHUP reads it again.
    let (crt, key) = (dir.join("gateway.crt"), dir.join("gateway.key"));
    install(&first_crt, &crt);
    install(&first_key, &key);
    let bundle = dir.join("both.crt");
    std::fs::write(
        &bundle,
        std::fs::read_to_string(&first_crt).unwrap()
            + &std::fs::read_to_string(&second_crt).unwrap(),
    )
    .unwrap();

    let port = free_port();
    let mut probe = tls_args(port, &first_crt);
    probe.push(url(port, "https"));
    let probe: Vec<&str> = probe.iter().map(String::as_str).collect();
    let mut node = node(
        &app,
        port,
        &[
            ("TOLLGATE_GATEWAY_TLS_CERT", &crt),
            ("TOLLGATE_GATEWAY_TLS_KEY", &key),
        ],
        &probe,
    )
    .await;
    // A client that connects and never says hello is not held forever.
    let silent = tokio::spawn(held_open(port, b""));

    // HTTP/1.1 and HTTP/2 (ALPN) through TLS to the HTTP/1.1 backend, seen as https.
    for (flag, version) in [("--http1.1", "1.1"), ("--http2", "2")] {
        let mut args = tls_args(port, &first_crt);
        args.extend([flag.to_owned(), url(port, "https")]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = curl(&args).await;
        assert_eq!(
            out.lines,
            [format!("200 {version} 1")],
            "{flag}: {}",
            out.stderr
        );
        assert!(
            out.body.starts_with(&format!(
                "backend-version=HTTP/1.1 proto=https host=localhost:{port}"
            )),
            "{flag}: {}",
            out.body
        );
    }
    // Plain HTTP on the TLS listener is not served.
    let out = curl(&["--http1.1", &url(port, "http")]).await;
    assert!(
        out.lines.iter().all(|l| l.starts_with("000")),
        "{:?}",
        out.lines
    );

    // TLS 1.1 only: refused. The same client, as a control, gets TLS 1.1 from a server that
    // allows it (so the refusal is the gateway's, not the client's own configuration's).
    let tls11 = |port: u16, version: &str| {
        vec![
            "s_client".to_owned(),
            "-connect".into(),
            format!("127.0.0.1:{port}"),
            format!("-{version}"),
            "-cipher".into(),
            "DEFAULT@SECLEVEL=0".into(),
        ]
    };
    let refused = run("openssl", tls11(port, "tls1_1"), b"").await;
    let said = refused.body.clone() + &refused.stderr;
    println!(
        "TLS 1.1 only: exit {:?}; {}",
        refused.code,
        said.lines()
            .filter(|l| l.contains("alert") || l.contains("Protocol") || l.contains("Cipher is"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    assert!(!refused.ok, "{said}");
    // rustls answers a ClientHello without TLS 1.2 or 1.3 with a handshake_failure alert.
    assert!(
        said.contains("alert handshake failure") || said.contains("alert protocol version"),
        "{said}"
    );
    assert!(said.contains("Cipher is (NONE)"), "{said}");
    let tls12 = run("openssl", tls11(port, "tls1_2"), b"").await;
    let said12 = tls12.body.clone() + &tls12.stderr;
    assert!(said12.contains("Protocol  : TLSv1.2"), "{said12}");
    assert!(!said12.contains("Cipher is (NONE)"), "{said12}");
    let control_port = free_port();
    let mut control = Command::new("openssl")
        .args([
            "s_server",
            "-naccept",
            "1",
            "-tls1_1",
            "-cipher",
            "DEFAULT@SECLEVEL=0",
        ])
        .arg("-accept")
        .arg(format!("127.0.0.1:{control_port}"))
        .arg("-cert")
        .arg(&first_crt)
        .arg("-key")
        .arg(&first_key)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server");
    let control_said = {
        let mut said = String::new();
        for _ in 0..50 {
            let out = run("openssl", tls11(control_port, "tls1_1"), b"").await;
            said = out.body + &out.stderr;
            if said.contains("Protocol  : TLSv1.1") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        said
    };
    let _ = control.kill();
    let _ = control.wait();
    assert!(
        control_said.contains("Protocol  : TLSv1.1") && !control_said.contains("Cipher is (NONE)"),
        "the control server did not get TLS 1.1 from the client: {control_said}"
    );

    // Before the reload, the second certificate is not the one served.
    let only_second = |port: u16| {
        let mut args = tls_args(port, &second_crt);
        args.extend(["-v".to_owned(), url(port, "https")]);
        args
    };
    let args = only_second(port);
    let out = curl(&args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(
        !out.ok,
        "the second certificate is served before the reload"
    );

    // The reload under load: kept-alive and new connections, HTTP/1.1 and HTTP/2.
    let stop = Arc::new(AtomicBool::new(false));
    let reloaded = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = [(false, 50), (true, 50), (false, 1), (true, 1)]
        .into_iter()
        .map(|(http2, per_run)| {
            tokio::spawn(load(
                port,
                bundle.clone(),
                http2,
                per_run,
                stop.clone(),
                reloaded.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    install(&second_crt, &crt);
    install(&second_key, &key);
    node.signal("HUP");
    reloaded.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::SeqCst);
    let mut tally = Tally::default();
    for w in workers {
        let t = tokio::time::timeout(Duration::from_secs(60), w)
            .await
            .expect("the load stops")
            .unwrap();
        tally.ok += t.ok;
        tally.spanned += t.spanned;
        tally.failed.extend(t.failed);
    }
    println!(
        "SIGHUP under load: {} answered 200, {} failed, {} kept-alive runs spanned the reload on one connection",
        tally.ok,
        tally.failed.len(),
        tally.spanned
    );
    assert!(tally.failed.is_empty(), "{:#?}", tally.failed);
    assert!(tally.ok > 100, "the load ran");
    assert!(
        tally.spanned > 0,
        "no kept-alive connection outlived the reload"
    );
    assert!(node.running(), "the node still runs");

    // New connections see the new certificate, and no longer the old one.
    let out = curl(&args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert_eq!(out.lines, ["200 2 1"], "{}", out.stderr);
    assert!(out.stderr.contains("CN=tollgate-gw-2"), "{}", out.stderr);
    let mut old = tls_args(port, &first_crt);
    old.push(url(port, "https"));
    let out = curl(&old.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(!out.ok, "the old certificate is still served");

    // A broken pair on SIGHUP: the current certificate stays.
    std::fs::write(&crt, "not a certificate").unwrap();
    node.signal("HUP");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let out = curl(&args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert_eq!(out.lines, ["200 2 1"], "{}", out.stderr);
    assert!(node.running(), "the node still runs");

    assert_closed_by_the_deadline("a TLS client that never says hello", silent.await.unwrap());
    node.signal("TERM");
    let exit = node.exit().await;
    assert!(exit.success(), "{exit}");
    let _ = std::fs::remove_dir_all(&dir);
    app.cleanup().await;
}

async fn plain_node_serves_h2c_and_drains_it() {
    let _alone = common::ONE_AT_A_TIME.lock().await;
    let app = world().await;
    let port = free_port();
    let plain = url(port, "http");
    let mut node = node(&app, port, &[], &["--http1.1", &plain]).await;
    // Silence, and an HTTP/2 connection with no stream: both closed after the deadline.
    let silent = tokio::spawn(held_open(port, b""));
    let mut h2_idle = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    h2_idle.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]); // an empty SETTINGS frame
    let idle = tokio::spawn(async move { held_open(port, &h2_idle).await });

    for (flag, version) in [("--http2-prior-knowledge", "2"), ("--http1.1", "1.1")] {
        let out = curl(&[flag, &plain]).await;
        assert_eq!(
            out.lines,
            [format!("200 {version} 1")],
            "{flag}: {}",
            out.stderr
        );
        // HTTP/2 names the host in `:authority`: the backend still learns it.
        assert!(
            out.body.starts_with(&format!(
                "backend-version=HTTP/1.1 proto=http host=127.0.0.1:{port}"
            )),
            "{flag}: {}",
            out.body
        );
    }
    // (Several streams on one kept-alive HTTP/2 connection are the TLS test's: curl 7.88 cannot
    // reuse a prior-knowledge connection, whatever the server: "Error in the HTTP2 framing
    // layer" from its second transfer on.)

    assert_closed_by_the_deadline("a plain client that sends nothing", silent.await.unwrap());
    assert_closed_by_the_deadline("an idle HTTP/2 connection", idle.await.unwrap());

    // SIGTERM while an HTTP/2 request is in flight: it is answered, and the node exits.
    let slow = format!("http://127.0.0.1:{port}/Shop/Orders/1.0/slow");
    let in_flight = tokio::spawn(async move { curl(&["--http2-prior-knowledge", &slow]).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = Instant::now();
    node.signal("TERM");
    let out = in_flight.await.unwrap();
    assert_eq!(out.lines, ["200 2 1"], "{}", out.stderr);
    let exit = node.exit().await;
    println!(
        "SIGTERM with an HTTP/2 request in flight: answered, the node exited in {} ms",
        sent.elapsed().as_millis()
    );
    assert!(exit.success(), "{exit}");
    assert!(sent.elapsed() < Duration::from_secs(5));
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_http1_http2_tls11_refused_and_reload_under_load() {
    common::within_limit(tls_node_serves_http1_and_http2_and_reloads_its_certificate()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2c_prior_knowledge_and_its_drain() {
    common::within_limit(plain_node_serves_h2c_and_drains_it()).await;
}
