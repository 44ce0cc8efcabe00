//! The API Developer Portal: the catalog and API pages (also for anonymous visitors, filtered by
//! each plan's discoverability), the Sign Up wizard (client, contract and registration in one
//! transaction) and My Clients. Portal-only accounts use these through `Ctx::for_portal`.

use std::collections::{HashMap, HashSet};

use domain::dto::{
    ClientChoice, MyClientVersion, OrgSummary, Page, PortalApiCard, PortalApiDetail, PortalPlan,
    SignUpOptions, SignUpResult,
};
use domain::lifecycle::{self, ClientFacts};
use domain::{
    ApiStatus, ClientStatus, ContractStatus, Description, Discoverability, EntityName, Permission,
    Role,
};
use sea_orm::sea_query::{Expr, Func, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::contracts::{self, Target};
use crate::db::Db;
use crate::entities::{
    api, api_plan, api_version, client, client_version, contract, organization, plan, plan_version,
    policy,
};
use crate::versioned::{self, EntityRef};
use crate::{Ctx, Error, Result, authz};

/// Who looks: signed in or not, and the organizations they belong to (within their token's).
struct Visitor {
    signed_in: bool,
    admin: bool,
    grant_orgs: Option<HashSet<String>>,
    orgs: HashSet<String>,
}

impl Visitor {
    async fn of(db: &impl ConnectionTrait, ctx: Option<&Ctx>) -> Result<Self> {
        let orgs = match ctx {
            Some(c) => authz::memberships(db, c).await?.into_keys().collect(),
            None => HashSet::new(),
        };
        Ok(Visitor {
            signed_in: ctx.is_some(),
            admin: ctx.is_some_and(|c| c.is_admin),
            grant_orgs: ctx
                .and_then(authz::grant_orgs)
                .map(|o| o.iter().cloned().collect()),
            orgs,
        })
    }

    fn member(&self, org: &str) -> bool {
        let admin = self.admin && self.grant_orgs.as_ref().is_none_or(|g| g.contains(org));
        admin || self.orgs.contains(org)
    }

    fn sees(&self, org: &str, d: &str) -> bool {
        Discoverability::parse(d).is_some_and(|d| d.visible_to(self.signed_in, self.member(org)))
    }
}

fn tags_of(a: &api::Model) -> Vec<String> {
    serde_json::from_str(&a.tags).unwrap_or_default()
}

/// A published API version with the plans offered that the visitor sees.
type Offered = (api_version::Model, Vec<api_plan::Model>);

/// The published versions of one API with the plans the visitor sees (newest version first);
/// versions without a visible plan are left out.
async fn visible_versions(
    db: &impl ConnectionTrait,
    visitor: &Visitor,
    (org, id): (&str, &str),
) -> Result<Vec<Offered>> {
    let versions = api_version::Entity::find()
        .filter(api_version::Column::Status.eq(ApiStatus::Published.as_str()))
        .filter(api_version::Column::OrgId.eq(org))
        .filter(api_version::Column::ApiId.eq(id))
        .all(db)
        .await?;
    let mut plans: HashMap<i32, Vec<api_plan::Model>> = HashMap::new();
    for p in api_plan::Entity::find()
        .filter(api_plan::Column::ApiVersionId.is_in(versions.iter().map(|v| v.id)))
        .all(db)
        .await?
    {
        plans.entry(p.api_version_id).or_default().push(p);
    }
    let mut out: Vec<Offered> = versions
        .into_iter()
        .filter_map(|v| {
            let mut offered: Vec<api_plan::Model> = plans
                .remove(&v.id)
                .unwrap_or_default()
                .into_iter()
                .filter(|p| visitor.sees(&v.org_id, &p.discoverability))
                .collect();
            offered.sort_by_key(|p| p.order_index);
            (!offered.is_empty()).then_some((v, offered))
        })
        .collect();
    out.sort_by_key(|(v, _)| std::cmp::Reverse((v.published_on, v.id)));
    Ok(out)
}

/// For the catalog: the newest published version the visitor may see of each API whose row
/// matches `apis` (a sub-select of API ids), reading only the columns it needs.
async fn newest_visible(
    db: &impl ConnectionTrait,
    visitor: &Visitor,
    apis: Option<sea_orm::sea_query::SelectStatement>,
) -> Result<HashMap<(String, String), String>> {
    let mut published = Query::select()
        .column(api_version::Column::Id)
        .from(api_version::Entity)
        .and_where(api_version::Column::Status.eq(ApiStatus::Published.as_str()))
        .to_owned();
    let mut versions = api_version::Entity::find()
        .select_only()
        .columns([
            api_version::Column::Id,
            api_version::Column::OrgId,
            api_version::Column::ApiId,
            api_version::Column::Version,
        ])
        .column(api_version::Column::PublishedOn)
        .filter(api_version::Column::Status.eq(ApiStatus::Published.as_str()));
    if let Some(apis) = apis {
        published.and_where(api_version::Column::ApiId.in_subquery(apis.clone()));
        versions = versions.filter(api_version::Column::ApiId.in_subquery(apis));
    }
    type Row = (
        i32,
        String,
        String,
        String,
        Option<crate::entities::Timestamp>,
    );
    let versions: Vec<Row> = versions.into_tuple().all(db).await?;
    let plans: Vec<(i32, String)> = api_plan::Entity::find()
        .select_only()
        .columns([
            api_plan::Column::ApiVersionId,
            api_plan::Column::Discoverability,
        ])
        .filter(api_plan::Column::ApiVersionId.in_subquery(published))
        .into_tuple()
        .all(db)
        .await?;
    let mut visible_ids: HashSet<i32> = HashSet::new();
    let org_of: HashMap<i32, &str> = versions.iter().map(|v| (v.0, v.1.as_str())).collect();
    for (id, d) in &plans {
        if let Some(org) = org_of.get(id)
            && visitor.sees(org, d)
        {
            visible_ids.insert(*id);
        }
    }
    let mut newest: HashMap<(String, String), (Option<crate::entities::Timestamp>, i32, String)> =
        HashMap::new();
    for (id, org, api_id, version, published_on) in versions {
        if !visible_ids.contains(&id) {
            continue;
        }
        let entry = newest
            .entry((org, api_id))
            .or_insert((published_on, id, version.clone()));
        if (published_on, id) > (entry.0, entry.1) {
            *entry = (published_on, id, version);
        }
    }
    Ok(newest.into_iter().map(|(k, (_, _, v))| (k, v)).collect())
}

/// The catalog: APIs with a published version the visitor may see, matching `query` (name,
/// description or tag) and `tag`, sorted by name, paged. Also every tag in the result.
pub async fn catalog(
    db: &impl ConnectionTrait,
    ctx: Option<&Ctx>,
    query: &str,
    tag: &str,
    page: u64,
    per_page: u64,
) -> Result<(Page<PortalApiCard>, Vec<String>)> {
    let visitor = Visitor::of(db, ctx).await?;
    let needle = query.trim().to_lowercase();
    let search = (!needle.is_empty()).then(|| {
        let pattern = crate::db::contains_pattern(&needle);
        let like = |col: api::Column| {
            sea_orm::sea_query::ExprTrait::like(
                Expr::expr(Func::lower(Expr::col(col))),
                sea_orm::sea_query::LikeExpr::new(pattern.clone()).escape('\\'),
            )
        };
        sea_orm::Condition::any()
            .add(like(api::Column::Name))
            .add(like(api::Column::Description))
            .add(like(api::Column::Tags))
    });
    let ids = search.clone().map(|cond| {
        Query::select()
            .column(api::Column::Id)
            .from(api::Entity)
            .cond_where(cond)
            .to_owned()
    });
    let visible = newest_visible(db, &visitor, ids).await?;
    let mut q = api::Entity::find();
    if let Some(cond) = search {
        q = q.filter(cond);
    }
    let apis = q.all(db).await?;
    let org_names: HashMap<String, String> = organization::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let mut all_tags = std::collections::BTreeSet::new();
    let mut cards: Vec<PortalApiCard> = apis
        .into_iter()
        .filter_map(|a| {
            let newest = visible.get(&(a.org_id.clone(), a.id.clone()))?;
            let tags = tags_of(&a);
            all_tags.extend(tags.iter().cloned());
            if !tag.is_empty() && !tags.iter().any(|t| t == tag) {
                return None;
            }
            Some(PortalApiCard {
                org_name: org_names.get(&a.org_id).cloned().unwrap_or_default(),
                org_id: a.org_id,
                api_id: a.id,
                name: a.name,
                description: a.description,
                tags,
                version: newest.clone(),
            })
        })
        .collect();
    cards.sort_by(|a, b| {
        (a.name.to_lowercase(), &a.org_name).cmp(&(b.name.to_lowercase(), &b.org_name))
    });
    let (page, per_page) = (page.clamp(1, 1_000_000), per_page.clamp(1, 100));
    let total = cards.len() as u64;
    let items = cards
        .into_iter()
        .skip(((page - 1) * per_page) as usize)
        .take(per_page as usize)
        .collect();
    Ok((
        Page {
            items,
            total,
            page,
            per_page,
        },
        all_tags.into_iter().collect(),
    ))
}

fn not_found(api: &str) -> Error {
    Error::NotFound(format!("No API '{api}' is available to you."))
}

/// An API's portal page for one visible published version (`version` None: the newest).
pub async fn details(
    db: &impl ConnectionTrait,
    ctx: Option<&Ctx>,
    org_id: &str,
    api_id: &str,
    version: Option<&str>,
) -> Result<PortalApiDetail> {
    let visitor = Visitor::of(db, ctx).await?;
    let versions = visible_versions(db, &visitor, (org_id, api_id)).await?;
    let (v, offered) = match version.filter(|v| !v.is_empty()) {
        Some(want) => versions
            .iter()
            .find(|(v, _)| v.version == want)
            .ok_or_else(|| not_found(api_id))?,
        None => versions.first().ok_or_else(|| not_found(api_id))?,
    };
    let a = versioned::find::<api::Entity>(db, org_id, api_id).await?;
    let org = organization::Entity::find_by_id(org_id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| not_found(api_id))?;
    let operations = crate::apis::stored_summary(v)
        .map(|s| s.groups)
        .unwrap_or_default();
    let mut plans = Vec::new();
    for o in offered {
        let Some(pv) = plan_version::Entity::find_by_id(o.plan_version_id)
            .one(db)
            .await?
        else {
            continue;
        };
        let p = versioned::find::<plan::Entity>(db, &pv.org_id, &pv.plan_id).await?;
        let policies = policy::Entity::find()
            .filter(policy::Column::Kind.eq(domain::EntityKind::Plan.as_str()))
            .filter(policy::Column::OwnerVersionId.eq(pv.id))
            .all(db)
            .await?;
        let mut policies = policies;
        policies.sort_by_key(|p| p.order_index);
        plans.push(PortalPlan {
            plan_id: p.id,
            name: p.name,
            description: p.description,
            version: pv.version,
            limits: domain::portal::limits_summary(
                policies
                    .iter()
                    .map(|p| (p.definition_id.as_str(), p.configuration.as_str())),
            ),
            requires_approval: o.requires_approval,
        });
    }
    Ok(PortalApiDetail {
        org_id: org.id,
        org_name: org.name,
        api_id: a.id.clone(),
        tags: tags_of(&a),
        name: a.name,
        description: a.description,
        extended_description_html: crate::apis::render_markdown(&v.extended_description),
        versions: versions.iter().map(|(v, _)| v.version.clone()).collect(),
        version: v.version.clone(),
        gateway_url: crate::gateway::api_url(org_id, api_id, &v.version),
        public_api: v.public_api,
        has_definition: v.definition.is_some(),
        operations,
        plans,
    })
}

/// The definition of a visible published version, for download: (file name, media type, text).
pub async fn definition(
    db: &impl ConnectionTrait,
    ctx: Option<&Ctx>,
    org_id: &str,
    api_id: &str,
    version: &str,
) -> Result<(String, &'static str, String)> {
    let d = details(db, ctx, org_id, api_id, Some(version)).await?;
    let v = versioned::find_version::<api::Entity>(db, org_id, api_id, &d.version).await?;
    let text = v.definition.ok_or_else(|| not_found(api_id))?;
    let yaml = v.definition_type.as_deref() == Some("yaml");
    let name = format!(
        "{api_id}-{}.{}",
        d.version,
        if yaml { "yaml" } else { "json" }
    );
    Ok((
        name,
        if yaml {
            "application/yaml"
        } else {
            "application/json"
        },
        text,
    ))
}

/// The client versions the user may sign up with, and the organizations where a new client
/// can be created.
pub async fn sign_up_options(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    api: &EntityRef,
) -> Result<SignUpOptions> {
    let ctx = &ctx.for_portal();
    let orgs = crate::organizations::list_mine(db, ctx, Some(Permission::ClientEdit)).await?;
    let av = versioned::find_version::<api::Entity>(db, &api.org_id, &api.id, &api.version)
        .await
        .ok();
    let mut clients = Vec::new();
    for o in &orgs {
        let parents = client::Entity::find()
            .filter(client::Column::OrgId.eq(o.id.clone()))
            .all(db)
            .await?;
        let versions = client_version::Entity::find()
            .filter(client_version::Column::OrgId.eq(o.id.clone()))
            .all(db)
            .await?;
        for v in versions {
            if v.status == ClientStatus::Retired.as_str() {
                continue;
            }
            let existing = match &av {
                Some(av) => contract::Entity::find()
                    .filter(contract::Column::ClientVersionId.eq(v.id))
                    .filter(contract::Column::ApiVersionId.eq(av.id))
                    .one(db)
                    .await?
                    .map(|c| {
                        format!(
                            "This client version already has a contract with this API version ({}).",
                            ContractStatus::parse(&c.status)
                                .unwrap_or(ContractStatus::Created)
                                .label()
                        )
                    }),
                None => None,
            };
            clients.push(ClientChoice {
                org_id: o.id.clone(),
                org_name: o.name.clone(),
                name: parents
                    .iter()
                    .find(|p| p.id == v.client_id)
                    .map_or_else(|| v.client_id.clone(), |p| p.name.clone()),
                client_id: v.client_id,
                version: v.version,
                existing_contract: existing,
            });
        }
    }
    clients.sort_by(|a, b| {
        (&a.org_name, a.name.to_lowercase(), &a.version).cmp(&(
            &b.org_name,
            b.name.to_lowercase(),
            &b.version,
        ))
    });
    Ok(SignUpOptions { clients, orgs })
}

/// The client side of a portal sign-up.
#[derive(Debug, Clone)]
pub enum ClientPick {
    Existing(EntityRef),
    New {
        /// Empty when the user has no organization, or only one.
        org_id: String,
        name: String,
        version: String,
    },
}

/// A home organization named after the user, created on the fly (with a number when the name
/// is taken). A portal-only account gets one whatever the platform setting says (it can only
/// hold the account's clients); a management account only when it may create organizations.
async fn home_org(txn: &impl ConnectionTrait, ctx: &Ctx) -> Result<String> {
    if !ctx.portal_only {
        crate::settings::require_org_creation(txn, ctx).await?;
    }
    let base = ctx.display_name.trim();
    for n in 1..100 {
        let candidate = if n == 1 {
            base.to_owned()
        } else {
            format!("{base} {n}")
        };
        let Ok(name) = EntityName::parse(&candidate) else {
            break;
        };
        if organization::Entity::find_by_id(name.id())
            .one(txn)
            .await?
            .is_none()
        {
            let description =
                Description::parse("Created when signing up for an API in the portal.")?;
            return crate::organizations::insert_in(txn, ctx, &name, &description).await;
        }
    }
    Err(Error::invalid(
        "org",
        "A home organization could not be named after you; create an organization first.",
    ))
}

/// Signs a client version up for an API version's plan: creates the client (and a home
/// organization) when asked, the contract, and registers the client version unless the
/// contract awaits approval. One transaction.
pub async fn sign_up(
    db: &impl Db,
    ctx: &Ctx,
    target: Target,
    pick: ClientPick,
) -> Result<SignUpResult> {
    let ctx = &ctx.for_portal();
    let txn = crate::db::write(db).await?;
    // The API version must be visible to this user before anything is created.
    details(
        &txn,
        Some(ctx),
        &target.api_org_id,
        &target.api_id,
        Some(&target.api_version),
    )
    .await?;
    let at = match pick {
        ClientPick::Existing(at) => {
            authz::require(&txn, ctx, &at.org_id, Permission::ClientEdit).await?;
            at
        }
        ClientPick::New {
            org_id,
            name,
            version,
        } => {
            let org_id = if org_id.is_empty() {
                let mine = crate::organizations::list_mine(&txn, ctx, Some(Permission::ClientEdit))
                    .await?;
                match mine.as_slice() {
                    [] => home_org(&txn, ctx).await?,
                    [one] => one.id.clone(),
                    _ => {
                        return Err(Error::invalid(
                            "org",
                            "Choose the organization of the new client.",
                        ));
                    }
                }
            } else {
                org_id
            };
            let input = crate::clients::NewClient {
                name,
                version,
                description: String::new(),
            };
            crate::clients::create_in(&txn, ctx, &org_id, input).await?
        }
    };
    let cv =
        versioned::lock_version::<client::Entity>(&txn, &at.org_id, &at.id, &at.version).await?;
    let (contract, mut cv) = contracts::create_in(&txn, ctx, &cv, &target).await?;
    let access = authz::access(&txn, ctx, &at.org_id).await?;
    if contract == ContractStatus::Created && access.can(Permission::ClientAdmin) {
        let (total, awaiting) = contracts::contract_counts(&txn, cv.id).await?;
        let status = ClientStatus::parse(&cv.status).unwrap_or(ClientStatus::Created);
        if let Ok(s) = lifecycle::register(ClientFacts {
            status,
            contracts: total,
            awaiting_approval: awaiting,
            changed_since_registration: true,
        }) {
            cv = contracts::set_client_status(&txn, ctx, cv, s, false).await?;
            versioned::record_action::<client::Entity>(
                &txn,
                ctx,
                &at,
                "Register",
                format!(
                    "Registered version {} after signing up in the portal",
                    at.version
                ),
            )
            .await?;
        }
    }
    let approver = (contract == ContractStatus::AwaitingApproval).then(|| {
        let org = organization::Entity::find_by_id(target.api_org_id.clone());
        (org, target.api_org_id.clone())
    });
    let approver = match approver {
        Some((q, id)) => Some(format!(
            "the plan administrators of {}",
            q.one(&txn).await?.map_or(id, |o| o.name)
        )),
        None => None,
    };
    crate::gateway::bump(&txn).await?;
    txn.commit().await?;
    Ok(SignUpResult {
        org_id: at.org_id,
        client_id: at.id,
        version: at.version,
        status: ClientStatus::parse(&cv.status).unwrap_or(ClientStatus::Created),
        contract,
        approver,
    })
}

/// The user's client versions, grouped by organization (sorted), with keys and contracts.
pub async fn my_clients(db: &impl ConnectionTrait, ctx: &Ctx) -> Result<Vec<MyClientVersion>> {
    let ctx = &ctx.for_portal();
    let orgs: Vec<OrgSummary> =
        crate::organizations::list_mine(db, ctx, Some(Permission::ClientView)).await?;
    let mut out = Vec::new();
    for o in orgs {
        let can = |p: Permission| ctx.is_admin || o.role.is_some_and(|r: Role| r.grants(p));
        let parents = client::Entity::find()
            .filter(client::Column::OrgId.eq(o.id.clone()))
            .all(db)
            .await?;
        let mut versions = client_version::Entity::find()
            .filter(client_version::Column::OrgId.eq(o.id.clone()))
            .all(db)
            .await?;
        versions.sort_by(|a, b| (&a.client_id, &a.version).cmp(&(&b.client_id, &b.version)));
        let ids: Vec<i32> = versions.iter().map(|v| v.id).collect();
        let mut keys = crate::api_keys::dtos(db, &ids).await?;
        for v in versions {
            let rows = contract::Entity::find()
                .filter(contract::Column::ClientVersionId.eq(v.id))
                .all(db)
                .await?;
            let status = ClientStatus::parse(&v.status).unwrap_or(ClientStatus::Created);
            let live: Vec<(i64, i32, i32)> = rows
                .iter()
                .filter(|c| c.status == domain::ContractStatus::Created.as_str())
                .map(|c| (i64::from(c.id), c.api_version_id, c.plan_version_id))
                .collect();
            let usage = if status == ClientStatus::Registered {
                crate::limits::contract_usage(db, v.id, v.registered_policies.as_deref(), &live)
                    .await?
            } else {
                Vec::new()
            };
            out.push(MyClientVersion {
                usage,
                org_id: o.id.clone(),
                org_name: o.name.clone(),
                name: parents
                    .iter()
                    .find(|p| p.id == v.client_id)
                    .map_or_else(|| v.client_id.clone(), |p| p.name.clone()),
                client_id: v.client_id.clone(),
                version: v.version.clone(),
                status,
                unpublished_changes: status == ClientStatus::Registered
                    && v.changed_since_registration,
                keys: keys.remove(&v.id).unwrap_or_default(),
                can_edit: can(Permission::ClientEdit),
                contracts: contracts::to_dtos(db, rows).await?,
                can_admin: can(Permission::ClientAdmin),
            });
        }
    }
    Ok(out)
}

/// Registers a client version from My Clients.
pub async fn register(db: &impl Db, ctx: &Ctx, at: &EntityRef) -> Result<()> {
    crate::clients::register(db, &ctx.for_portal(), at).await
}

/// Breaks a contract from My Clients.
pub async fn break_contract(db: &impl Db, ctx: &Ctx, id: i64) -> Result<()> {
    contracts::break_one(db, &ctx.for_portal(), id).await
}

/// Moves a contract to another plan from My Clients (`contracts::change_plan`).
pub async fn change_plan(
    db: &impl Db,
    ctx: &Ctx,
    id: i64,
    plan_id: &str,
) -> Result<lifecycle::PlanChange> {
    contracts::change_plan(db, &ctx.for_portal(), id, plan_id).await
}

/// The plans a contract may move to, for My Clients' Change plan dialog.
pub async fn plan_choices(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    id: i64,
) -> Result<domain::dto::PlanChoices> {
    contracts::plan_choices(db, &ctx.for_portal(), id).await
}

/// Removes a client from My Clients: unregisters the version when it is registered (or awaits
/// approval), then deletes the client with all its versions.
pub async fn remove_client(db: &impl Db, ctx: &Ctx, at: &EntityRef) -> Result<()> {
    let ctx = &ctx.for_portal();
    // Permission before existence: a client of an organization the caller cannot see reads as
    // that organization's absence, whether or not the client exists.
    authz::require(db, ctx, &at.org_id, Permission::ClientAdmin).await?;
    let v = versioned::find_version::<client::Entity>(db, &at.org_id, &at.id, &at.version).await?;
    if matches!(
        ClientStatus::parse(&v.status),
        Some(ClientStatus::Registered | ClientStatus::AwaitingApproval)
    ) {
        crate::clients::unregister(db, ctx, at).await?;
    }
    crate::clients::delete(db, ctx, &at.org_id, &at.id).await
}

/// Sets an API's tags (`featured` puts it on the portal's home page). Needs apiEdit.
pub async fn set_tags(
    db: &impl Db,
    ctx: &Ctx,
    org_id: &str,
    api_id: &str,
    tags: &str,
) -> Result<Vec<String>> {
    let tags = domain::api_config::parse_tags(tags)?;
    let txn = crate::db::write(db).await?;
    authz::require(&txn, ctx, org_id, Permission::ApiEdit).await?;
    let a = versioned::find::<api::Entity>(&txn, org_id, api_id).await?;
    let before = tags_of(&a).join(", ");
    let json = serde_json::to_string(&tags).map_err(Error::unexpected)?;
    api::Entity::update_many()
        .col_expr(api::Column::Tags, Expr::value(json))
        .filter(api::Column::OrgId.eq(org_id))
        .filter(api::Column::Id.eq(api_id))
        .exec(&txn)
        .await?;
    if let Some(change) = crate::audit::change("tags", &before, &tags.join(", ")) {
        crate::audit::record(
            &txn,
            ctx,
            crate::audit::Entry {
                org_id,
                entity_type: domain::EntityKind::Api.into(),
                entity_id: api_id,
                entity_version: None,
                what: "Update",
                summary: "Updated the tags".to_owned(),
                changes: vec![change],
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(tags)
}
