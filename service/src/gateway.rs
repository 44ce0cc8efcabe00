//! Where the gateway is reached from outside: its public base URL, set once at start-up from
//! the configuration, used to show each API version's endpoint.

use std::sync::OnceLock;

static PUBLIC_URL: OnceLock<String> = OnceLock::new();

/// The default when nothing is configured: the gateway's default listener.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// Sets the public base URL (first call wins; later calls are ignored).
pub fn set_public_url(url: &str) {
    let _ = PUBLIC_URL.set(url.trim_end_matches('/').to_owned());
}

/// The gateway URL of an API version: `{base}/{org}/{api}/{version}`.
pub fn api_url(org_id: &str, api_id: &str, version: &str) -> String {
    let base = PUBLIC_URL.get().map_or(DEFAULT_PUBLIC_URL, String::as_str);
    format!("{base}/{org_id}/{api_id}/{version}")
}

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use domain::gateway_bounds::{NetworkRule, Refusal};

static NETWORK_RULE: OnceLock<Arc<NetworkRule>> = OnceLock::new();

/// Sets the rule for backend addresses that the Implementation tab applies (first call wins;
/// the gateway is given the same rule in its options).
pub fn set_network_rule(rule: Arc<NetworkRule>) {
    let _ = NETWORK_RULE.set(rule);
}

/// The rule set at start-up, or the default one.
pub fn network_rule() -> Arc<NetworkRule> {
    NETWORK_RULE
        .get()
        .cloned()
        .unwrap_or_else(|| Arc::new(NetworkRule::default()))
}

/// Whether `ip` is an address of this host: it can be bound.
pub fn is_local_address(ip: IpAddr) -> bool {
    std::net::UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

/// Whether the gateway may connect to `addr` under `rule`.
pub fn check_address(rule: &NetworkRule, addr: SocketAddr) -> std::result::Result<(), Refusal> {
    rule.check(addr, is_local_address)
}

/// How long a verdict of [`endpoint_refusal`] is kept, and for how many endpoints at most.
const VERDICT_TTL: std::time::Duration = std::time::Duration::from_secs(60);
const VERDICTS_MAX: usize = 1024;

type Verdicts = std::sync::Mutex<HashMap<String, (std::time::Instant, Option<String>)>>;

/// Why the gateway would refuse to connect to an endpoint, if it would: its host is resolved
/// (for at most two seconds) and every address is checked as the gateway does at connect time.
/// `None` also when the host does not resolve (the gateway will answer that it is unreachable).
/// The verdict is kept for a minute, so that reloading an API page does not resolve its
/// endpoint again (a name whose DNS never answers would hold a blocking thread each time).
pub async fn endpoint_refusal(endpoint: &str) -> Option<String> {
    static VERDICTS: OnceLock<Verdicts> = OnceLock::new();
    let verdicts = VERDICTS.get_or_init(Default::default);
    let now = std::time::Instant::now();
    if let Some((at, verdict)) = verdicts.lock().ok()?.get(endpoint)
        && now.duration_since(*at) < VERDICT_TTL
    {
        return verdict.clone();
    }
    let verdict = resolve_and_check(endpoint).await;
    if let Ok(mut map) = verdicts.lock() {
        if map.len() >= VERDICTS_MAX {
            map.retain(|_, (at, _)| now.duration_since(*at) < VERDICT_TTL);
            if map.len() >= VERDICTS_MAX {
                map.clear();
            }
        }
        map.insert(endpoint.to_owned(), (now, verdict.clone()));
    }
    verdict
}

async fn resolve_and_check(endpoint: &str) -> Option<String> {
    let (host, port) = domain::gateway_bounds::host_and_port(endpoint)?;
    let rule = network_rule();
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => {
            let lookup = tokio::net::lookup_host((host.as_str(), port));
            match tokio::time::timeout(std::time::Duration::from_secs(2), lookup).await {
                Ok(Ok(addrs)) => addrs.collect(),
                _ => return None,
            }
        }
    };
    let refused: Vec<(SocketAddr, Refusal)> = addrs
        .iter()
        .filter_map(|a| check_address(&rule, *a).err().map(|r| (*a, r)))
        .collect();
    let (first, why) = refused.first()?;
    Some(if refused.len() == addrs.len() {
        format!(
            "The gateway refuses to connect to this endpoint: {host} is {first}, and {}.",
            why.message()
        )
    } else {
        format!(
            "{host} resolves to {first} too, which the gateway refuses ({}); it connects only to the other addresses.",
            why.message()
        )
    })
}

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};

use crate::Result;
use crate::entities::{api_version, client_version, contract, plan_version};
use crate::policies::Owner;
use domain::policy::{Compiled, PolicyConfig};

/// Marks a change the gateway must see. Call it inside the transaction of the change.
pub(crate) async fn bump(db: &impl ConnectionTrait) -> Result<()> {
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        "UPDATE gateway_state SET version = version + 1 WHERE id = 1",
    ))
    .await?;
    Ok(())
}

/// The change counter: a gateway node reloads its snapshot when this moved.
pub async fn config_version(db: &impl ConnectionTrait) -> Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM gateway_state WHERE id = 1",
        ))
        .await?;
    Ok(match row {
        Some(r) => r.try_get::<i64>("", "version")?,
        None => 0,
    })
}

/// The gateway path of an API version: `"{org}/{api}/{version}"` (how requests name it).
pub fn api_path(org: &str, api: &str, version: &str) -> String {
    format!("{org}/{api}/{version}")
}

/// A policy as a gateway node enforces it: compiled once per snapshot. A configuration that
/// can no longer be compiled keeps its place in the chain as an error, so that the gateway
/// refuses (500) rather than skipping a policy it cannot apply.
#[derive(Debug)]
pub struct GatewayPolicy {
    pub id: i32,
    pub rule: std::result::Result<Compiled, String>,
}

/// Policies in order, shared between everything that has the same chain.
pub type Chain = Arc<[GatewayPolicy]>;

/// A published or retired API version as the gateway needs it.
#[derive(Debug, Clone)]
pub struct GatewayApi {
    pub id: i32,
    pub endpoint: Option<String>,
    pub public: bool,
    pub retired: bool,
    /// The largest request body in bytes.
    pub body_limit: u64,
    /// Whether request paths may contain `%2F`.
    pub allow_encoded_slashes: bool,
    /// The API's own policies: last in every chain.
    pub policies: Chain,
}

/// A contract of a registered client version: the API version it opens (by [`api_path`]) and
/// the plan version's policies.
#[derive(Debug, Clone)]
pub struct GatewayContract {
    pub api: Arc<str>,
    pub plan_version_id: i32,
    pub policies: Chain,
}

/// A registered client version: who it is, its own policies (as registered) and its contracts.
/// Paths and plan chains are shared between clients, so 100,000 clients cost little memory.
#[derive(Debug, Clone)]
pub struct GatewayClient {
    pub id: i32,
    pub org_id: Box<str>,
    pub client_id: Box<str>,
    pub version: Box<str>,
    pub policies: Chain,
    pub contracts: Vec<GatewayContract>,
}

impl GatewayClient {
    /// The contract that opens the API version at `path`, if any.
    pub fn contract(&self, path: &str) -> Option<&GatewayContract> {
        self.contracts.iter().find(|c| &*c.api == path)
    }
}

/// What a gateway node serves from: published and retired API versions by [`api_path`], and
/// registered client versions by the SHA-256 of their API key.
#[derive(Debug, Clone, Default)]
pub struct GatewaySnapshot {
    /// The change counter this snapshot was read at.
    pub version: i64,
    pub apis: HashMap<String, GatewayApi>,
    pub keys: HashMap<[u8; 32], GatewayClient>,
}

fn compile(id: i32, definition_id: &str, configuration: &str) -> GatewayPolicy {
    let rule = PolicyConfig::parse(definition_id, configuration)
        .and_then(|c| Compiled::compile(&c))
        .map_err(|errors| {
            let message = errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            tracing::warn!(policy = id, %message, "policy cannot be compiled; requests through it are refused");
            message
        });
    GatewayPolicy { id, rule }
}

/// The compiled chains of the API or plan versions `owners`, by version id.
async fn chains(
    db: &impl ConnectionTrait,
    kind: Owner,
    owners: &[i32],
) -> Result<HashMap<i32, Chain>> {
    let mut by_owner: HashMap<i32, Vec<GatewayPolicy>> = HashMap::new();
    for p in crate::policies::rows_for(db, kind, owners).await? {
        by_owner
            .entry(p.owner_version_id)
            .or_default()
            .push(compile(p.id, &p.definition_id, &p.configuration));
    }
    Ok(by_owner
        .into_iter()
        .map(|(k, v)| (k, Chain::from(v)))
        .collect())
}

/// A registered client's chain from its `registered_policies` JSON. Clients with the same JSON
/// (most have none) share one compiled chain, found in `interned`.
fn client_chain(json: Option<&str>, empty: &Chain, interned: &mut HashMap<String, Chain>) -> Chain {
    let Some(json) = json.filter(|j| *j != "[]") else {
        return empty.clone();
    };
    if let Some(chain) = interned.get(json) {
        return chain.clone();
    }
    let chain: Chain = match crate::policies::RegisteredPolicy::parse_list(Some(json)) {
        Ok(list) => list
            .iter()
            .map(|p| compile(p.id, &p.definition_id, &p.configuration))
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "unreadable registered policies; the client is refused");
            Chain::from(vec![GatewayPolicy {
                id: 0,
                rule: Err("The client's registered policies cannot be read.".into()),
            }])
        }
    };
    interned.insert(json.to_owned(), chain.clone());
    chain
}

/// Reads a snapshot (a handful of queries, whatever the number of clients). A registered
/// version's contracts count when they were in effect at its last registration; later ones wait
/// for Re-register.
pub async fn load_snapshot(db: &impl ConnectionTrait) -> Result<GatewaySnapshot> {
    let version = config_version(db).await?;
    let api_versions = api_version::Entity::find()
        .filter(api_version::Column::Status.is_in(["published", "retired"]))
        .all(db)
        .await?;
    let empty: Chain = Chain::from(Vec::new());
    let api_ids: Vec<i32> = api_versions.iter().map(|v| v.id).collect();
    let mut api_chains = chains(db, Owner::Api, &api_ids).await?;
    let paths: HashMap<i32, Arc<str>> = api_versions
        .iter()
        .map(|v| (v.id, Arc::from(api_path(&v.org_id, &v.api_id, &v.version))))
        .collect();
    let apis: HashMap<String, GatewayApi> = api_versions
        .into_iter()
        .map(|v| {
            (
                paths[&v.id].to_string(),
                GatewayApi {
                    id: v.id,
                    policies: api_chains.remove(&v.id).unwrap_or_else(|| empty.clone()),
                    endpoint: v.endpoint_url,
                    public: v.public_api,
                    retired: v.status == "retired",
                    body_limit: domain::gateway_bounds::request_body_limit(
                        v.request_body_limit.and_then(|n| u64::try_from(n).ok()),
                    ),
                    allow_encoded_slashes: v.allow_encoded_slashes,
                },
            )
        })
        .collect();
    let registered_ids = sea_orm::sea_query::Query::select()
        .column(client_version::Column::Id)
        .from(client_version::Entity)
        .and_where(client_version::Column::Status.eq("registered"))
        .to_owned();
    // Read in pages of PAGE rows by id, so that loading 100,000 clients needs little memory
    // beyond the snapshot itself.
    const PAGE: u64 = 5_000;
    type ContractRow = (i32, i32, i32, i32, crate::entities::Timestamp);
    let mut contracts: HashMap<i32, Vec<ContractRow>> = HashMap::new();
    let mut after = 0;
    loop {
        let rows: Vec<ContractRow> = contract::Entity::find()
            .select_only()
            .columns([
                contract::Column::Id,
                contract::Column::ClientVersionId,
                contract::Column::ApiVersionId,
                contract::Column::PlanVersionId,
            ])
            .column(contract::Column::CreatedOn)
            .filter(contract::Column::Status.eq("created"))
            .filter(contract::Column::ClientVersionId.in_subquery(registered_ids.clone()))
            .filter(contract::Column::Id.gt(after))
            .order_by_asc(contract::Column::Id)
            .limit(PAGE)
            .into_tuple()
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.0;
        for c in rows {
            contracts.entry(c.1).or_default().push(c);
        }
    }
    let locked: Vec<i32> = plan_version::Entity::find()
        .select_only()
        .column(plan_version::Column::Id)
        .filter(plan_version::Column::Status.eq("locked"))
        .into_tuple()
        .all(db)
        .await?;
    let mut plan_chains = chains(db, Owner::Plan, &locked).await?;
    let plans: HashMap<i32, Chain> = locked
        .into_iter()
        .map(|id| (id, plan_chains.remove(&id).unwrap_or_else(|| empty.clone())))
        .collect();
    type ClientRow = (
        i32,
        String,
        String,
        String,
        String,
        Option<crate::entities::Timestamp>,
        Option<String>,
    );
    let mut keys = HashMap::new();
    let mut interned: HashMap<String, Chain> = HashMap::new();
    let mut after = 0;
    loop {
        let registered: Vec<ClientRow> = client_version::Entity::find()
            .select_only()
            .columns([
                client_version::Column::Id,
                client_version::Column::OrgId,
                client_version::Column::ClientId,
                client_version::Column::Version,
                client_version::Column::ApiKeyHash,
            ])
            .column(client_version::Column::RegisteredOn)
            .column(client_version::Column::RegisteredPolicies)
            .filter(client_version::Column::Status.eq("registered"))
            .filter(client_version::Column::Id.gt(after))
            .order_by_asc(client_version::Column::Id)
            .limit(PAGE)
            .into_tuple()
            .all(db)
            .await?;
        let Some(last) = registered.last() else { break };
        after = last.0;
        for (id, org_id, client_id, version, hash, since, policies) in registered {
            let open = contracts
                .remove(&id)
                .unwrap_or_default()
                .into_iter()
                .filter(|c| since.is_none_or(|r| c.4 <= r))
                .filter_map(|c| {
                    Some(GatewayContract {
                        api: paths.get(&c.2)?.clone(),
                        plan_version_id: c.3,
                        policies: plans.get(&c.3)?.clone(),
                    })
                })
                .collect();
            let mut digest = [0u8; 32];
            if hex::decode_to_slice(&hash, &mut digest).is_err() {
                continue;
            }
            keys.insert(
                digest,
                GatewayClient {
                    id,
                    policies: client_chain(policies.as_deref(), &empty, &mut interned),
                    org_id: org_id.into(),
                    client_id: client_id.into(),
                    version: version.into(),
                    contracts: open,
                },
            );
        }
    }
    Ok(GatewaySnapshot {
        version,
        apis,
        keys,
    })
}
