//! APIs and API versions: create (API + first version, one transaction), view, edit the
//! description, list; the Implementation, Definition and Plans tabs; publish, retire, delete,
//! new version.

use domain::dto::{
    ApiVersionDetail, ContractDto, DefinitionInfo, FieldChange, LockedPlan, Page, PlanOffer,
};
use domain::lifecycle::{self, ApiPart};
use domain::portal::DefinitionSummary;
use domain::{
    ApiStatus, ContentType, DefinitionFormat, Discoverability, EndpointUrl, EntityKind, Permission,
    PlanStatus,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder,
};

use crate::db::Db;
use crate::entities::{api, api_plan, api_version, contract, plan, plan_version};
use crate::policies;
use crate::versioned::{self, EntityRef};
use crate::{Ctx, Result, audit, authz, now};

#[derive(Debug, Clone)]
pub struct NewApi {
    pub name: String,
    pub version: String,
    pub description: String,
    /// Optional at creation; empty means none yet.
    pub endpoint: String,
}

/// Creates an API with its first version. Needs apiEdit.
pub async fn create(db: &impl Db, ctx: &Ctx, org_id: &str, input: NewApi) -> Result<EntityRef> {
    let endpoint = (!input.endpoint.trim().is_empty()).then(|| EndpointUrl::parse(&input.endpoint));
    let endpoint_error = endpoint.as_ref().and_then(|e| e.as_ref().err().cloned());
    let txn = crate::db::write(db).await?;
    let new = versioned::prepare_create::<api::Entity>(
        &txn,
        ctx,
        org_id,
        &input.name,
        &input.version,
        &input.description,
        endpoint_error,
    )
    .await?;
    let endpoint = endpoint.transpose()?;
    let at = now();
    api::Entity::insert(api::ActiveModel {
        org_id: Set(org_id.to_owned()),
        id: Set(new.id.clone()),
        name: Set(new.name.as_str().to_owned()),
        description: Set(new.description.as_str().to_owned()),
        created_by: Set(ctx.user_id.clone()),
        created_on: Set(at),
        modified_by: Set(ctx.user_id.clone()),
        modified_on: Set(at),
        tags: Set("[]".to_owned()),
        image: Set(None),
    })
    .exec_without_returning(&txn)
    .await
    .map_err(|e| new.on_insert::<api::Entity>(e))?;
    let status = ApiStatus::determine(ApiStatus::Created, endpoint.is_some(), false, 0);
    api_version::Entity::insert(api_version::ActiveModel {
        org_id: Set(org_id.to_owned()),
        api_id: Set(new.id.clone()),
        version: Set(new.version.as_str().to_owned()),
        status: Set(status.as_str().to_owned()),
        created_by: Set(ctx.user_id.clone()),
        created_on: Set(at),
        modified_by: Set(ctx.user_id.clone()),
        modified_on: Set(at),
        endpoint_url: Set(endpoint.map(|e| e.as_str().to_owned())),
        endpoint_type: Set("REST".to_owned()),
        content_type: Set("JSON".to_owned()),
        public_api: Set(false),
        // New versions take the key only from the `X-API-Key` header.
        accept_key_in_query: Set(false),
        definition: Set(None),
        definition_type: Set(None),
        extended_description: Set(String::new()),
        published_on: Set(None),
        retired_on: Set(None),
        ..Default::default()
    })
    .exec_without_returning(&txn)
    .await?;
    let created = new.finish::<api::Entity>(&txn, ctx).await?;
    txn.commit().await?;
    Ok(created)
}

pub async fn get_version(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
    api_id: &str,
    version: &str,
) -> Result<ApiVersionDetail> {
    let loaded = versioned::load_version::<api::Entity>(
        db,
        ctx,
        org_id,
        api_id,
        version,
        Permission::ApiView,
    )
    .await?;
    let v = loaded.version;
    let plans = crate::contracts::offered_plans(db, vec![v.id])
        .await?
        .remove(&v.id)
        .unwrap_or_default();
    let definition = v.definition.as_deref().and_then(|text| {
        let summary = stored_summary(&v)?;
        Some(DefinitionInfo {
            format: v
                .definition_type
                .as_deref()
                .and_then(DefinitionFormat::parse)
                .unwrap_or_else(|| DefinitionFormat::sniff(text)),
            title: summary.title.clone(),
            operations: summary.operation_count(),
            bytes: text.len(),
        })
    });
    let contract_count = contract::Entity::find()
        .filter(contract::Column::ApiVersionId.eq(v.id))
        .count(db)
        .await?;
    let status = status_of(&v);
    let publish_checklist = if matches!(status, ApiStatus::Created | ApiStatus::Ready) {
        lifecycle::api_publish_checklist(v.endpoint_url.is_some(), v.public_api, plans.len())
            .into_iter()
            .map(str::to_owned)
            .collect()
    } else {
        vec![]
    };
    let tags = versioned::find::<api::Entity>(db, org_id, api_id)
        .await
        .map(|a| serde_json::from_str(&a.tags).unwrap_or_default())?;
    let endpoint_refusal = match v.endpoint_url.as_deref() {
        Some(e) => crate::gateway::endpoint_refusal(e).await,
        None => None,
    };
    Ok(ApiVersionDetail {
        header: loaded.header,
        tags,
        status,
        gateway_url: crate::gateway::api_url(org_id, api_id, version),
        endpoint_url: v.endpoint_url,
        endpoint_type: v.endpoint_type,
        content_type: ContentType::parse(&v.content_type).unwrap_or(ContentType::Json),
        public_api: v.public_api,
        request_body_limit: v.request_body_limit.and_then(|n| u64::try_from(n).ok()),
        allow_encoded_slashes: v.allow_encoded_slashes,
        accept_key_in_query: v.accept_key_in_query,
        connect_timeout_ms: v.connect_timeout_ms.and_then(|n| u64::try_from(n).ok()),
        response_timeout_ms: v.response_timeout_ms.and_then(|n| u64::try_from(n).ok()),
        max_concurrent_requests: v
            .max_concurrent_requests
            .and_then(|n| u32::try_from(n).ok()),
        endpoint_refusal,
        definition,
        extended_description_html: render_markdown(&v.extended_description),
        extended_description: v.extended_description,
        plans,
        publish_checklist,
        published_on: v.published_on,
        retired_on: v.retired_on,
        contract_count,
    })
}

/// An API version for a change that needs `permission`, inside `txn`.
async fn for_change(
    txn: &impl ConnectionTrait,
    ctx: &Ctx,
    at: &EntityRef,
    permission: Permission,
) -> Result<api_version::Model> {
    authz::require(txn, ctx, &at.org_id, permission).await?;
    versioned::lock_version::<api::Entity>(txn, &at.org_id, &at.id, &at.version).await
}

fn status_of(v: &api_version::Model) -> ApiStatus {
    ApiStatus::parse(&v.status).unwrap_or(ApiStatus::Created)
}

async fn plan_count(db: &impl ConnectionTrait, api_version_id: i32) -> Result<usize> {
    Ok(api_plan::Entity::find()
        .filter(api_plan::Column::ApiVersionId.eq(api_version_id))
        .count(db)
        .await? as usize)
}

/// Stores `m` with the status recomputed from its endpoint, public flag and plans.
async fn save(
    txn: &impl ConnectionTrait,
    ctx: &Ctx,
    mut m: api_version::ActiveModel,
    id: i32,
) -> Result<api_version::Model> {
    let plans = plan_count(txn, id).await?;
    let current = ApiStatus::parse(m.status.as_ref()).unwrap_or(ApiStatus::Created);
    let status = ApiStatus::determine(
        current,
        m.endpoint_url.as_ref().is_some(),
        *m.public_api.as_ref(),
        plans,
    );
    m.status = Set(status.as_str().to_owned());
    m.modified_by = Set(ctx.user_id.clone());
    m.modified_on = Set(now());
    Ok(m.update(txn).await?)
}

async fn record_update(
    txn: &impl ConnectionTrait,
    ctx: &Ctx,
    at: &EntityRef,
    summary: &str,
    changes: Vec<Option<FieldChange>>,
) -> Result<()> {
    let changes: Vec<FieldChange> = changes.into_iter().flatten().collect();
    if changes.is_empty() {
        return Ok(());
    }
    audit::record(
        txn,
        ctx,
        audit::Entry {
            org_id: &at.org_id,
            entity_type: EntityKind::Api.into(),
            entity_id: &at.id,
            entity_version: Some(&at.version),
            what: "Update",
            summary: summary.to_owned(),
            changes,
        },
    )
    .await
}

/// The Implementation tab's fields.
#[derive(Debug, Clone)]
pub struct Implementation {
    pub endpoint: String,
    pub content_type: String,
    pub public_api: bool,
    /// The largest request body in bytes; `None`: the default (10 MiB).
    pub request_body_limit: Option<u64>,
    /// Whether request paths may contain an encoded slash (`%2F`).
    pub allow_encoded_slashes: bool,
    /// Whether the gateway takes the key from `?apikey=` too.
    pub accept_key_in_query: bool,
    /// How long the gateway waits for a connection to the backend, in milliseconds; `None`:
    /// the default (5 s).
    pub connect_timeout_ms: Option<u64>,
    /// How long the gateway waits for the backend's answer once connected, in milliseconds;
    /// `None`: the default (30 s).
    pub response_timeout_ms: Option<u64>,
    /// Requests in flight towards the backend at once on one gateway node; `None`: the default
    /// (256).
    pub max_concurrent_requests: Option<u32>,
}

/// Changes the endpoint, content type, public flag and the gateway's settings towards the
/// backend. Needs apiEdit; a published version keeps its public flag (its other settings are
/// operational and may change: `lifecycle::change_api(…, ApiPart::Endpoint)`).
pub async fn update_implementation(
    db: &impl Db,
    ctx: &Ctx,
    at: &EntityRef,
    input: Implementation,
) -> Result<()> {
    let endpoint = EndpointUrl::parse(&input.endpoint);
    let content_type = ContentType::parse(&input.content_type);
    let body_limit = domain::gateway_bounds::check_request_body_limit(input.request_body_limit);
    let connect = domain::gateway_bounds::check_connect_timeout(input.connect_timeout_ms);
    let response = domain::gateway_bounds::check_response_timeout(input.response_timeout_ms);
    let concurrency =
        domain::gateway_bounds::check_max_concurrent_requests(input.max_concurrent_requests);
    crate::error::collect_fields([
        endpoint.as_ref().err().cloned(),
        content_type.as_ref().err().cloned(),
        body_limit.as_ref().err().cloned(),
        connect.as_ref().err().cloned(),
        response.as_ref().err().cloned(),
        concurrency.as_ref().err().cloned(),
    ])?;
    let (endpoint, content_type, body_limit) = (endpoint?, content_type?, body_limit?);
    // At most 1 GiB (checked above): it fits.
    let body_limit = body_limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    // At most 600,000 ms and 10,000 (checked above): they fit.
    let column = |n: Option<u64>| n.map(|n| i32::try_from(n).unwrap_or(i32::MAX));
    let (connect, response) = (column(connect?), column(response?));
    let concurrency = column(concurrency?.map(u64::from));
    let txn = crate::db::write(db).await?;
    let v = for_change(&txn, ctx, at, Permission::ApiEdit).await?;
    lifecycle::change_api(status_of(&v), ApiPart::Endpoint)?;
    if v.public_api != input.public_api {
        lifecycle::change_api(status_of(&v), ApiPart::PublicFlag)?;
    }
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let changes = vec![
        audit::change(
            "endpoint",
            v.endpoint_url.as_deref().unwrap_or(""),
            endpoint.as_str(),
        ),
        audit::change("content type", &v.content_type, content_type.as_str()),
        audit::change("public", yes_no(v.public_api), yes_no(input.public_api)),
        audit::change(
            "request body limit",
            &limit_text(v.request_body_limit),
            &limit_text(body_limit),
        ),
        audit::change(
            "encoded slashes allowed",
            yes_no(v.allow_encoded_slashes),
            yes_no(input.allow_encoded_slashes),
        ),
        audit::change(
            "API key in the query string accepted",
            yes_no(v.accept_key_in_query),
            yes_no(input.accept_key_in_query),
        ),
        audit::change(
            "connect timeout",
            &setting_text(v.connect_timeout_ms, " ms"),
            &setting_text(connect, " ms"),
        ),
        audit::change(
            "response timeout",
            &setting_text(v.response_timeout_ms, " ms"),
            &setting_text(response, " ms"),
        ),
        audit::change(
            "concurrent requests bound",
            &setting_text(v.max_concurrent_requests, ""),
            &setting_text(concurrency, ""),
        ),
    ];
    let id = v.id;
    let mut m = v.into_active_model();
    m.endpoint_url = Set(Some(endpoint.as_str().to_owned()));
    m.endpoint_type = Set(domain::api_config::ENDPOINT_TYPE_REST.to_owned());
    m.content_type = Set(content_type.as_str().to_owned());
    m.public_api = Set(input.public_api);
    m.request_body_limit = Set(body_limit);
    m.allow_encoded_slashes = Set(input.allow_encoded_slashes);
    m.accept_key_in_query = Set(input.accept_key_in_query);
    m.connect_timeout_ms = Set(connect);
    m.response_timeout_ms = Set(response);
    m.max_concurrent_requests = Set(concurrency);
    save(&txn, ctx, m, id).await?;
    record_update(&txn, ctx, at, "Updated the implementation", changes).await?;
    crate::gateway::bump(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// A request body limit for the change log.
fn limit_text(limit: Option<i64>) -> String {
    limit.map_or_else(|| "default".to_owned(), |n| format!("{n} bytes"))
}

/// A setting that may be left to its default, for the change log.
fn setting_text(value: Option<i32>, unit: &str) -> String {
    value.map_or_else(|| "default".to_owned(), |n| format!("{n}{unit}"))
}

/// Walks a YAML text's events without building anything: refuses anchors and aliases (their
/// expansion is what makes a small upload huge) and more nodes or nesting than the budget, so
/// that `serde_yaml` only ever sees a document that is as big as its text.
fn check_yaml_events(text: &str) -> Result<()> {
    use saphyr_parser::{Event, Parser};
    let mut budget = domain::api_config::NodeBudget::default();
    let mut parser = Parser::new_from_str(text);
    while let Some(event) = parser.next_event() {
        let (event, _) = event.map_err(|e| {
            crate::Error::invalid("definition", format!("This is not valid YAML: {e}."))
        })?;
        match event {
            Event::Alias(_) => return Err(domain::api_config::yaml_anchors_refused().into()),
            Event::Scalar(_, _, anchor, _) => {
                if anchor != 0 {
                    return Err(domain::api_config::yaml_anchors_refused().into());
                }
                budget.leaf()?;
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if anchor != 0 {
                    return Err(domain::api_config::yaml_anchors_refused().into());
                }
                budget.open()?;
            }
            Event::SequenceEnd | Event::MappingEnd => budget.close(),
            _ => {}
        }
    }
    Ok(())
}

/// Parses a definition (JSON or YAML) within its bounds (size, no YAML anchors or aliases,
/// nodes, depth) and checks that it is OpenAPI 3.
pub fn parse_definition(text: &str) -> Result<(DefinitionFormat, serde_json::Value)> {
    use domain::api_config::{MAX_DEFINITION_DEPTH, check_node_budget};
    domain::api_config::check_definition_size(text)?;
    let format = DefinitionFormat::sniff(text);
    let doc: serde_json::Value = match format {
        // serde_json stops at 128 levels by itself; the budget is checked on the result, which
        // is at most as big as the (1 MiB) text.
        DefinitionFormat::Json => serde_json::from_str(text).map_err(|e| {
            let message = if e.to_string().contains("recursion limit") {
                format!("The definition is nested more than {MAX_DEFINITION_DEPTH} levels deep.")
            } else {
                format!("This is not valid JSON: {e}.")
            };
            crate::Error::invalid("definition", message)
        })?,
        DefinitionFormat::Yaml => {
            check_yaml_events(text)?;
            serde_yaml::from_str(text).map_err(|e| {
                crate::Error::invalid("definition", format!("This is not valid YAML: {e}."))
            })?
        }
    };
    check_node_budget(&doc)?;
    domain::api_config::check_openapi(&doc)?;
    Ok((format, doc))
}

/// The stored summary of a definition (`api_versions.definition_summary`), from its text: what
/// the API page and the portal show, computed once when the definition is saved.
pub fn summarize_definition(text: &str) -> Result<(DefinitionFormat, String)> {
    let (format, doc) = parse_definition(text)?;
    let summary =
        serde_json::to_string(&DefinitionSummary::of(&doc)).map_err(crate::Error::unexpected)?;
    Ok((format, summary))
}

/// A version's stored definition summary; `None` without a definition, or for a definition
/// saved before summaries were stored that the current bounds refuse (it can be saved again).
pub(crate) fn stored_summary(v: &api_version::Model) -> Option<DefinitionSummary> {
    serde_json::from_str(v.definition_summary.as_deref()?).ok()
}

/// Sets (or, with empty `text`, removes) the OpenAPI definition. Needs apiEdit; refused once
/// published.
pub async fn update_definition(db: &impl Db, ctx: &Ctx, at: &EntityRef, text: &str) -> Result<()> {
    let parsed = if text.trim().is_empty() {
        None
    } else {
        Some(summarize_definition(text)?)
    };
    let txn = crate::db::write(db).await?;
    let v = for_change(&txn, ctx, at, Permission::ApiEdit).await?;
    lifecycle::change_api(status_of(&v), ApiPart::Definition)?;
    let had = v.definition.is_some();
    let id = v.id;
    let mut m = v.into_active_model();
    m.definition = Set(parsed.as_ref().map(|_| text.to_owned()));
    m.definition_type = Set(parsed.as_ref().map(|(f, _)| f.as_str().to_owned()));
    m.definition_summary = Set(parsed.as_ref().map(|(_, summary)| summary.clone()));
    save(&txn, ctx, m, id).await?;
    let summary = match (had, parsed.is_some()) {
        (_, false) => "Removed the definition",
        (false, true) => "Added a definition",
        (true, true) => "Replaced the definition",
    };
    versioned::record_action::<api::Entity>(&txn, ctx, at, "Update", summary.to_owned()).await?;
    txn.commit().await?;
    Ok(())
}

/// The definition's text and format, for download and documentation. Needs apiView.
pub async fn definition(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    at: &EntityRef,
) -> Result<Option<(DefinitionFormat, String)>> {
    let v = for_change(db, ctx, at, Permission::ApiView).await?;
    Ok(v.definition.map(|text| {
        let format = v
            .definition_type
            .as_deref()
            .and_then(DefinitionFormat::parse)
            .unwrap_or_else(|| DefinitionFormat::sniff(&text));
        (format, text)
    }))
}

/// The most characters an extended description may have.
pub const MAX_EXTENDED_DESCRIPTION: usize = 20_000;

/// Changes the extended description (Markdown). Needs apiEdit; allowed while published.
pub async fn update_extended_description(
    db: &impl Db,
    ctx: &Ctx,
    at: &EntityRef,
    markdown: &str,
) -> Result<()> {
    if markdown.chars().count() > MAX_EXTENDED_DESCRIPTION {
        return Err(crate::Error::invalid(
            "extended_description",
            "The extended description must be at most 20,000 characters.",
        ));
    }
    let txn = crate::db::write(db).await?;
    let v = for_change(&txn, ctx, at, Permission::ApiEdit).await?;
    lifecycle::change_api(status_of(&v), ApiPart::ExtendedDescription)?;
    let change = audit::change("extended description", &v.extended_description, markdown);
    let id = v.id;
    let mut m = v.into_active_model();
    m.extended_description = Set(markdown.to_owned());
    save(&txn, ctx, m, id).await?;
    record_update(
        &txn,
        ctx,
        at,
        "Updated the extended description",
        vec![change],
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// "Gold 3 (All users, approval); Bronze 4 (Portal)" for the Change Log (plan version row ids).
fn describe_offers(offers: &[api_plan::Model]) -> String {
    offers
        .iter()
        .map(|o| {
            let d = Discoverability::parse(&o.discoverability)
                .map_or_else(|| o.discoverability.clone(), |x| x.label().to_owned());
            format!(
                "{} {} ({d}{})",
                o.plan_id,
                o.plan_version_id,
                if o.requires_approval {
                    ", approval"
                } else {
                    ""
                }
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Sets the plans an API version offers, in order: locked versions of plans of the same
/// organization. Needs apiEdit. Once published only the approval and discoverability flags
/// may change.
pub async fn set_plans(
    db: &impl Db,
    ctx: &Ctx,
    at: &EntityRef,
    offers: Vec<PlanOffer>,
) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = offers.iter().find(|o| !seen.insert(o.plan_id.clone())) {
        return Err(crate::Error::invalid(
            "plans",
            format!(
                "Plan '{}' is offered twice; offer one version of each plan.",
                dup.plan_id
            ),
        ));
    }
    let txn = crate::db::write(db).await?;
    let v = for_change(&txn, ctx, at, Permission::ApiEdit).await?;
    let existing = api_plan::Entity::find()
        .filter(api_plan::Column::ApiVersionId.eq(v.id))
        .order_by_asc(api_plan::Column::OrderIndex)
        .all(&txn)
        .await?;
    let mut rows = Vec::new();
    for (i, o) in offers.iter().enumerate() {
        let pv =
            versioned::find_version::<plan::Entity>(&txn, &at.org_id, &o.plan_id, &o.plan_version)
                .await?;
        lifecycle::offer_plan(PlanStatus::parse(&pv.status).unwrap_or(PlanStatus::Created))?;
        rows.push(api_plan::ActiveModel {
            api_version_id: Set(v.id),
            plan_id: Set(o.plan_id.clone()),
            plan_version_id: Set(pv.id),
            requires_approval: Set(o.requires_approval),
            discoverability: Set(o.discoverability.as_str().to_owned()),
            order_index: Set(i as i32),
        });
    }
    let key = |pairs: Vec<(String, i32)>| pairs;
    let same_set = key(existing
        .iter()
        .map(|e| (e.plan_id.clone(), e.plan_version_id))
        .collect())
        == key(rows
            .iter()
            .map(|r| (r.plan_id.as_ref().clone(), *r.plan_version_id.as_ref()))
            .collect());
    lifecycle::change_api(
        status_of(&v),
        if same_set {
            ApiPart::PlanFlags
        } else {
            ApiPart::PlanSet
        },
    )?;
    let before = describe_offers(&existing);
    api_plan::Entity::delete_many()
        .filter(api_plan::Column::ApiVersionId.eq(v.id))
        .exec(&txn)
        .await?;
    if !rows.is_empty() {
        api_plan::Entity::insert_many(rows).exec(&txn).await?;
    }
    let id = v.id;
    save(&txn, ctx, v.into_active_model(), id).await?;
    let after_rows = api_plan::Entity::find()
        .filter(api_plan::Column::ApiVersionId.eq(id))
        .order_by_asc(api_plan::Column::OrderIndex)
        .all(&txn)
        .await?;
    let after = describe_offers(&after_rows);
    record_update(
        &txn,
        ctx,
        at,
        "Changed the offered plans",
        vec![audit::change("plans", &before, &after)],
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Publishes an API version to the gateway. Needs apiAdmin.
pub async fn publish(db: &impl Db, ctx: &Ctx, at: &EntityRef) -> Result<()> {
    let txn = crate::db::write(db).await?;
    let v = for_change(&txn, ctx, at, Permission::ApiAdmin).await?;
    let plans = plan_count(&txn, v.id).await?;
    let missing = lifecycle::api_publish_checklist(v.endpoint_url.is_some(), v.public_api, plans);
    if !missing.is_empty() {
        return Err(crate::Error::conflict("", missing.join(" ")));
    }
    let status = lifecycle::publish_api(status_of(&v))?;
    let mut m = v.into_active_model();
    m.status = Set(status.as_str().to_owned());
    m.published_on = Set(Some(now()));
    m.update(&txn).await?;
    versioned::record_action::<api::Entity>(
        &txn,
        ctx,
        at,
        "Publish",
        format!("Published version {}", at.version),
    )
    .await?;
    crate::gateway::bump(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Retires a published API version: the gateway answers 410 for it. Needs apiAdmin.
pub async fn retire(db: &impl Db, ctx: &Ctx, at: &EntityRef) -> Result<()> {
    let txn = crate::db::write(db).await?;
    let v = for_change(&txn, ctx, at, Permission::ApiAdmin).await?;
    let status = lifecycle::retire_api(status_of(&v))?;
    let mut m = v.into_active_model();
    m.status = Set(status.as_str().to_owned());
    m.retired_on = Set(Some(now()));
    m.update(&txn).await?;
    versioned::record_action::<api::Entity>(
        &txn,
        ctx,
        at,
        "Retire",
        format!("Retired version {}", at.version),
    )
    .await?;
    crate::gateway::bump(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Deletes an API with all its versions, plans offered and policies; refused while a version
/// is Published or has contracts. Needs apiAdmin.
pub async fn delete(db: &impl Db, ctx: &Ctx, org_id: &str, api_id: &str) -> Result<()> {
    let txn = crate::db::write(db).await?;
    authz::require(&txn, ctx, org_id, Permission::ApiAdmin).await?;
    let parent = versioned::find::<api::Entity>(&txn, org_id, api_id).await?;
    let versions = versioned::lock_versions::<api::Entity>(&txn, org_id, api_id).await?;
    let statuses: Vec<ApiStatus> = versions.iter().map(status_of).collect();
    lifecycle::delete_api(&statuses)?;
    let ids: Vec<i32> = versions.iter().map(|v| v.id).collect();
    let contracts = contract::Entity::find()
        .filter(contract::Column::ApiVersionId.is_in(ids.clone()))
        .count(&txn)
        .await?;
    if contracts > 0 {
        return Err(crate::Error::conflict(
            "",
            format!(
                "{} still has {contracts} contract(s) with clients; they must be broken before the API is deleted.",
                parent.name
            ),
        ));
    }
    policies::delete_for(&txn, EntityKind::Api, ids).await?;
    api::Entity::delete_by_id((org_id.to_owned(), api_id.to_owned()))
        .exec(&txn)
        .await?;
    versioned::record_deleted::<api::Entity>(
        &txn,
        ctx,
        org_id,
        api_id,
        format!(
            "Deleted API {} with {} version(s)",
            parent.name,
            versions.len()
        ),
    )
    .await?;
    crate::gateway::bump(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Creates a new version of an API: empty, or cloned from `clone_from` (endpoint, content
/// type, public flag, the gateway's bounds and backend limits, definition, extended description, offered plans and policies).
pub async fn new_version(
    db: &impl Db,
    ctx: &Ctx,
    org_id: &str,
    api_id: &str,
    version: &str,
    clone_from: Option<&str>,
) -> Result<EntityRef> {
    let txn = crate::db::write(db).await?;
    let (version, source) = versioned::prepare_new_version::<api::Entity>(
        &txn, ctx, org_id, api_id, version, clone_from,
    )
    .await?;
    let at = now();
    let s = source.clone();
    let v = api_version::ActiveModel {
        org_id: Set(org_id.to_owned()),
        api_id: Set(api_id.to_owned()),
        version: Set(version.as_str().to_owned()),
        status: Set(ApiStatus::Created.as_str().to_owned()),
        created_by: Set(ctx.user_id.clone()),
        created_on: Set(at),
        modified_by: Set(ctx.user_id.clone()),
        modified_on: Set(at),
        endpoint_url: Set(s.as_ref().and_then(|s| s.endpoint_url.clone())),
        endpoint_type: Set(domain::api_config::ENDPOINT_TYPE_REST.to_owned()),
        content_type: Set(s
            .as_ref()
            .map_or_else(|| "JSON".to_owned(), |s| s.content_type.clone())),
        public_api: Set(s.as_ref().is_some_and(|s| s.public_api)),
        request_body_limit: Set(s.as_ref().and_then(|s| s.request_body_limit)),
        allow_encoded_slashes: Set(s.as_ref().is_some_and(|s| s.allow_encoded_slashes)),
        // New versions take the key only from the header; a clone keeps its source's choice.
        accept_key_in_query: Set(s.as_ref().is_some_and(|s| s.accept_key_in_query)),
        connect_timeout_ms: Set(s.as_ref().and_then(|s| s.connect_timeout_ms)),
        response_timeout_ms: Set(s.as_ref().and_then(|s| s.response_timeout_ms)),
        max_concurrent_requests: Set(s.as_ref().and_then(|s| s.max_concurrent_requests)),
        definition: Set(s.as_ref().and_then(|s| s.definition.clone())),
        definition_type: Set(s.as_ref().and_then(|s| s.definition_type.clone())),
        definition_summary: Set(s.as_ref().and_then(|s| s.definition_summary.clone())),
        extended_description: Set(s
            .as_ref()
            .map(|s| s.extended_description.clone())
            .unwrap_or_default()),
        published_on: Set(None),
        retired_on: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if let Some(source) = &source {
        let offers: Vec<api_plan::ActiveModel> = api_plan::Entity::find()
            .filter(api_plan::Column::ApiVersionId.eq(source.id))
            .all(&txn)
            .await?
            .into_iter()
            .map(|o| api_plan::ActiveModel {
                api_version_id: Set(v.id),
                plan_id: Set(o.plan_id),
                plan_version_id: Set(o.plan_version_id),
                requires_approval: Set(o.requires_approval),
                discoverability: Set(o.discoverability),
                order_index: Set(o.order_index),
            })
            .collect();
        if !offers.is_empty() {
            api_plan::Entity::insert_many(offers).exec(&txn).await?;
        }
        policies::copy(&txn, ctx, EntityKind::Api, source.id, v.id).await?;
    }
    let id = v.id;
    save(&txn, ctx, v.into_active_model(), id).await?;
    let r = EntityRef {
        org_id: org_id.to_owned(),
        id: api_id.to_owned(),
        version: version.into_inner(),
    };
    versioned::record_new_version::<api::Entity>(
        &txn,
        ctx,
        &r,
        source.as_ref().map(|s| s.version.as_str()),
    )
    .await?;
    txn.commit().await?;
    Ok(r)
}

/// The plans of an organization with their locked versions (what an API may offer). Needs
/// apiView.
pub async fn locked_plans(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    org_id: &str,
) -> Result<Vec<LockedPlan>> {
    authz::require(db, ctx, org_id, Permission::ApiView).await?;
    let plans = plan::Entity::find()
        .filter(plan::Column::OrgId.eq(org_id))
        .order_by_asc(plan::Column::Name)
        .all(db)
        .await?;
    let versions = plan_version::Entity::find()
        .filter(plan_version::Column::OrgId.eq(org_id))
        .filter(plan_version::Column::Status.eq(PlanStatus::Locked.as_str()))
        .order_by_desc(plan_version::Column::LockedOn)
        .all(db)
        .await?;
    Ok(plans
        .into_iter()
        .filter_map(|p| {
            let versions: Vec<String> = versions
                .iter()
                .filter(|v| v.plan_id == p.id)
                .map(|v| v.version.clone())
                .collect();
            (!versions.is_empty()).then_some(LockedPlan {
                plan_id: p.id,
                plan_name: p.name,
                versions,
            })
        })
        .collect())
}

/// The contracts with an API version, paged. Needs apiView.
pub async fn contracts(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    at: &EntityRef,
    page: u64,
    per_page: u64,
) -> Result<Page<ContractDto>> {
    crate::contracts::of_api(db, ctx, at, page, per_page).await
}

/// Renders Markdown to HTML for display: raw HTML is shown as text, and links or images whose
/// address is not http(s), mailto or relative lose their address.
pub fn render_markdown(markdown: &str) -> String {
    use pulldown_cmark::{CowStr, Event, Options, Parser, Tag};
    fn safe(url: &CowStr) -> bool {
        let lower = url.trim().to_ascii_lowercase();
        match lower.split_once(':') {
            Some((scheme, _)) if !scheme.contains('/') && !scheme.contains('?') => {
                matches!(scheme, "http" | "https" | "mailto")
            }
            _ => true,
        }
    }
    let parser = Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    )
    .map(|event| match event {
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) if !safe(&dest_url) => Event::Start(Tag::Link {
            link_type,
            dest_url: CowStr::Borrowed("#"),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) if !safe(&dest_url) => Event::Start(Tag::Image {
            link_type,
            dest_url: CowStr::Borrowed(""),
            title,
            id,
        }),
        other => other,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, parser);
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_rendered_without_raw_html_or_script_links() {
        let html = render_markdown(
            "# Title\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) [y](https://e.com) **b** <b>i</b>",
        );
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("href=\"https://e.com\""), "{html}");
        assert!(html.contains("<strong>b</strong>"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
    }

    #[test]
    fn definitions_in_json_and_yaml() {
        let yaml =
            "openapi: 3.0.3\ninfo:\n  title: Pets\n  version: '1'\npaths:\n  /pets:\n    get: {}\n";
        let (f, doc) = parse_definition(yaml).unwrap();
        assert_eq!(f, DefinitionFormat::Yaml);
        assert_eq!(DefinitionSummary::of(&doc).operation_count(), 1);
        let json = r#"{"openapi":"3.1.0","info":{"title":"P","version":"1"},"paths":{}}"#;
        assert_eq!(parse_definition(json).unwrap().0, DefinitionFormat::Json);
        assert!(parse_definition("{not json").is_err());
        assert!(parse_definition("a: [").is_err());
        assert!(parse_definition("swagger: '2.0'").is_err());
    }

    fn definition_error(text: &str) -> String {
        match parse_definition(text).unwrap_err() {
            crate::Error::Invalid(e) => {
                assert_eq!(e[0].field, "definition");
                e[0].message.clone()
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn yaml_anchors_aliases_and_budgets_are_refused() {
        let head = "openapi: 3.0.3\ninfo:\n  title: T\n  version: '1'\npaths: {}\n";
        for doc in [
            format!("{head}x-a: &a [1, 2]\nx-b: *a\n"),
            format!("{head}x-a: &a\n  k: v\n"),
            format!("{head}x-a: &a plain\n"),
        ] {
            assert!(
                definition_error(&doc).contains("anchors and aliases"),
                "{doc}"
            );
        }
        // The billion laughs: ten levels of ten aliases each, refused at the first anchor.
        let mut laughs = format!("{head}x-0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            let p = i - 1;
            laughs.push_str(&format!(
                "x-{i}: &l{i} [*l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}]\n"
            ));
        }
        let started = std::time::Instant::now();
        assert!(definition_error(&laughs).contains("anchors and aliases"));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));

        let deep_yaml = format!("{head}x-deep: {}1{}\n", "[".repeat(65), "]".repeat(65));
        assert!(definition_error(&deep_yaml).contains("nested more than 64"));
        let deep_json = format!(
            r#"{{"openapi":"3.0.3","info":{{"title":"T","version":"1"}},"paths":{{}},"x":{}1{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(definition_error(&deep_json).contains("nested more than 64"));
        let wide_json = format!(
            r#"{{"openapi":"3.0.3","info":{{"title":"T","version":"1"}},"paths":{{}},"x":[{}0]}}"#,
            "0,".repeat(100_000)
        );
        assert!(definition_error(&wide_json).contains("more than 100000 values"));
        let wide_yaml = format!("{head}x: [{}0]\n", "0,".repeat(100_000));
        assert!(definition_error(&wide_yaml).contains("more than 100000 values"));
    }
}
