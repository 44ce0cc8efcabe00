//! Export: the organizations a caller may view, as a [`Document`] (and as YAML). Secrets are
//! never written: a BASIC password or a JWT shared secret becomes a reference `${NAME}`, named
//! after its object; API keys are left out.

use std::collections::HashMap;

use domain::declarative::{self as file, ApiState, Document, FORMAT_VERSION, Offer, reference_for};
use domain::{ApiStatus, ClientStatus, EntityKind, Permission, PlanStatus};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::Value;

use crate::entities::{
    api, api_plan, api_version, client, client_version, contract, membership, organization, plan,
    plan_version, policy, user,
};
use crate::{Ctx, Error, Result, authz, policies, policy_secrets};

/// The most organizations one export may name.
const MAX_EXPORTED_ORGS: usize = 100;

/// The organizations to export: the ids given (each must be visible), or every one the caller
/// may view.
pub async fn export(db: &impl ConnectionTrait, ctx: &Ctx, only: &[String]) -> Result<Document> {
    authz::require_management(ctx)?;
    let ids: Vec<String> = if only.is_empty() {
        let mut ids: Vec<String> = if ctx.is_admin {
            organization::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .map(|o| o.id)
                .filter(|id| authz::sees_org(ctx, id))
                .collect()
        } else {
            authz::memberships(db, ctx).await?.into_keys().collect()
        };
        ids.sort();
        ids
    } else {
        if only.len() > MAX_EXPORTED_ORGS {
            return Err(Error::invalid(
                "org",
                format!("Name at most {MAX_EXPORTED_ORGS} organizations."),
            ));
        }
        let mut ids = only.to_vec();
        ids.sort();
        ids.dedup();
        ids
    };
    let mut organizations = Vec::new();
    for id in &ids {
        let access = authz::require(db, ctx, id, Permission::OrgView).await?;
        organizations.push(organization(db, &access).await?);
    }
    Ok(Document {
        version: FORMAT_VERSION,
        organizations,
    })
}

/// The document as the file `server export` writes.
pub fn to_yaml(doc: &Document) -> Result<String> {
    let body = serde_yaml::to_string(doc).map_err(Error::unexpected)?;
    Ok(format!(
        "# Tollgate configuration (format: /api/v1/config.schema.json).\n\
         # Apply with `server apply -f FILE`; secrets are ${{NAME}} references to environment variables.\n\
         {body}"
    ))
}

pub(super) async fn organization(
    db: &impl ConnectionTrait,
    access: &authz::Access,
) -> Result<file::Organization> {
    let org_id = access.org.id.as_str();
    let names = Names::of(db, org_id).await?;
    Ok(file::Organization {
        name: access.org.name.clone(),
        description: access.org.description.clone(),
        members: members(db, org_id).await?,
        plans: if access.can(Permission::PlanView) {
            plans(db, org_id).await?
        } else {
            vec![]
        },
        apis: if access.can(Permission::ApiView) {
            apis(db, org_id, &names).await?
        } else {
            vec![]
        },
        clients: if access.can(Permission::ClientView) {
            clients(db, org_id).await?
        } else {
            vec![]
        },
    })
}

/// The members of an organization, by email.
pub(super) async fn members(db: &impl ConnectionTrait, org_id: &str) -> Result<Vec<file::Member>> {
    let rows = membership::Entity::find()
        .filter(membership::Column::OrgId.eq(org_id))
        .all(db)
        .await?;
    let emails: HashMap<String, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(rows.iter().map(|m| m.user_id.clone())))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect();
    let mut out: Vec<file::Member> = rows
        .into_iter()
        .filter_map(|m| {
            Some(file::Member {
                email: emails.get(&m.user_id)?.clone(),
                role: m.role,
            })
        })
        .collect();
    out.sort_by(|a, b| a.email.cmp(&b.email));
    Ok(out)
}

/// Plan names and plan version strings of an organization, for the offers of its APIs.
struct Names {
    plans: HashMap<String, String>,
    plan_versions: HashMap<i32, String>,
}

impl Names {
    async fn of(db: &impl ConnectionTrait, org_id: &str) -> Result<Self> {
        let plans = plan::Entity::find()
            .filter(plan::Column::OrgId.eq(org_id))
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
        let plan_versions = plan_version::Entity::find()
            .filter(plan_version::Column::OrgId.eq(org_id))
            .all(db)
            .await?
            .into_iter()
            .map(|v| (v.id, v.version))
            .collect();
        Ok(Names {
            plans,
            plan_versions,
        })
    }
}

async fn plans(db: &impl ConnectionTrait, org_id: &str) -> Result<Vec<file::Plan>> {
    let mut out = Vec::new();
    for p in plan::Entity::find()
        .filter(plan::Column::OrgId.eq(org_id))
        .order_by_asc(plan::Column::Id)
        .all(db)
        .await?
    {
        let mut versions = Vec::new();
        for v in plan_version::Entity::find()
            .filter(plan_version::Column::OrgId.eq(org_id))
            .filter(plan_version::Column::PlanId.eq(p.id.clone()))
            .order_by_asc(plan_version::Column::Id)
            .all(db)
            .await?
        {
            versions.push(file::PlanVersion {
                locked: PlanStatus::parse(&v.status) == Some(PlanStatus::Locked),
                policies: exported_policies(db, EntityKind::Plan, org_id, &p.id, &v.version, v.id)
                    .await?,
                version: v.version,
            });
        }
        out.push(file::Plan {
            name: p.name,
            description: p.description,
            versions,
        });
    }
    Ok(out)
}

async fn apis(db: &impl ConnectionTrait, org_id: &str, names: &Names) -> Result<Vec<file::Api>> {
    let mut out = Vec::new();
    for a in api::Entity::find()
        .filter(api::Column::OrgId.eq(org_id))
        .order_by_asc(api::Column::Id)
        .all(db)
        .await?
    {
        let mut versions = Vec::new();
        for v in api_version::Entity::find()
            .filter(api_version::Column::OrgId.eq(org_id))
            .filter(api_version::Column::ApiId.eq(a.id.clone()))
            .order_by_asc(api_version::Column::Id)
            .all(db)
            .await?
        {
            let offers = api_plan::Entity::find()
                .filter(api_plan::Column::ApiVersionId.eq(v.id))
                .order_by_asc(api_plan::Column::OrderIndex)
                .all(db)
                .await?
                .into_iter()
                .map(|o| Offer {
                    plan: names.plans.get(&o.plan_id).cloned().unwrap_or(o.plan_id),
                    version: names
                        .plan_versions
                        .get(&o.plan_version_id)
                        .cloned()
                        .unwrap_or_default(),
                    requires_approval: o.requires_approval,
                    discoverability: o.discoverability,
                })
                .collect();
            let status = ApiStatus::parse(&v.status).unwrap_or(ApiStatus::Created);
            versions.push(file::ApiVersion {
                status: ApiState::of(status),
                endpoint: v.endpoint_url,
                content_type: v.content_type,
                public: v.public_api,
                request_body_limit: v.request_body_limit.and_then(|n| u64::try_from(n).ok()),
                allow_encoded_slashes: v.allow_encoded_slashes,
                accept_key_in_query: v.accept_key_in_query,
                connect_timeout_ms: v.connect_timeout_ms.and_then(|n| u64::try_from(n).ok()),
                response_timeout_ms: v.response_timeout_ms.and_then(|n| u64::try_from(n).ok()),
                max_concurrent_requests: v
                    .max_concurrent_requests
                    .and_then(|n| u32::try_from(n).ok()),
                definition: v.definition,
                extended_description: v.extended_description,
                plans: offers,
                policies: exported_policies(db, EntityKind::Api, org_id, &a.id, &v.version, v.id)
                    .await?,
                version: v.version,
            });
        }
        out.push(file::Api {
            name: a.name,
            description: a.description,
            tags: serde_json::from_str(&a.tags).unwrap_or_default(),
            versions,
        });
    }
    Ok(out)
}

async fn clients(db: &impl ConnectionTrait, org_id: &str) -> Result<Vec<file::Client>> {
    let mut out = Vec::new();
    for c in client::Entity::find()
        .filter(client::Column::OrgId.eq(org_id))
        .order_by_asc(client::Column::Id)
        .all(db)
        .await?
    {
        let mut versions = Vec::new();
        for v in client_version::Entity::find()
            .filter(client_version::Column::OrgId.eq(org_id))
            .filter(client_version::Column::ClientId.eq(c.id.clone()))
            .order_by_asc(client_version::Column::Id)
            .all(db)
            .await?
        {
            versions.push(file::ClientVersion {
                registered: ClientStatus::parse(&v.status) == Some(ClientStatus::Registered),
                api_key: None,
                contracts: contracts(db, v.id)
                    .await?
                    .into_iter()
                    .map(|c| c.0)
                    .collect(),
                policies: exported_policies(
                    db,
                    EntityKind::Client,
                    org_id,
                    &c.id,
                    &v.version,
                    v.id,
                )
                .await?,
                version: v.version,
            });
        }
        out.push(file::Client {
            name: c.name,
            description: c.description,
            versions,
        });
    }
    Ok(out)
}

/// The contracts of a client version, each with its id, in a stable order.
pub(super) async fn contracts(
    db: &impl ConnectionTrait,
    client_version_id: i32,
) -> Result<Vec<(file::Contract, i32)>> {
    let mut out = Vec::new();
    for c in contract::Entity::find()
        .filter(contract::Column::ClientVersionId.eq(client_version_id))
        .all(db)
        .await?
    {
        let Some(av) = api_version::Entity::find_by_id(c.api_version_id)
            .one(db)
            .await?
        else {
            continue;
        };
        let org = organization::Entity::find_by_id(av.org_id.clone())
            .one(db)
            .await?
            .map_or_else(|| av.org_id.clone(), |o| o.name);
        let api = api::Entity::find_by_id((av.org_id.clone(), av.api_id.clone()))
            .one(db)
            .await?
            .map_or_else(|| av.api_id.clone(), |a| a.name);
        let plan = match plan_version::Entity::find_by_id(c.plan_version_id)
            .one(db)
            .await?
        {
            Some(pv) => plan::Entity::find_by_id((pv.org_id.clone(), pv.plan_id.clone()))
                .one(db)
                .await?
                .map_or(pv.plan_id, |p| p.name),
            None => String::new(),
        };
        out.push((
            file::Contract {
                organization: org,
                api,
                version: av.version,
                plan,
            },
            c.id,
        ));
    }
    out.sort_by(|a, b| {
        (&a.0.organization, &a.0.api, &a.0.version).cmp(&(
            &b.0.organization,
            &b.0.api,
            &b.0.version,
        ))
    });
    Ok(out)
}

/// The policies of a version as the file shows them, secrets as references.
async fn exported_policies(
    db: &impl ConnectionTrait,
    owner: EntityKind,
    org_id: &str,
    id: &str,
    version: &str,
    version_id: i32,
) -> Result<Vec<file::Policy>> {
    Ok(policies::rows(db, owner, version_id)
        .await?
        .iter()
        .enumerate()
        .map(|(i, p)| exported_policy(p, &[owner.as_str(), org_id, id, version], i))
        .collect())
}

/// One policy as the file shows it: its public configuration, with a reference in place of
/// each secret it keeps. `object` names the owner version, `index` its place in the chain.
pub(super) fn exported_policy(p: &policy::Model, object: &[&str], index: usize) -> file::Policy {
    let public = policy_secrets::public_configuration(&p.definition_id, &p.configuration);
    let mut configuration: Value = serde_json::from_str(&public).unwrap_or(Value::Null);
    let stored: Value = serde_json::from_str(&p.configuration).unwrap_or(Value::Null);
    if p.definition_id == domain::policy::BASIC_AUTH
        && let Some(identities) = configuration
            .get_mut("identities")
            .and_then(Value::as_array_mut)
    {
        for identity in identities.iter_mut().filter_map(Value::as_object_mut) {
            let user = identity
                .get("username")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let mut parts = vec!["basic"];
            parts.extend_from_slice(&object[1..]);
            parts.push(&user);
            identity.insert("password".into(), reference_for(&parts).into());
        }
    }
    let has_secret = stored
        .get("sharedSecret")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    if p.definition_id == domain::policy::JWT && has_secret {
        let n = (index + 1).to_string();
        let mut parts = vec!["jwt"];
        parts.extend_from_slice(&object[1..]);
        parts.push(&n);
        configuration["sharedSecret"] = reference_for(&parts).into();
    }
    file::Policy {
        kind: p.definition_id.clone(),
        configuration,
    }
}
