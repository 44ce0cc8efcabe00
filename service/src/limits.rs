//! Rate-limit and quota counters as gateway nodes persist them: written in batches (so that a
//! restart does not reset a quota), loaded at start-up, and read by the portal to show what a
//! contract has used and has left.
//!
//! A counter's key is `"{policy id}|{scope}"` ([`counter_key`]); the scope says whose counter
//! it is (`c:{client version id}`, `a:{API version id}`, `i:{ip}`, or `u:` and a hash of the
//! header value, `domain::policy::user_scope`): every key is short, whatever a caller sends.

use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, OnConflict, Query};
use sea_orm::{ConnectionTrait, Statement};

use crate::Result;

const TABLE: &str = "limit_counters";

/// The key of one policy's counter for one scope.
pub fn counter_key(policy_id: i32, scope: &str) -> String {
    format!("{policy_id}|{scope}")
}

/// A counter key's policy id and scope, as [`counter_key`] joined them.
pub fn split_key(key: &str) -> Option<(&str, &str)> {
    key.split_once('|')
}

/// One counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    pub key: String,
    /// Requests or bytes counted in the current window (limit − remaining for a rate limit).
    pub used: i64,
    /// Algorithm state: the GCRA theoretical arrival time (µs) for a rate limit; 0 for quotas.
    pub state: i64,
    /// When the window ends (epoch seconds): the quota resets, or the rate limit is full again.
    pub window_end: i64,
}

/// Stores the counters (last write wins), in multi-row upserts of 200.
pub async fn save_batch(db: &impl ConnectionTrait, counters: &[Counter]) -> Result<()> {
    let backend = db.get_database_backend();
    let updated = chrono::Utc::now().timestamp();
    for chunk in counters.chunks(200) {
        let mut q = Query::insert();
        q.into_table(Alias::new(TABLE))
            .columns(["key", "used", "state", "window_end", "updated_on"].map(Alias::new));
        for c in chunk {
            q.values_panic([
                c.key.clone().into(),
                c.used.into(),
                c.state.into(),
                c.window_end.into(),
                updated.into(),
            ]);
        }
        q.on_conflict(
            OnConflict::column(Alias::new("key"))
                .update_columns(["used", "state", "window_end", "updated_on"].map(Alias::new))
                .to_owned(),
        );
        db.execute_raw(backend.build(&q)).await?;
    }
    Ok(())
}

fn select(where_sql: Expr) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .from(Alias::new(TABLE))
        .columns(["key", "used", "state", "window_end"].map(Alias::new))
        .and_where(where_sql)
        .to_owned()
}

async fn read(db: &impl ConnectionTrait, stmt: Statement) -> Result<Vec<Counter>> {
    let mut out = Vec::new();
    for r in db.query_all_raw(stmt).await? {
        out.push(Counter {
            key: r.try_get("", "key")?,
            used: r.try_get("", "used")?,
            state: r.try_get("", "state")?,
            window_end: r.try_get("", "window_end")?,
        });
    }
    Ok(out)
}

/// The counters whose window has not ended at `now` (epoch seconds): what a node starts with.
pub async fn load_active(db: &impl ConnectionTrait, now: i64) -> Result<Vec<Counter>> {
    let q = select(Expr::col(Alias::new("window_end")).gt(now));
    read(db, db.get_database_backend().build(&q)).await
}

/// The counters with these keys (missing ones are not returned).
pub async fn find(db: &impl ConnectionTrait, keys: Vec<String>) -> Result<Vec<Counter>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let q = select(Expr::col(Alias::new("key")).is_in(keys));
    read(db, db.get_database_backend().build(&q)).await
}

/// Forgets counters whose window ended more than a day before `now`.
pub async fn purge(db: &impl ConnectionTrait, now: i64) -> Result<u64> {
    let q = Query::delete()
        .from_table(Alias::new(TABLE))
        .and_where(Expr::col(Alias::new("window_end")).lt(now - 86_400))
        .to_owned();
    Ok(db
        .execute_raw(db.get_database_backend().build(&q))
        .await?
        .rows_affected())
}

/// Where each contract of a registered client version stands against the limiting policies of
/// its chain (client as registered, plan, API) counted per client or per API. `contracts` are
/// (contract id, API version id, plan version id).
pub(crate) async fn contract_usage(
    db: &impl ConnectionTrait,
    client_version_id: i32,
    registered_policies: Option<&str>,
    contracts: &[(i64, i32, i32)],
) -> Result<Vec<domain::dto::ContractUsage>> {
    use domain::EntityKind;
    use domain::policy::{Granularity, PolicyConfig};

    let client_chain: Vec<(i32, String, String)> =
        crate::policies::RegisteredPolicy::parse_list(registered_policies)
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.id, p.definition_id, p.configuration))
            .collect();
    let plan_ids: Vec<i32> = contracts.iter().map(|c| c.2).collect();
    let api_ids: Vec<i32> = contracts.iter().map(|c| c.1).collect();
    let plan_rows = crate::policies::rows_for(db, EntityKind::Plan, &plan_ids).await?;
    let api_rows = crate::policies::rows_for(db, EntityKind::Api, &api_ids).await?;

    // (contract id, config, counter key, shared by every caller of the API)
    let mut wanted: Vec<(i64, PolicyConfig, String, bool)> = Vec::new();
    for &(contract_id, api_version_id, plan_version_id) in contracts {
        let chain = client_chain
            .iter()
            .map(|(id, d, c)| (*id, d.as_str(), c.as_str()))
            .chain(
                plan_rows
                    .iter()
                    .filter(|p| p.owner_version_id == plan_version_id)
                    .map(|p| (p.id, p.definition_id.as_str(), p.configuration.as_str())),
            )
            .chain(
                api_rows
                    .iter()
                    .filter(|p| p.owner_version_id == api_version_id)
                    .map(|p| (p.id, p.definition_id.as_str(), p.configuration.as_str())),
            );
        for (id, definition, json) in chain {
            let Ok(config) = PolicyConfig::parse(definition, json) else {
                continue;
            };
            let granularity = match &config {
                PolicyConfig::RateLimit(l) | PolicyConfig::Quota(l) => l.granularity,
                PolicyConfig::TransferQuota(t) => t.granularity,
                _ => continue,
            };
            let (scope, shared) = match granularity {
                Granularity::Client => (domain::policy::client_scope(client_version_id), false),
                Granularity::Api => (domain::policy::api_scope(api_version_id), true),
                _ => continue,
            };
            wanted.push((contract_id, config, counter_key(id, &scope), shared));
        }
    }
    let counters = find(db, wanted.iter().map(|w| w.2.clone()).collect()).await?;
    let now = chrono::Utc::now();
    let mut out: Vec<domain::dto::ContractUsage> = contracts
        .iter()
        .map(|c| domain::dto::ContractUsage {
            contract_id: c.0,
            limits: Vec::new(),
        })
        .collect();
    for (contract_id, config, key, shared) in wanted {
        let counter = counters.iter().find(|c| c.key == key);
        let usage = usage_of(&config, counter, now).map(|mut u| {
            if shared {
                u.kind.push_str(" (whole API, all consumers)");
            }
            u
        });
        if let (Some(u), Some(slot)) =
            (usage, out.iter_mut().find(|o| o.contract_id == contract_id))
        {
            slot.limits.push(u);
        }
    }
    Ok(out)
}

/// One limiting policy's standing at `now` from its stored counter.
fn usage_of(
    config: &domain::policy::PolicyConfig,
    counter: Option<&Counter>,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<domain::dto::LimitUsage> {
    use domain::policy::{PolicyConfig, gcra};
    let now_s = now.timestamp();
    let live = counter.filter(|c| c.window_end > now_s);
    let summary = config.limit_summary().unwrap_or_default();
    let (kind, limit, used) = match config {
        PolicyConfig::RateLimit(l) => {
            let used = live.map_or(0, |c| {
                let peek = gcra(l.limit, l.period, c.state, now.timestamp_micros());
                let remaining = if peek.allowed {
                    std::cmp::min(peek.remaining + 1, l.limit)
                } else {
                    0
                };
                l.limit - remaining
            });
            ("Rate limit", l.limit, used)
        }
        PolicyConfig::Quota(l) => (
            "Quota",
            l.limit,
            live.map_or(0, |c| u64::try_from(c.used).unwrap_or(0)),
        ),
        PolicyConfig::TransferQuota(t) => (
            "Transfer quota",
            t.limit,
            live.map_or(0, |c| u64::try_from(c.used).unwrap_or(0)),
        ),
        _ => return None,
    };
    Some(domain::dto::LimitUsage {
        kind: kind.to_owned(),
        summary,
        limit,
        used: std::cmp::min(used, limit),
        remaining: limit.saturating_sub(used),
        resets_in: live.map(|c| u64::try_from(c.window_end - now_s).unwrap_or(0)),
    })
}
