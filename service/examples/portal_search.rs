//! Benchmark: the portal's catalog search with 100, 1,000 and 10,000 published APIs (SQLite,
//! release build). Prints the median time per search and the ratio to the 100-API case.
//!
//!     bench/portal-search.sh

use std::time::{Duration, Instant};

use sea_orm::{ActiveValue::Set, EntityTrait};
use service::entities::{api, api_plan, api_version, organization, plan, plan_version};

async fn seed(db: &sea_orm::DatabaseConnection, n: usize) {
    let at = chrono::Utc::now();
    organization::Entity::insert(organization::ActiveModel {
        id: Set("Bench".into()),
        name: Set("Bench".into()),
        description: Set(String::new()),
        created_by: Set("bench".into()),
        created_on: Set(at),
        modified_by: Set("bench".into()),
        modified_on: Set(at),
    })
    .exec_without_returning(db)
    .await
    .unwrap();
    plan::Entity::insert(plan::ActiveModel {
        org_id: Set("Bench".into()),
        id: Set("Gold".into()),
        name: Set("Gold".into()),
        description: Set(String::new()),
        created_by: Set("bench".into()),
        created_on: Set(at),
        modified_by: Set("bench".into()),
        modified_on: Set(at),
    })
    .exec_without_returning(db)
    .await
    .unwrap();
    let pv = plan_version::Entity::insert(plan_version::ActiveModel {
        org_id: Set("Bench".into()),
        plan_id: Set("Gold".into()),
        version: Set("1.0".into()),
        status: Set("locked".into()),
        created_by: Set("bench".into()),
        created_on: Set(at),
        modified_by: Set("bench".into()),
        modified_on: Set(at),
        locked_on: Set(Some(at)),
        ..Default::default()
    })
    .exec(db)
    .await
    .unwrap()
    .last_insert_id;
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        api::Entity::insert_many(chunk.iter().map(|i| api::ActiveModel {
            org_id: Set("Bench".into()),
            id: Set(format!("Api{i:05}")),
            name: Set(format!("Api {i:05}")),
            description: Set(format!("Benchmark API number {i}")),
            created_by: Set("bench".into()),
            created_on: Set(at),
            modified_by: Set("bench".into()),
            modified_on: Set(at),
            tags: Set(if i % 10 == 0 {
                r#"["featured"]"#.into()
            } else {
                "[]".into()
            }),
            image: Set(None),
        }))
        .exec(db)
        .await
        .unwrap();
        api_version::Entity::insert_many(chunk.iter().map(|i| api_version::ActiveModel {
            org_id: Set("Bench".into()),
            api_id: Set(format!("Api{i:05}")),
            version: Set("1.0".into()),
            status: Set("published".into()),
            created_by: Set("bench".into()),
            created_on: Set(at),
            modified_by: Set("bench".into()),
            modified_on: Set(at),
            endpoint_url: Set(Some("http://127.0.0.1:9/".into())),
            endpoint_type: Set("REST".into()),
            content_type: Set("JSON".into()),
            public_api: Set(false),
            definition: Set(None),
            definition_type: Set(None),
            extended_description: Set(String::new()),
            published_on: Set(Some(at)),
            retired_on: Set(None),
            ..Default::default()
        }))
        .exec(db)
        .await
        .unwrap();
    }
    let ids: Vec<i32> = api_version::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.id)
        .collect();
    for chunk in ids.chunks(500) {
        api_plan::Entity::insert_many(chunk.iter().map(|id| api_plan::ActiveModel {
            api_version_id: Set(*id),
            plan_id: Set("Gold".into()),
            plan_version_id: Set(pv),
            requires_approval: Set(false),
            discoverability: Set("anonymous".into()),
            order_index: Set(0),
        }))
        .exec(db)
        .await
        .unwrap();
    }
}

async fn median(db: &sea_orm::DatabaseConnection, query: &str, tag: &str) -> (Duration, u64) {
    let mut times = Vec::new();
    let mut total = 0;
    for _ in 0..15 {
        let t = Instant::now();
        let (page, _) = service::portal::catalog(db, None, query, tag, 1, 24)
            .await
            .unwrap();
        times.push(t.elapsed());
        total = page.total;
    }
    times.sort();
    (times[times.len() / 2], total)
}

#[tokio::main]
async fn main() {
    let cases = [("", ""), ("api 0042", ""), ("number", ""), ("", "featured")];
    let mut base: Vec<Duration> = Vec::new();
    println!(
        "{:>7}  {:<28} {:>8} {:>10} {:>9}",
        "APIs", "search", "matches", "median", "vs 100"
    );
    for n in [100usize, 1_000, 10_000] {
        let dir = std::env::temp_dir().join(format!("tollgate-bench-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let url = format!("sqlite://{}/bench.db?mode=rwc", dir.display());
        let db = service::db::connect(&url).await.unwrap();
        seed(&db, n).await;
        for (i, (q, tag)) in cases.iter().enumerate() {
            let (t, total) = median(&db, q, tag).await;
            if n == 100 {
                base.push(t);
            }
            let label = format!("q={q:?} tag={tag:?}");
            println!(
                "{n:>7}  {label:<28} {total:>8} {:>8.2}ms {:>8.1}x",
                t.as_secs_f64() * 1000.0,
                t.as_secs_f64() / base[i].as_secs_f64()
            );
        }
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
