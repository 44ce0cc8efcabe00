//! Redis down and back (issue 16): a node whose Redis goes away keeps answering on local
//! counting, and shares its counters again within seconds of Redis coming back. The test runs
//! its own `redis-server` on a free port, so that it can stop and start it.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use domain::policy::Period;
use gateway::limits::{Limits, REDIS_BACKOFF, REDIS_WAIT};
use support::free_port;

struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    fn start(port: u16) -> RedisServer {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/tools.sh)");
        RedisServer { child, port }
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether Redis holds the rate limit's stored time for `key`.
async fn stored(url: &str, key: &str) -> bool {
    let Ok(client) = redis::Client::open(url) else {
        return false;
    };
    let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
        return false;
    };
    redis::cmd("EXISTS")
        .arg(format!("tollgate:rl:{key}"))
        .query_async::<i64>(&mut conn)
        .await
        .is_ok_and(|n| n == 1)
}

async fn until_redis_answers(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(client) = redis::Client::open(url)
            && let Ok(mut conn) = client.get_multiplexed_async_connection().await
            && redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("redis-server did not start at {url}");
}

#[tokio::test]
async fn limits_fall_back_to_local_counting_and_share_again_when_redis_returns() {
    let port = free_port();
    let redis = RedisServer::start(port);
    let url = redis.url();
    until_redis_answers(&url).await;
    let limits = Limits::redis(&url).await.unwrap();

    // Shared: the stored time is in Redis.
    let out = limits.rate("p1:client:a", 1_000, Period::Second).await;
    assert!(out.allowed);
    assert!(stored(&url, "p1:client:a").await, "counted in Redis");

    // Down for 8 s, longer than the back-off: every request still gets an answer, counted on
    // this node, and none waits long.
    redis.stop();
    let down = Instant::now();
    let mut i = 0;
    while down.elapsed() < Duration::from_secs(8) {
        i += 1;
        let started = Instant::now();
        let out = limits.rate("p1:client:b", 1_000, Period::Day).await;
        assert!(out.allowed, "request {i} allowed on local counting");
        assert!(
            started.elapsed() < REDIS_WAIT + Duration::from_millis(500),
            "request {i} waited {:?} for a Redis that is down",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let local = limits.rate("p1:client:b", 1_000, Period::Day).await;
    assert!(
        local.remaining < 1_000 - i,
        "the local count went on: {local:?}"
    );

    // Back: within the back-off and one reconnection, counters are shared again.
    let redis = RedisServer::start(port);
    until_redis_answers(&url).await;
    let back = Instant::now();
    let limit = REDIS_BACKOFF + Duration::from_secs(10);
    loop {
        limits.rate("p1:client:c", 1_000, Period::Second).await;
        if stored(&url, "p1:client:c").await {
            break;
        }
        assert!(
            back.elapsed() < limit,
            "limits were not shared again within {limit:?} of Redis coming back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("shared again {:?} after Redis came back", back.elapsed());
    drop(redis);
}
