//! Gateway traffic: per-minute rollups written in batches by gateway nodes ([`write_batch`]),
//! and what the Metrics tabs read ([`query`]). No per-request row is kept: a node adds each
//! request to an in-memory rollup keyed by minute, API version, client version, plan version,
//! status and failure code, and flushes the rollups every second as additive upserts.

use std::collections::HashMap;

use domain::dto::{MetricsDto, MetricsPoint, UsageRow};
use domain::metrics::{BUCKETS, Histogram, Range, merge, percentile, status_class};
use domain::{EntityKind, Permission};
use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::entities::{api, api_version, client, client_version, organization, plan, plan_version};
use crate::migration::m20261127_000003_policies_and_metrics::LATENCY_COLUMNS;
use crate::versioned::{self, EntityRef};
use crate::{Ctx, Error, Result, authz};

const TABLE: &str = "metrics_minute";
const KEY_COLUMNS: [&str; 6] = [
    "minute",
    "api_version_id",
    "client_version_id",
    "plan_version_id",
    "status",
    "failure_code",
];
const SUM_COLUMNS: [&str; 4] = ["requests", "bytes_in", "bytes_out", "duration_us"];

/// What one rollup row is about. `client_version_id` and `plan_version_id` are 0 for requests
/// without a (known) client, e.g. to a public API without a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MinuteKey {
    /// Epoch minutes (UTC).
    pub minute: i64,
    pub api_version_id: i32,
    pub client_version_id: i32,
    pub plan_version_id: i32,
    pub status: u16,
    /// 0 when the request did not fail in the gateway or a policy.
    pub failure_code: u32,
}

/// The sums of one rollup row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MinuteStats {
    pub requests: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub duration_us: u64,
    pub latency: Histogram,
}

impl MinuteStats {
    /// Adds one request.
    pub fn add(&mut self, duration_us: u64, bytes_in: u64, bytes_out: u64) {
        self.requests += 1;
        self.bytes_in += bytes_in;
        self.bytes_out += bytes_out;
        self.duration_us += duration_us;
        self.latency[domain::metrics::latency_bucket(duration_us)] += 1;
    }

    /// Adds another row's sums.
    pub fn merge(&mut self, other: &MinuteStats) {
        self.requests += other.requests;
        self.bytes_in += other.bytes_in;
        self.bytes_out += other.bytes_out;
        self.duration_us += other.duration_us;
        domain::metrics::merge(&mut self.latency, &other.latency);
    }
}

fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Adds the rollups to the stored ones (one multi-row upsert per 200 rows), all or nothing: a
/// batch that failed half-way is not counted twice when it is written again.
pub async fn write_batch(
    db: &impl crate::db::Db,
    batch: &[(MinuteKey, MinuteStats)],
) -> Result<()> {
    let txn = crate::db::write(db).await?;
    let backend = txn.get_database_backend();
    for chunk in batch.chunks(200) {
        let mut q = Query::insert();
        q.into_table(Alias::new(TABLE)).columns(
            KEY_COLUMNS
                .iter()
                .chain(&SUM_COLUMNS)
                .chain(&LATENCY_COLUMNS)
                .map(|c| Alias::new(*c)),
        );
        for (k, s) in chunk {
            let mut values: Vec<sea_orm::sea_query::SimpleExpr> = vec![
                k.minute.into(),
                k.api_version_id.into(),
                k.client_version_id.into(),
                k.plan_version_id.into(),
                i32::from(k.status).into(),
                i32::try_from(k.failure_code).unwrap_or(0).into(),
                int(s.requests).into(),
                int(s.bytes_in).into(),
                int(s.bytes_out).into(),
                int(s.duration_us).into(),
            ];
            values.extend(s.latency.iter().map(|n| int(*n).into()));
            q.values_panic(values);
        }
        let mut on_conflict = OnConflict::columns(KEY_COLUMNS.map(Alias::new));
        for c in SUM_COLUMNS.iter().chain(&LATENCY_COLUMNS) {
            on_conflict.value(
                Alias::new(*c),
                Expr::cust(format!("{TABLE}.{c} + excluded.{c}")),
            );
        }
        q.on_conflict(on_conflict);
        txn.execute_raw(backend.build(&q)).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Days of rollups kept (the Metrics tab's longest range is 30 days).
pub const KEEP_DAYS: i64 = 31;

/// Drops rollups older than [`KEEP_DAYS`]; returns how many rows went.
pub async fn purge(db: &impl ConnectionTrait, now: chrono::DateTime<chrono::Utc>) -> Result<u64> {
    let oldest = now.timestamp().div_euclid(60) - KEEP_DAYS * 24 * 60;
    let q = Query::delete()
        .from_table(Alias::new(TABLE))
        .and_where(Expr::col(Alias::new("minute")).lt(oldest))
        .to_owned();
    Ok(db
        .execute_raw(db.get_database_backend().build(&q))
        .await?
        .rows_affected())
}

/// One grouped row: bucket, who, status and the sums.
struct Row {
    bucket: i64,
    api_version_id: i32,
    client_version_id: i32,
    plan_version_id: i32,
    status: u16,
    stats: MinuteStats,
}

/// The traffic of a client or API version over `range`, in chart buckets. Needs clientView or
/// apiView on its organization. Plans have none of their own (404).
pub async fn query(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    of: EntityKind,
    at: &EntityRef,
    range: Range,
) -> Result<MetricsDto> {
    let (filter_col, version_id) = match of {
        EntityKind::Client => {
            authz::require(db, ctx, &at.org_id, Permission::ClientView).await?;
            let v = versioned::find_version::<client::Entity>(db, &at.org_id, &at.id, &at.version)
                .await?;
            ("client_version_id", v.id)
        }
        EntityKind::Api => {
            authz::require(db, ctx, &at.org_id, Permission::ApiView).await?;
            let v =
                versioned::find_version::<api::Entity>(db, &at.org_id, &at.id, &at.version).await?;
            ("api_version_id", v.id)
        }
        EntityKind::Plan => {
            return Err(Error::NotFound(
                "Plans have no metrics: see the API or client versions using them.".into(),
            ));
        }
    };
    let of_client = of == EntityKind::Client;
    let now_minute = chrono::Utc::now().timestamp().div_euclid(60);
    let start = range.start(now_minute);
    let size = range.bucket_minutes();
    let rows = grouped(db, filter_col, version_id, start, size).await?;
    let labels = Labels::load(db, &rows).await?;

    let mut points: Vec<MetricsPoint> = (0..range.buckets())
        .map(|i| MetricsPoint {
            minute: start + i * size,
            ..Default::default()
        })
        .collect();
    let mut hists = vec![[0u64; BUCKETS]; points.len()];
    let mut dto = MetricsDto {
        range: range.as_str().to_owned(),
        bucket_minutes: size,
        ..Default::default()
    };
    let mut total_hist = [0u64; BUCKETS];
    let mut by_client: HashMap<i32, (u64, u64)> = HashMap::new();
    let mut by_plan: HashMap<(i32, i32), (u64, u64)> = HashMap::new();
    for r in &rows {
        let class = status_class(r.status);
        let n = r.stats.requests;
        let errors = if r.status >= 400 { n } else { 0 };
        if let Some(i) = usize::try_from(r.bucket - start / size)
            .ok()
            .filter(|i| *i < points.len())
        {
            points[i].by_class[class] += n;
            merge(&mut hists[i], &r.stats.latency);
        }
        dto.total += n;
        dto.by_class[class] += n;
        dto.bytes_in += r.stats.bytes_in;
        dto.bytes_out += r.stats.bytes_out;
        merge(&mut total_hist, &r.stats.latency);
        let c = by_client.entry(r.client_version_id).or_default();
        c.0 += n;
        c.1 += errors;
        let key = if of_client {
            (r.api_version_id, r.plan_version_id)
        } else {
            (0, r.plan_version_id)
        };
        let p = by_plan.entry(key).or_default();
        p.0 += n;
        p.1 += errors;
    }
    for (p, h) in points.iter_mut().zip(&hists) {
        p.p50_ms = percentile(h, 0.5);
        p.p95_ms = percentile(h, 0.95);
    }
    dto.points = points;
    dto.p50_ms = percentile(&total_hist, 0.5);
    dto.p95_ms = percentile(&total_hist, 0.95);
    if !of_client {
        dto.by_client = sorted(
            by_client
                .into_iter()
                .map(|(id, (requests, errors))| UsageRow {
                    label: labels.client(id),
                    requests,
                    errors,
                })
                .collect(),
        );
    }
    dto.by_plan = sorted(
        by_plan
            .into_iter()
            .map(|((api_id, plan_id), (requests, errors))| UsageRow {
                label: if of_client {
                    format!("{} · {}", labels.api(api_id), labels.plan(plan_id))
                } else {
                    labels.plan(plan_id)
                },
                requests,
                errors,
            })
            .collect(),
    );
    Ok(dto)
}

fn sorted(mut rows: Vec<UsageRow>) -> Vec<UsageRow> {
    rows.sort_by(|a, b| b.requests.cmp(&a.requests).then(a.label.cmp(&b.label)));
    rows
}

/// The rows of one client or API version since `start`, summed per chart bucket, client
/// version, plan version, API version and status.
async fn grouped(
    db: &impl ConnectionTrait,
    filter_col: &str,
    version_id: i32,
    start: i64,
    size: i64,
) -> Result<Vec<Row>> {
    let bucket = format!("minute / {size}");
    let mut q = Query::select();
    q.from(Alias::new(TABLE))
        .expr_as(Expr::cust(bucket.clone()), Alias::new("bucket"));
    for c in [
        "api_version_id",
        "client_version_id",
        "plan_version_id",
        "status",
    ] {
        q.column(Alias::new(c));
    }
    for c in SUM_COLUMNS.iter().chain(&LATENCY_COLUMNS) {
        q.expr_as(
            Expr::cust(format!("CAST(SUM({c}) AS BIGINT)")),
            Alias::new(*c),
        );
    }
    q.and_where(Expr::col(Alias::new(filter_col)).eq(version_id))
        .and_where(Expr::col(Alias::new("minute")).gte(start))
        .add_group_by([
            Expr::cust(bucket),
            Expr::col(Alias::new("api_version_id")),
            Expr::col(Alias::new("client_version_id")),
            Expr::col(Alias::new("plan_version_id")),
            Expr::col(Alias::new("status")),
        ]);
    let stmt = db.get_database_backend().build(&q);
    let mut out = Vec::new();
    for r in db.query_all_raw(stmt).await? {
        let get =
            |c: &str| -> Result<u64> { Ok(u64::try_from(r.try_get::<i64>("", c)?).unwrap_or(0)) };
        let mut latency = [0u64; BUCKETS];
        for (i, c) in LATENCY_COLUMNS.iter().enumerate() {
            latency[i] = get(c)?;
        }
        out.push(Row {
            bucket: r.try_get::<i64>("", "bucket")?,
            api_version_id: r.try_get("", "api_version_id")?,
            client_version_id: r.try_get("", "client_version_id")?,
            plan_version_id: r.try_get("", "plan_version_id")?,
            status: u16::try_from(r.try_get::<i32>("", "status")?).unwrap_or(0),
            stats: MinuteStats {
                requests: get("requests")?,
                bytes_in: get("bytes_in")?,
                bytes_out: get("bytes_out")?,
                duration_us: get("duration_us")?,
                latency,
            },
        });
    }
    Ok(out)
}

/// Display names of the client, API and plan versions in a set of rows.
#[derive(Default)]
struct Labels {
    clients: HashMap<i32, String>,
    apis: HashMap<i32, String>,
    plans: HashMap<i32, String>,
}

impl Labels {
    async fn load(db: &impl ConnectionTrait, rows: &[Row]) -> Result<Labels> {
        let ids = |f: fn(&Row) -> i32| -> Vec<i32> {
            let mut v: Vec<i32> = rows.iter().map(f).filter(|id| *id != 0).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let mut labels = Labels::default();
        let clients = client_version::Entity::find()
            .filter(client_version::Column::Id.is_in(ids(|r| r.client_version_id)))
            .all(db)
            .await?;
        let apis = api_version::Entity::find()
            .filter(api_version::Column::Id.is_in(ids(|r| r.api_version_id)))
            .all(db)
            .await?;
        let plans = plan_version::Entity::find()
            .filter(plan_version::Column::Id.is_in(ids(|r| r.plan_version_id)))
            .all(db)
            .await?;
        // One query per kind of name, whatever the number of rows.
        let client_names = versioned::names::<client::Entity>(
            db,
            &clients
                .iter()
                .map(|v| (v.org_id.clone(), v.client_id.clone()))
                .collect::<Vec<_>>(),
        )
        .await?;
        let api_names = versioned::names::<api::Entity>(
            db,
            &apis
                .iter()
                .map(|v| (v.org_id.clone(), v.api_id.clone()))
                .collect::<Vec<_>>(),
        )
        .await?;
        let plan_names = versioned::names::<plan::Entity>(
            db,
            &plans
                .iter()
                .map(|v| (v.org_id.clone(), v.plan_id.clone()))
                .collect::<Vec<_>>(),
        )
        .await?;
        let org_ids: Vec<String> = clients.iter().map(|v| v.org_id.clone()).collect();
        let orgs: HashMap<String, String> = organization::Entity::find()
            .filter(organization::Column::Id.is_in(org_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        let name = |names: &HashMap<(String, String), String>, org: &str, id: &str| {
            names
                .get(&(org.to_owned(), id.to_owned()))
                .cloned()
                .unwrap_or_else(|| id.to_owned())
        };
        for cv in clients {
            let org = orgs.get(&cv.org_id).unwrap_or(&cv.org_id);
            let client = name(&client_names, &cv.org_id, &cv.client_id);
            labels
                .clients
                .insert(cv.id, format!("{org} / {client} {}", cv.version));
        }
        for av in apis {
            let api = name(&api_names, &av.org_id, &av.api_id);
            labels.apis.insert(av.id, format!("{api} {}", av.version));
        }
        for pv in plans {
            let plan = name(&plan_names, &pv.org_id, &pv.plan_id);
            labels.plans.insert(pv.id, format!("{plan} {}", pv.version));
        }
        Ok(labels)
    }

    fn client(&self, id: i32) -> String {
        match id {
            0 => "No client (no key, or a key not valid here)".to_owned(),
            _ => self
                .clients
                .get(&id)
                .cloned()
                .unwrap_or_else(|| "Deleted client".to_owned()),
        }
    }

    fn api(&self, id: i32) -> String {
        self.apis
            .get(&id)
            .cloned()
            .unwrap_or_else(|| "Deleted API".to_owned())
    }

    fn plan(&self, id: i32) -> String {
        match id {
            0 => "No plan".to_owned(),
            _ => self
                .plans
                .get(&id)
                .cloned()
                .unwrap_or_else(|| "Deleted plan".to_owned()),
        }
    }
}
