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
use crate::entities::{api_version, client_key, client_version, contract, plan_version};
use domain::EntityKind;
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
    /// Whether the key may come in the `apikey` query parameter.
    pub accept_key_in_query: bool,
    /// Connect and response timeouts, and the bound of requests in flight towards the backend.
    pub backend: domain::gateway_bounds::BackendLimits,
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

/// An API key of a registered client version, as the gateway checks it on each request.
#[derive(Debug, Clone)]
pub struct GatewayKey {
    pub id: i32,
    pub client: Arc<GatewayClient>,
    pub expires_on: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_on: Option<chrono::DateTime<chrono::Utc>>,
}

/// What the gateway makes of the key a request carries.
#[derive(Debug, Clone, Copy)]
pub enum KeyVerdict<'a> {
    Works(&'a GatewayKey),
    Revoked,
    Expired,
    Unknown,
}

/// What a gateway node serves from: published and retired API versions by [`api_path`], and
/// the keys of registered client versions by their HMAC ([`crate::secrets::Keyring::lookup`]).
/// Revoked and expired keys are kept (until they are forgotten) so that they get their own
/// answer; expiry is checked on each request.
#[derive(Debug, Clone, Default)]
pub struct GatewaySnapshot {
    /// The change counter this snapshot was read at.
    pub version: i64,
    pub apis: HashMap<String, GatewayApi>,
    pub keys: HashMap<[u8; 32], GatewayKey>,
    /// Registered client versions.
    pub clients: usize,
    pub keyring: Option<Arc<crate::secrets::Keyring>>,
}

impl GatewaySnapshot {
    /// The verdict on `key` at `now`.
    pub fn check_key(&self, key: &str, now: chrono::DateTime<chrono::Utc>) -> KeyVerdict<'_> {
        // No key is longer than a brought key may be: a huge header costs no HMAC.
        let Some(ring) = self
            .keyring
            .as_ref()
            .filter(|_| key.len() <= domain::credentials::OWN_KEY_MAX)
        else {
            return KeyVerdict::Unknown;
        };
        let Some(found) = self.keys.get(&ring.lookup(key)) else {
            return KeyVerdict::Unknown;
        };
        match domain::credentials::KeyState::at(found.expires_on, found.revoked_on, now) {
            domain::credentials::KeyState::Revoked(_) => KeyVerdict::Revoked,
            domain::credentials::KeyState::Expired(_) => KeyVerdict::Expired,
            _ => KeyVerdict::Works(found),
        }
    }
}

fn compile(id: i32, definition_id: &str, configuration: &str) -> GatewayPolicy {
    let rule = crate::policy_secrets::opened(definition_id, configuration)
        .map_err(|e| vec![e])
        .and_then(|json| PolicyConfig::parse(definition_id, &json))
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

/// Rows read per page by [`in_pages`].
const PAGE: u64 = 5_000;

/// Every row of `query` as tuples `T`, read in pages of [`PAGE`] rows by ascending `id_column`
/// (`id` reads it from a row), each page handed to `each`: loading 100,000 clients needs little
/// memory beyond what `each` keeps.
async fn in_pages<E, T>(
    db: &impl ConnectionTrait,
    query: sea_orm::Select<E>,
    id_column: E::Column,
    id: impl Fn(&T) -> i32,
    mut each: impl FnMut(Vec<T>),
) -> Result<(), sea_orm::DbErr>
where
    E: EntityTrait,
    T: sea_orm::TryGetableMany,
{
    let mut after = 0;
    loop {
        let rows: Vec<T> = query
            .clone()
            .filter(id_column.gt(after))
            .order_by_asc(id_column)
            .limit(PAGE)
            .into_tuple()
            .all(db)
            .await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = id(last);
        each(rows);
    }
}

/// The compiled chains of the API or plan versions `owners`, by version id.
async fn chains(
    db: &impl ConnectionTrait,
    kind: EntityKind,
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
    let mut api_chains = chains(db, EntityKind::Api, &api_ids).await?;
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
                    accept_key_in_query: v.accept_key_in_query,
                    backend: domain::gateway_bounds::BackendLimits::of(
                        v.connect_timeout_ms.and_then(|n| u64::try_from(n).ok()),
                        v.response_timeout_ms.and_then(|n| u64::try_from(n).ok()),
                        v.max_concurrent_requests
                            .and_then(|n| u32::try_from(n).ok()),
                    ),
                },
            )
        })
        .collect();
    let registered_ids = sea_orm::sea_query::Query::select()
        .column(client_version::Column::Id)
        .from(client_version::Entity)
        .and_where(client_version::Column::Status.eq("registered"))
        .to_owned();
    type ContractRow = (i32, i32, i32, i32, crate::entities::Timestamp);
    let mut contracts: HashMap<i32, Vec<ContractRow>> = HashMap::new();
    let open_contracts = contract::Entity::find()
        .select_only()
        .columns([
            contract::Column::Id,
            contract::Column::ClientVersionId,
            contract::Column::ApiVersionId,
            contract::Column::PlanVersionId,
        ])
        .column(contract::Column::CreatedOn)
        .filter(contract::Column::Status.eq("created"))
        .filter(contract::Column::ClientVersionId.in_subquery(registered_ids.clone()));
    in_pages(
        db,
        open_contracts,
        contract::Column::Id,
        |c: &ContractRow| c.0,
        |rows| {
            for c in rows {
                contracts.entry(c.1).or_default().push(c);
            }
        },
    )
    .await?;
    let locked: Vec<i32> = plan_version::Entity::find()
        .select_only()
        .column(plan_version::Column::Id)
        .filter(plan_version::Column::Status.eq("locked"))
        .into_tuple()
        .all(db)
        .await?;
    let mut plan_chains = chains(db, EntityKind::Plan, &locked).await?;
    let plans: HashMap<i32, Chain> = locked
        .into_iter()
        .map(|id| (id, plan_chains.remove(&id).unwrap_or_else(|| empty.clone())))
        .collect();
    type ClientRow = (
        i32,
        String,
        String,
        String,
        Option<crate::entities::Timestamp>,
        Option<String>,
    );
    let mut clients: HashMap<i32, Arc<GatewayClient>> = HashMap::new();
    let mut interned: HashMap<String, Chain> = HashMap::new();
    let registered = client_version::Entity::find()
        .select_only()
        .columns([
            client_version::Column::Id,
            client_version::Column::OrgId,
            client_version::Column::ClientId,
            client_version::Column::Version,
        ])
        .column(client_version::Column::RegisteredOn)
        .column(client_version::Column::RegisteredPolicies)
        .filter(client_version::Column::Status.eq("registered"));
    in_pages(
        db,
        registered,
        client_version::Column::Id,
        |c: &ClientRow| c.0,
        |registered| {
            for (id, org_id, client_id, version, since, policies) in registered {
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
                clients.insert(
                    id,
                    Arc::new(GatewayClient {
                        id,
                        policies: client_chain(policies.as_deref(), &empty, &mut interned),
                        org_id: org_id.into(),
                        client_id: client_id.into(),
                        version: version.into(),
                        contracts: open,
                    }),
                );
            }
        },
    )
    .await?;
    type KeyRow = (
        i32,
        i32,
        String,
        Option<crate::entities::Timestamp>,
        Option<crate::entities::Timestamp>,
    );
    let now = crate::now();
    let mut keys = HashMap::new();
    let registered_keys = client_key::Entity::find()
        .select_only()
        .columns([
            client_key::Column::Id,
            client_key::Column::ClientVersionId,
            client_key::Column::LookupHash,
            client_key::Column::ExpiresOn,
            client_key::Column::RevokedOn,
        ])
        .filter(client_key::Column::ClientVersionId.in_subquery(registered_ids.clone()));
    in_pages(
        db,
        registered_keys,
        client_key::Column::Id,
        |k: &KeyRow| k.0,
        |rows| {
            for (id, cv_id, lookup, expires_on, revoked_on) in rows {
                let ended = match domain::credentials::KeyState::at(expires_on, revoked_on, now) {
                    domain::credentials::KeyState::Expired(t)
                    | domain::credentials::KeyState::Revoked(t) => Some(t),
                    _ => None,
                };
                if ended.is_some_and(|t| domain::credentials::forgotten(t, now)) {
                    continue;
                }
                let Some(client) = clients.get(&cv_id) else {
                    continue;
                };
                let mut digest = [0u8; 32];
                if hex::decode_to_slice(&lookup, &mut digest).is_err() {
                    continue;
                }
                keys.insert(
                    digest,
                    GatewayKey {
                        id,
                        client: client.clone(),
                        expires_on,
                        revoked_on,
                    },
                );
            }
        },
    )
    .await?;
    Ok(GatewaySnapshot {
        version,
        apis,
        keys,
        clients: clients.len(),
        keyring: Some(crate::secrets::keyring().map_err(|e| crate::Error::Unexpected(e.into()))?),
    })
}
