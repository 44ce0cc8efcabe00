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

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};

use crate::Result;
use crate::entities::{api_version, client_version, contract, plan_version};

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

/// `(org, api, version)` of an API version.
pub type ApiKey = (String, String, String);

/// A published or retired API version as the gateway needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayApi {
    pub endpoint: Option<String>,
    pub public: bool,
    pub retired: bool,
}

/// A registered client version: who it is and which API versions its contracts open (with the
/// plan of each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayClient {
    pub org_id: String,
    pub client_id: String,
    pub version: String,
    pub contracts: HashMap<ApiKey, (String, String)>,
}

/// What a gateway node serves from: published and retired API versions, and registered client
/// versions by the SHA-256 of their API key.
#[derive(Debug, Clone, Default)]
pub struct GatewaySnapshot {
    /// The change counter this snapshot was read at.
    pub version: i64,
    pub apis: HashMap<ApiKey, GatewayApi>,
    pub keys: HashMap<String, GatewayClient>,
}

/// Reads a snapshot. A registered version's contracts count as registered when they were
/// in effect at its last registration; later ones wait for Re-register.
pub async fn load_snapshot(db: &impl ConnectionTrait) -> Result<GatewaySnapshot> {
    let version = config_version(db).await?;
    let apis: HashMap<ApiKey, GatewayApi> = api_version::Entity::find()
        .filter(api_version::Column::Status.is_in(["published", "retired"]))
        .all(db)
        .await?
        .into_iter()
        .map(|v| {
            (
                (v.org_id, v.api_id, v.version),
                GatewayApi {
                    endpoint: v.endpoint_url,
                    public: v.public_api,
                    retired: v.status == "retired",
                },
            )
        })
        .collect();
    let registered = client_version::Entity::find()
        .filter(client_version::Column::Status.eq("registered"))
        .all(db)
        .await?;
    let contracts = contract::Entity::find()
        .filter(contract::Column::Status.eq("created"))
        .filter(contract::Column::ClientVersionId.is_in(registered.iter().map(|c| c.id)))
        .all(db)
        .await?;
    let api_versions: HashMap<i32, ApiKey> = api_version::Entity::find()
        .filter(api_version::Column::Id.is_in(contracts.iter().map(|c| c.api_version_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.id, (v.org_id, v.api_id, v.version)))
        .collect();
    let plans: HashMap<i32, (String, String)> = plan_version::Entity::find()
        .filter(plan_version::Column::Id.is_in(contracts.iter().map(|c| c.plan_version_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, (p.plan_id, p.version)))
        .collect();
    let mut keys = HashMap::new();
    for cv in registered {
        let since = cv.registered_on;
        let open = contracts
            .iter()
            .filter(|c| c.client_version_id == cv.id && since.is_none_or(|r| c.created_on <= r))
            .filter_map(|c| {
                Some((
                    api_versions.get(&c.api_version_id)?.clone(),
                    plans.get(&c.plan_version_id)?.clone(),
                ))
            })
            .collect();
        keys.insert(
            cv.api_key_hash,
            GatewayClient {
                org_id: cv.org_id,
                client_id: cv.client_id,
                version: cv.version,
                contracts: open,
            },
        );
    }
    Ok(GatewaySnapshot {
        version,
        apis,
        keys,
    })
}
