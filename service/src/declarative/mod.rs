//! Declarative configuration: [`export`] the organizations a caller may view as a YAML file,
//! and [`apply`] a file, which brings the database to what it says through the same service
//! functions the UI calls (their rules, permissions and Change Log rows), all in one
//! transaction: each function's own transaction nests in it as a savepoint (`db::Db`), and a
//! refusal anywhere rolls everything back. A dry run rolls back at the end.
//!
//! What apply does, in order: organizations and members; plans and their versions (policies,
//! then lock); APIs and their versions (implementation, definition, extended description, plans,
//! policies, then publish / retire); clients and their versions (policies, contracts, API key,
//! then register / unregister); with `prune`, what the file's organizations hold that the file
//! does not name is deleted (contracts are broken, members removed). Organizations and versions
//! are never deleted. The file format and its pure rules are `domain::declarative`.

mod export;
mod lines;

use std::collections::HashMap;

use domain::declarative::{
    self as file, Action, ApiStep, ApplyReport, Change, Document, MAX_ITEMS, api_step, plan_lock,
    secret_reference, without_reference_names,
};
use domain::dto::{KeyRequest, PlanOffer};
use domain::policy::PolicyConfig;
use domain::{ClientStatus, Discoverability, EntityKind, EntityName, FieldError, Permission, Role};
use sea_orm::{DatabaseTransaction, EntityTrait};
use serde_json::Value;

pub use export::{export, to_yaml};

use crate::by_kind::{self, NewEntity};
use crate::db::Db;
use crate::entities::organization;
use crate::{
    Ctx, EntityRef, Error, Result, accounts, api_keys, apis, authz, clients, contracts, members,
    organizations, plans, policies, policy_secrets, portal, versioned,
};

/// Where apply reads the values of `${NAME}` references: the environment of `server apply`;
/// nothing over REST (a caller must not probe the server's environment).
pub type Secrets<'a> = &'a (dyn Fn(&str) -> Option<String> + Sync);

#[derive(Clone, Copy)]
pub struct ApplyOptions<'a> {
    /// Roll back at the end: report what would change.
    pub dry_run: bool,
    /// Delete what the file's organizations hold and the file does not name.
    pub prune: bool,
    pub secrets: Secrets<'a>,
    /// The most changes one apply may make (bounds the time a caller holds the write lock).
    pub max_changes: Option<usize>,
}

/// Who `server export` and `server apply` act as: the account with this email, with its
/// rights (the first administrator's by default).
pub async fn operator(db: &impl sea_orm::ConnectionTrait, email: &str) -> Result<Ctx> {
    let user = accounts::find_by_email(db, email).await?.ok_or_else(|| {
        Error::NotFound(format!(
            "No account has the email {email}; name one with --as EMAIL."
        ))
    })?;
    Ok(crate::sessions::ctx_of(user))
}

/// Applies a configuration file (YAML or JSON) as `ctx`, all or nothing.
pub async fn apply(
    db: &impl Db,
    ctx: &Ctx,
    text: &str,
    options: ApplyOptions<'_>,
) -> Result<ApplyReport> {
    authz::require_management(ctx)?;
    authz::require_write(ctx)?;
    let (doc, lines) = lines::parse(text)?;
    check_sizes(&doc)?;
    let txn = crate::db::write(db).await?;
    let mut run = Run {
        db: &txn,
        ctx,
        lines,
        options,
        changes: Vec::new(),
        snapshots: HashMap::new(),
    };
    run.all(&doc).await?;
    let changes = run.changes;
    if options.dry_run {
        txn.rollback().await?;
    } else {
        txn.commit().await?;
    }
    Ok(ApplyReport {
        dry_run: options.dry_run,
        changes,
    })
}

/// Every list of a file within [`MAX_ITEMS`].
fn check_sizes(doc: &Document) -> Result<()> {
    let too_many = |path: String, n: usize| {
        (n > MAX_ITEMS).then(|| {
            FieldError::new(
                path,
                format!("At most {MAX_ITEMS} items; this list has {n}."),
            )
        })
    };
    let mut errors: Vec<FieldError> = Vec::new();
    errors.extend(too_many("organizations".into(), doc.organizations.len()));
    let twice = |path: String, names: Vec<&str>| {
        let mut seen = std::collections::HashSet::new();
        names
            .into_iter()
            .enumerate()
            .find(|(_, n)| !seen.insert(id_of(n)))
            .map(|(i, n)| FieldError::new(format!("{path}[{i}]"), format!("'{n}' is named twice.")))
    };
    errors.extend(twice(
        "organizations".into(),
        doc.organizations.iter().map(|o| o.name.as_str()).collect(),
    ));
    for (i, o) in doc.organizations.iter().enumerate() {
        let p = format!("organizations[{i}]");
        errors.extend(twice(
            format!("{p}.plans"),
            o.plans.iter().map(|x| x.name.as_str()).collect(),
        ));
        errors.extend(twice(
            format!("{p}.apis"),
            o.apis.iter().map(|x| x.name.as_str()).collect(),
        ));
        errors.extend(twice(
            format!("{p}.clients"),
            o.clients.iter().map(|x| x.name.as_str()).collect(),
        ));
    }
    for (i, o) in doc.organizations.iter().enumerate() {
        let p = format!("organizations[{i}]");
        errors.extend(too_many(format!("{p}.members"), o.members.len()));
        errors.extend(too_many(format!("{p}.plans"), o.plans.len()));
        errors.extend(too_many(format!("{p}.apis"), o.apis.len()));
        errors.extend(too_many(format!("{p}.clients"), o.clients.len()));
        let lists = o
            .plans
            .iter()
            .map(|x| x.versions.iter().map(|v| v.policies.len()).sum::<usize>() + x.versions.len())
            .chain(o.apis.iter().map(|x| {
                x.versions
                    .iter()
                    .map(|v| v.policies.len() + v.plans.len())
                    .sum::<usize>()
                    + x.versions.len()
            }))
            .chain(o.clients.iter().map(|x| {
                x.versions
                    .iter()
                    .map(|v| v.policies.len() + v.contracts.len())
                    .sum::<usize>()
                    + x.versions.len()
            }));
        for n in lists {
            errors.extend(too_many(p.clone(), n));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(errors))
    }
}

struct Run<'a> {
    db: &'a DatabaseTransaction,
    ctx: &'a Ctx,
    lines: lines::Lines,
    options: ApplyOptions<'a>,
    changes: Vec<Change>,
    /// What each of the file's organizations held before its plans, APIs and clients changed
    /// (`None`: created by this run, or not visible to the caller).
    snapshots: HashMap<String, Option<file::Organization>>,
}

/// A client, API or plan of the file, and its description now (`None`: it does not exist).
struct Entity<'a> {
    kind: EntityKind,
    org_id: &'a str,
    id: &'a str,
    name: &'a str,
    description: &'a str,
    first_version: Option<&'a str>,
    now: Option<&'a str>,
}

/// An object of the file: its path (`organizations[0].apis[1]`) and how messages name it.
struct Obj {
    path: String,
    name: String,
}

impl Obj {
    fn new(path: String, name: String) -> Self {
        Obj { path, name }
    }

    fn field(&self, f: &str) -> String {
        if f.is_empty() {
            self.path.clone()
        } else {
            format!("{}.{f}", self.path)
        }
    }
}

fn id_of(name: &str) -> String {
    domain::id_from_name(name)
}

impl Run<'_> {
    fn line(&self, obj: &Obj) -> Option<usize> {
        self.lines.of(&obj.path)
    }

    /// A refusal of the service, named after the object of the file it is about and its line;
    /// what the file refers to and does not exist is the file's mistake (422).
    fn located(&self, obj: &Obj, e: Error) -> Error {
        let at = |m: &str| match self.line(obj) {
            Some(l) => format!("{} (line {l}): {m}", obj.name),
            None => format!("{}: {m}", obj.name),
        };
        let field = |f: &str| {
            if f.is_empty() {
                obj.path.clone()
            } else {
                obj.field(f)
            }
        };
        match e {
            Error::Invalid(errors) => Error::Invalid(
                errors
                    .into_iter()
                    .map(|fe| FieldError::new(field(&fe.field), at(&fe.message)))
                    .collect(),
            ),
            Error::Conflict(fe) => {
                Error::Conflict(FieldError::new(field(&fe.field), at(&fe.message)))
            }
            Error::NotFound(m) => Error::Invalid(vec![FieldError::new(obj.path.clone(), at(&m))]),
            Error::Forbidden(m) => Error::Forbidden(at(&m)),
            Error::RateLimited(m) => Error::RateLimited(at(&m)),
            other => other,
        }
    }

    fn refuse(&self, obj: &Obj, field: &str, message: impl Into<String>) -> Error {
        self.located(obj, Error::conflict(field, message))
    }

    fn note(&mut self, action: Action, obj: &Obj, detail: &[&str]) -> Result<()> {
        if self
            .options
            .max_changes
            .is_some_and(|max| self.changes.len() >= max)
        {
            return Err(Error::conflict(
                "",
                format!(
                    "This file makes more than {} changes; apply it in parts, or with `server apply`.",
                    self.changes.len()
                ),
            ));
        }
        let line = (action != Action::Delete).then(|| self.line(obj)).flatten();
        self.changes.push(Change {
            action,
            object: obj.name.clone(),
            detail: detail.join(", "),
            line,
        });
        Ok(())
    }

    /// A name of the file that must be a valid name (the id follows from it).
    fn name(&self, obj: &Obj, name: &str) -> Result<String> {
        EntityName::parse(name)
            .map(|n| n.id())
            .map_err(|e| self.located(obj, e.into()))
    }

    async fn all(&mut self, doc: &Document) -> Result<()> {
        for (i, o) in doc.organizations.iter().enumerate() {
            self.organization(i, o).await?;
        }
        for (i, o) in doc.organizations.iter().enumerate() {
            for (j, p) in o.plans.iter().enumerate() {
                self.plan(i, o, j, p).await?;
            }
        }
        for (i, o) in doc.organizations.iter().enumerate() {
            for (j, a) in o.apis.iter().enumerate() {
                self.api(i, o, j, a).await?;
            }
        }
        for (i, o) in doc.organizations.iter().enumerate() {
            for (j, c) in o.clients.iter().enumerate() {
                self.client(i, o, j, c).await?;
            }
        }
        if self.options.prune {
            for o in &doc.organizations {
                self.prune(o).await?;
            }
        }
        Ok(())
    }

    /// The organization as it is now, when it exists and the caller may view it.
    async fn current(&self, org_id: &str) -> Result<Option<file::Organization>> {
        if organization::Entity::find_by_id(org_id.to_owned())
            .one(self.db)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        match authz::require(self.db, self.ctx, org_id, Permission::OrgView).await {
            Ok(access) => Ok(Some(export::organization(self.db, &access).await?)),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn organization(&mut self, i: usize, o: &file::Organization) -> Result<()> {
        let obj = Obj::new(
            format!("organizations[{i}]"),
            format!("organization {}", o.name),
        );
        let org_id = self.name(&obj, &o.name)?;
        let current = self.current(&org_id).await?;
        match &current {
            None => {
                let input = organizations::NewOrganization {
                    name: o.name.clone(),
                    description: o.description.clone(),
                };
                organizations::create(self.db, self.ctx, input)
                    .await
                    .map_err(|e| self.located(&obj, e))?;
                self.note(Action::Create, &obj, &[])?;
            }
            Some(c) if c.description != o.description => {
                organizations::update_description(self.db, self.ctx, &org_id, &o.description)
                    .await
                    .map_err(|e| self.located(&obj, e))?;
                self.note(Action::Update, &obj, &["description"])?;
            }
            Some(_) => {}
        }
        self.members(i, o, &org_id).await?;
        self.snapshots.insert(org_id, current);
        Ok(())
    }

    async fn members(&mut self, i: usize, o: &file::Organization, org_id: &str) -> Result<()> {
        let current = export::members(self.db, org_id).await?;
        for (j, m) in o.members.iter().enumerate() {
            let obj = Obj::new(
                format!("organizations[{i}].members[{j}]"),
                format!("member {} of {}", m.email, o.name),
            );
            let role = Role::parse(&m.role).ok_or_else(|| {
                self.located(
                    &obj,
                    Error::invalid(
                        "role",
                        "Choose owner, api_developer, client_app_developer or viewer.",
                    ),
                )
            })?;
            let email = m.email.trim().to_lowercase();
            match current.iter().find(|c| c.email == email) {
                None => {
                    // Like the Members tab: an email without an account adds nobody, and the
                    // answer does not tell.
                    members::add(self.db, self.ctx, org_id, &m.email, role)
                        .await
                        .map_err(|e| self.located(&obj, e))?;
                    self.note(Action::Create, &obj, &[])?;
                }
                Some(c) if c.role != role.as_str() => {
                    let user = self.member_id(&email).await?;
                    members::change_role(self.db, self.ctx, org_id, &user, role)
                        .await
                        .map_err(|e| self.located(&obj, e))?;
                    self.note(Action::Update, &obj, &["role"])?;
                }
                Some(_) => {}
            }
        }
        if self.options.prune {
            for c in &current {
                let named = o
                    .members
                    .iter()
                    .any(|m| m.email.trim().to_lowercase() == c.email);
                if named {
                    continue;
                }
                let obj = Obj::new(
                    format!("organizations[{i}]"),
                    format!("member {} of {}", c.email, o.name),
                );
                let user = self.member_id(&c.email).await?;
                members::remove(self.db, self.ctx, org_id, &user)
                    .await
                    .map_err(|e| self.located(&obj, e))?;
                self.note(Action::Delete, &obj, &[])?;
            }
        }
        Ok(())
    }

    async fn member_id(&self, email: &str) -> Result<String> {
        accounts::find_by_email(self.db, email)
            .await?
            .map(|u| u.id)
            .ok_or_else(|| Error::unexpected("a member's account vanished"))
    }

    fn snapshot(&self, org_id: &str) -> Option<&file::Organization> {
        self.snapshots.get(org_id).and_then(Option::as_ref)
    }

    async fn plan(
        &mut self,
        i: usize,
        o: &file::Organization,
        j: usize,
        p: &file::Plan,
    ) -> Result<()> {
        let org_id = id_of(&o.name);
        let obj = Obj::new(
            format!("organizations[{i}].plans[{j}]"),
            format!("plan {}/{}", o.name, p.name),
        );
        let id = self.name(&obj, &p.name)?;
        let current = self
            .snapshot(&org_id)
            .and_then(|c| c.plans.iter().find(|x| id_of(&x.name) == id))
            .cloned();
        self.entity(
            &obj,
            Entity {
                kind: EntityKind::Plan,
                org_id: &org_id,
                id: &id,
                name: &p.name,
                description: &p.description,
                first_version: p.versions.first().map(|v| v.version.as_str()),
                now: current.as_ref().map(|x| x.description.as_str()),
            },
        )
        .await?;
        for (k, v) in p.versions.iter().enumerate() {
            let vobj = Obj::new(
                format!("{}.versions[{k}]", obj.path),
                format!("plan version {}/{} {}", o.name, p.name, v.version),
            );
            let existing = current
                .as_ref()
                .and_then(|c| c.versions.iter().find(|x| x.version == v.version))
                .cloned();
            let created = existing.is_none();
            let now = match existing {
                Some(x) => x,
                None => {
                    if !(current.is_none() && k == 0) {
                        self.new_version(EntityKind::Plan, &org_id, &id, &v.version, &vobj)
                            .await?;
                    }
                    file::PlanVersion {
                        version: v.version.clone(),
                        locked: false,
                        policies: vec![],
                    }
                }
            };
            let at = EntityRef {
                org_id: org_id.clone(),
                id: id.clone(),
                version: v.version.clone(),
            };
            let mut what = Vec::new();
            if self
                .policies(EntityKind::Plan, &at, &vobj, &v.policies)
                .await?
            {
                what.push("policies");
            }
            let lock =
                plan_lock(now.locked, v.locked).map_err(|m| self.refuse(&vobj, "locked", m))?;
            if lock {
                plans::lock(self.db, self.ctx, &at)
                    .await
                    .map_err(|e| self.located(&vobj, e))?;
                what.push("locked");
            }
            if !created && !what.is_empty() {
                self.note(Action::Update, &vobj, &what)?;
            }
        }
        Ok(())
    }

    /// Creates a client, API or plan with its first version, or brings its description to the
    /// file's.
    async fn entity(&mut self, obj: &Obj, e: Entity<'_>) -> Result<()> {
        let Some(first) = e.first_version else {
            return Err(self.located(
                obj,
                Error::invalid("versions", "Give at least one version."),
            ));
        };
        match e.now {
            None => {
                let input = NewEntity {
                    name: e.name.to_owned(),
                    version: first.to_owned(),
                    description: e.description.to_owned(),
                    endpoint: String::new(),
                };
                by_kind::create(self.db, self.ctx, e.kind, e.org_id, input)
                    .await
                    .map_err(|err| self.located(obj, err))?;
                self.note(Action::Create, obj, &[])?;
            }
            Some(now) if now != e.description => {
                versioned::update_description(
                    self.db,
                    self.ctx,
                    e.kind,
                    e.org_id,
                    e.id,
                    e.description,
                )
                .await
                .map_err(|err| self.located(obj, err))?;
                self.note(Action::Update, obj, &["description"])?;
            }
            Some(_) => {}
        }
        Ok(())
    }

    async fn new_version(
        &mut self,
        kind: EntityKind,
        org_id: &str,
        id: &str,
        version: &str,
        obj: &Obj,
    ) -> Result<()> {
        by_kind::new_version(self.db, self.ctx, kind, org_id, id, version, None)
            .await
            .map_err(|e| self.located(obj, e))?;
        self.note(Action::Create, obj, &[])?;
        Ok(())
    }

    async fn api(
        &mut self,
        i: usize,
        o: &file::Organization,
        j: usize,
        a: &file::Api,
    ) -> Result<()> {
        let org_id = id_of(&o.name);
        let obj = Obj::new(
            format!("organizations[{i}].apis[{j}]"),
            format!("API {}/{}", o.name, a.name),
        );
        let id = self.name(&obj, &a.name)?;
        let current = self
            .snapshot(&org_id)
            .and_then(|c| c.apis.iter().find(|x| id_of(&x.name) == id))
            .cloned();
        self.entity(
            &obj,
            Entity {
                kind: EntityKind::Api,
                org_id: &org_id,
                id: &id,
                name: &a.name,
                description: &a.description,
                first_version: a.versions.first().map(|v| v.version.as_str()),
                now: current.as_ref().map(|x| x.description.as_str()),
            },
        )
        .await?;
        let tags_now = current.as_ref().map(|c| c.tags.clone()).unwrap_or_default();
        if tags_now != a.tags {
            portal::set_tags(self.db, self.ctx, &org_id, &id, &a.tags.join(","))
                .await
                .map_err(|e| self.located(&obj, e))?;
            if current.is_some() {
                self.note(Action::Update, &obj, &["tags"])?;
            }
        }
        for (k, v) in a.versions.iter().enumerate() {
            let vobj = Obj::new(
                format!("{}.versions[{k}]", obj.path),
                format!("API version {}/{} {}", o.name, a.name, v.version),
            );
            let existing = current
                .as_ref()
                .and_then(|c| c.versions.iter().find(|x| x.version == v.version))
                .cloned();
            let created = existing.is_none();
            let now = match existing {
                Some(x) => x,
                None => {
                    if !(current.is_none() && k == 0) {
                        self.new_version(EntityKind::Api, &org_id, &id, &v.version, &vobj)
                            .await?;
                    }
                    blank_api_version(&v.version)
                }
            };
            let at = EntityRef {
                org_id: org_id.clone(),
                id: id.clone(),
                version: v.version.clone(),
            };
            let what = self.api_version(&at, &vobj, &now, v).await?;
            if !created && !what.is_empty() {
                self.note(Action::Update, &vobj, &what)?;
            }
        }
        Ok(())
    }

    async fn api_version(
        &mut self,
        at: &EntityRef,
        obj: &Obj,
        now: &file::ApiVersion,
        v: &file::ApiVersion,
    ) -> Result<Vec<&'static str>> {
        let mut what = Vec::new();
        let implementation = |x: &file::ApiVersion| {
            (
                x.endpoint.clone(),
                x.content_type.clone(),
                x.public,
                x.request_body_limit,
                x.allow_encoded_slashes,
                x.accept_key_in_query,
                x.connect_timeout_ms,
                x.response_timeout_ms,
                x.max_concurrent_requests,
            )
        };
        if implementation(now) != implementation(v) {
            let input = apis::Implementation {
                endpoint: v.endpoint.clone().unwrap_or_default(),
                content_type: v.content_type.clone(),
                public_api: v.public,
                request_body_limit: v.request_body_limit,
                allow_encoded_slashes: v.allow_encoded_slashes,
                accept_key_in_query: v.accept_key_in_query,
                connect_timeout_ms: v.connect_timeout_ms,
                response_timeout_ms: v.response_timeout_ms,
                max_concurrent_requests: v.max_concurrent_requests,
            };
            apis::update_implementation(self.db, self.ctx, at, input)
                .await
                .map_err(|e| self.located(obj, e))?;
            what.push("implementation");
        }
        if now.definition != v.definition {
            let text = v.definition.as_deref().unwrap_or("");
            apis::update_definition(self.db, self.ctx, at, text)
                .await
                .map_err(|e| self.located(obj, e))?;
            what.push("definition");
        }
        if now.extended_description != v.extended_description {
            apis::update_extended_description(self.db, self.ctx, at, &v.extended_description)
                .await
                .map_err(|e| self.located(obj, e))?;
            what.push("extended description");
        }
        if now.plans != v.plans {
            let mut offers = Vec::new();
            for (n, offer) in v.plans.iter().enumerate() {
                let discoverability =
                    Discoverability::parse(&offer.discoverability).ok_or_else(|| {
                        self.located(
                            obj,
                            Error::invalid(
                                &format!("plans[{n}].discoverability"),
                                "Choose org_members, all_users, portal or anonymous.",
                            ),
                        )
                    })?;
                offers.push(PlanOffer {
                    plan_id: id_of(&offer.plan),
                    plan_version: offer.version.clone(),
                    requires_approval: offer.requires_approval,
                    discoverability,
                });
            }
            apis::set_plans(self.db, self.ctx, at, offers)
                .await
                .map_err(|e| self.located(obj, e))?;
            what.push("plans");
        }
        if self.policies(EntityKind::Api, at, obj, &v.policies).await? {
            what.push("policies");
        }
        let step = api_step(now.status, v.status).map_err(|m| self.refuse(obj, "status", m))?;
        if matches!(step, ApiStep::Publish | ApiStep::PublishAndRetire) {
            apis::publish(self.db, self.ctx, at)
                .await
                .map_err(|e| self.located(obj, e))?;
            what.push("published");
        }
        if matches!(step, ApiStep::Retire | ApiStep::PublishAndRetire) {
            apis::retire(self.db, self.ctx, at)
                .await
                .map_err(|e| self.located(obj, e))?;
            what.push("retired");
        }
        Ok(what)
    }

    async fn client(
        &mut self,
        i: usize,
        o: &file::Organization,
        j: usize,
        c: &file::Client,
    ) -> Result<()> {
        let org_id = id_of(&o.name);
        let obj = Obj::new(
            format!("organizations[{i}].clients[{j}]"),
            format!("client {}/{}", o.name, c.name),
        );
        let id = self.name(&obj, &c.name)?;
        let current = self
            .snapshot(&org_id)
            .and_then(|x| x.clients.iter().find(|x| id_of(&x.name) == id))
            .cloned();
        self.entity(
            &obj,
            Entity {
                kind: EntityKind::Client,
                org_id: &org_id,
                id: &id,
                name: &c.name,
                description: &c.description,
                first_version: c.versions.first().map(|v| v.version.as_str()),
                now: current.as_ref().map(|x| x.description.as_str()),
            },
        )
        .await?;
        for (k, v) in c.versions.iter().enumerate() {
            let vobj = Obj::new(
                format!("{}.versions[{k}]", obj.path),
                format!("client version {}/{} {}", o.name, c.name, v.version),
            );
            let existing = current
                .as_ref()
                .is_some_and(|x| x.versions.iter().any(|x| x.version == v.version));
            if !(existing || current.is_none() && k == 0) {
                self.new_version(EntityKind::Client, &org_id, &id, &v.version, &vobj)
                    .await?;
            }
            let at = EntityRef {
                org_id: org_id.clone(),
                id: id.clone(),
                version: v.version.clone(),
            };
            let what = self.client_version(&at, &vobj, v).await?;
            if existing && !what.is_empty() {
                self.note(Action::Update, &vobj, &what)?;
            }
        }
        Ok(())
    }

    async fn client_version(
        &mut self,
        at: &EntityRef,
        obj: &Obj,
        v: &file::ClientVersion,
    ) -> Result<Vec<&'static str>> {
        let mut what = Vec::new();
        if self
            .policies(EntityKind::Client, at, obj, &v.policies)
            .await?
        {
            what.push("policies");
        }
        let row = clients::version_row(self.db, at).await?;
        let current = export::contracts(self.db, row.id).await?;
        let key =
            |org: &str, api: &str, version: &str| (id_of(org), id_of(api), version.to_owned());
        for (n, wanted) in v.contracts.iter().enumerate() {
            let cobj = Obj::new(
                format!("{}.contracts[{n}]", obj.path),
                format!(
                    "contract of {} with API {}/{} {}",
                    obj.name.trim_start_matches("client version "),
                    wanted.organization,
                    wanted.api,
                    wanted.version
                ),
            );
            let k = key(&wanted.organization, &wanted.api, &wanted.version);
            let found = current
                .iter()
                .find(|(c, _)| key(&c.organization, &c.api, &c.version) == k);
            match found {
                None => {
                    let target = contracts::Target {
                        api_org_id: k.0.clone(),
                        api_id: k.1.clone(),
                        api_version: k.2.clone(),
                        plan_id: id_of(&wanted.plan),
                    };
                    contracts::create(self.db, self.ctx, at, target)
                        .await
                        .map_err(|e| self.located(&cobj, e))?;
                    self.note(Action::Create, &cobj, &[])?;
                    what.push("contracts");
                }
                Some((c, contract_id)) if id_of(&c.plan) != id_of(&wanted.plan) => {
                    contracts::change_plan(
                        self.db,
                        self.ctx,
                        i64::from(*contract_id),
                        &id_of(&wanted.plan),
                    )
                    .await
                    .map_err(|e| self.located(&cobj, e))?;
                    self.note(Action::Update, &cobj, &["plan"])?;
                    what.push("contracts");
                }
                Some(_) => {}
            }
        }
        if self.options.prune {
            for (c, contract_id) in &current {
                let k = key(&c.organization, &c.api, &c.version);
                let named = v
                    .contracts
                    .iter()
                    .any(|w| key(&w.organization, &w.api, &w.version) == k);
                if named {
                    continue;
                }
                let cobj = Obj::new(
                    obj.path.clone(),
                    format!(
                        "contract of {} with API {}/{} {}",
                        obj.name.trim_start_matches("client version "),
                        c.organization,
                        c.api,
                        c.version
                    ),
                );
                contracts::break_one(self.db, self.ctx, i64::from(*contract_id))
                    .await
                    .map_err(|e| self.located(&cobj, e))?;
                self.note(Action::Delete, &cobj, &[])?;
                what.push("contracts");
            }
        }
        if let Some(reference) = &v.api_key {
            let name = secret_reference(reference).ok_or_else(|| {
                self.located(
                    obj,
                    Error::invalid("apiKey", "Give the key as a reference: ${NAME}."),
                )
            })?;
            if let Some(value) = (self.options.secrets)(name)
                && !api_keys::accepts(self.db, row.id, &value).await?
            {
                let request = KeyRequest::Add {
                    label: name.to_owned(),
                    own: Some(value),
                    expires_on: None,
                };
                api_keys::change(self.db, self.ctx, at, request)
                    .await
                    .map_err(|e| self.located(obj, e))?;
                what.push("API key");
            }
        }
        let row = clients::version_row(self.db, at).await?;
        let status = ClientStatus::parse(&row.status).unwrap_or(ClientStatus::Created);
        let registered = status == ClientStatus::Registered;
        if v.registered && (!registered || row.changed_since_registration) {
            clients::register(self.db, self.ctx, at)
                .await
                .map_err(|e| self.located(obj, e))?;
            what.push(if registered {
                "re-registered"
            } else {
                "registered"
            });
        } else if !v.registered && registered {
            clients::unregister(self.db, self.ctx, at)
                .await
                .map_err(|e| self.located(obj, e))?;
            what.push("unregistered");
        }
        what.dedup();
        Ok(what)
    }

    /// Brings a version's policies to the file's: the same types in the same order are edited
    /// where they differ (a secret counts as different when its reference's value does not
    /// match what is stored); anything else replaces the chain. Whether anything changed.
    async fn policies(
        &mut self,
        owner: EntityKind,
        at: &EntityRef,
        obj: &Obj,
        wanted: &[file::Policy],
    ) -> Result<bool> {
        let version_id = policies::owner_version_id(self.db, owner, at).await?;
        let rows = policies::rows(self.db, owner, version_id).await?;
        let object = [owner.as_str(), &at.org_id, &at.id, &at.version];
        let current: Vec<file::Policy> = rows
            .iter()
            .enumerate()
            .map(|(n, p)| export::exported_policy(p, &object, n))
            .collect();
        let resolved: Vec<(Value, Vec<String>)> = wanted
            .iter()
            .map(|p| self.resolve(&p.configuration))
            .collect();
        let pobj = |n: usize| Obj::new(format!("{}.policies[{n}]", obj.path), obj.name.clone());
        let same_types = rows.len() == wanted.len()
            && rows
                .iter()
                .zip(wanted)
                .all(|(r, w)| r.definition_id == w.kind);
        if same_types {
            let mut changed = false;
            for (n, w) in wanted.iter().enumerate() {
                // A secret written in the file itself is a change: comparing it with the stored
                // one would answer whether a guess is right. Only references (the operator's
                // environment) are compared.
                let same = canonical(&w.kind, &w.configuration)
                    == canonical(&current[n].kind, &current[n].configuration)
                    && !has_literal_secret(&w.configuration)
                    && policy_secrets::matches(&w.kind, &rows[n].configuration, &resolved[n].0)
                        .await;
                if same {
                    continue;
                }
                let json = resolved[n].0.to_string();
                policies::update(self.db, self.ctx, owner, at, i64::from(rows[n].id), &json)
                    .await
                    .map_err(|e| self.unset(&pobj(n), &resolved[n].1, e))?;
                changed = true;
            }
            return Ok(changed);
        }
        for r in &rows {
            policies::remove(self.db, self.ctx, owner, at, i64::from(r.id))
                .await
                .map_err(|e| self.located(obj, e))?;
        }
        for (n, w) in wanted.iter().enumerate() {
            let json = resolved[n].0.to_string();
            policies::add(self.db, self.ctx, owner, at, &w.kind, &json, None)
                .await
                .map_err(|e| self.unset(&pobj(n), &resolved[n].1, e))?;
        }
        Ok(true)
    }

    /// A refusal of a policy, which names the references that were not set.
    fn unset(&self, obj: &Obj, unset: &[String], e: Error) -> Error {
        let e = if unset.is_empty() {
            e
        } else {
            let names = unset
                .iter()
                .map(|n| format!("${{{n}}}"))
                .collect::<Vec<_>>()
                .join(", ");
            let hint = format!(" (not set: {names})");
            match e {
                Error::Invalid(errors) => Error::Invalid(
                    errors
                        .into_iter()
                        .map(|fe| FieldError::new(fe.field, format!("{}{hint}", fe.message)))
                        .collect(),
                ),
                other => other,
            }
        };
        self.located(obj, e)
    }

    /// A configuration with its references replaced by their values; a reference without a
    /// value is left out (an existing secret is then kept), and named in the second part.
    fn resolve(&self, value: &Value) -> (Value, Vec<String>) {
        let mut unset = Vec::new();
        let v = resolve_in(value, self.options.secrets, &mut unset);
        (v, unset)
    }

    async fn prune(&mut self, o: &file::Organization) -> Result<()> {
        let org_id = id_of(&o.name);
        let Some(snapshot) = self.snapshot(&org_id).cloned() else {
            return Ok(());
        };
        let names = |list: Vec<&String>| list.into_iter().map(|n| id_of(n)).collect::<Vec<_>>();
        let kinds = [
            (
                EntityKind::Client,
                "client",
                names(snapshot.clients.iter().map(|x| &x.name).collect()),
                names(o.clients.iter().map(|x| &x.name).collect()),
            ),
            (
                EntityKind::Api,
                "API",
                names(snapshot.apis.iter().map(|x| &x.name).collect()),
                names(o.apis.iter().map(|x| &x.name).collect()),
            ),
            (
                EntityKind::Plan,
                "plan",
                names(snapshot.plans.iter().map(|x| &x.name).collect()),
                names(o.plans.iter().map(|x| &x.name).collect()),
            ),
        ];
        for (kind, noun, held, named) in kinds {
            for id in held.iter().filter(|id| !named.contains(id)) {
                let obj = Obj::new(String::new(), format!("{noun} {}/{id}", o.name));
                by_kind::delete(self.db, self.ctx, kind, &org_id, id)
                    .await
                    .map_err(|e| self.located(&obj, e))?;
                self.note(Action::Delete, &obj, &[])?;
            }
        }
        Ok(())
    }
}

/// Whether a configuration holds a secret as text rather than as a reference: a BASIC
/// identity's `password`, or JWT Validation's `sharedSecret`.
fn has_literal_secret(configuration: &Value) -> bool {
    let literal = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty() && secret_reference(s).is_none())
    };
    let identities = configuration
        .get("identities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    literal(configuration.get("sharedSecret"))
        || identities.into_iter().any(|i| literal(i.get("password")))
}

fn resolve_in(value: &Value, secrets: Secrets<'_>, unset: &mut Vec<String>) -> Value {
    match value {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| resolve_in(v, secrets, unset))
                .collect(),
        ),
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                if let Some(name) = v.as_str().and_then(secret_reference) {
                    match secrets(name) {
                        Some(secret) => {
                            out.insert(k.clone(), Value::String(secret));
                        }
                        None => unset.push(name.to_owned()),
                    }
                } else {
                    out.insert(k.clone(), resolve_in(v, secrets, unset));
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// A configuration as the service would keep it, without its secrets or the names of its
/// references: two configurations that compare equal need no edit. One that does not read is
/// compared as it is written.
fn canonical(kind: &str, configuration: &Value) -> Value {
    let plain = without_reference_names(configuration);
    match PolicyConfig::parse(kind, &plain.to_string()) {
        Ok(config) => serde_json::from_str(&policy_secrets::public_configuration(
            kind,
            &config.to_json(),
        ))
        .unwrap_or(plain),
        Err(_) => plain,
    }
}

/// An API version as creating it leaves it.
fn blank_api_version(version: &str) -> file::ApiVersion {
    file::ApiVersion {
        version: version.to_owned(),
        status: file::ApiState::Draft,
        endpoint: None,
        content_type: domain::ContentType::Json.as_str().to_owned(),
        public: false,
        request_body_limit: None,
        allow_encoded_slashes: false,
        accept_key_in_query: false,
        connect_timeout_ms: None,
        response_timeout_ms: None,
        max_concurrent_requests: None,
        definition: None,
        extended_description: String::new(),
        plans: vec![],
        policies: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_written_as_text_are_told_from_references() {
        let basic = |p: &str| json!({"identities": [{"username": "u", "password": p}]});
        assert!(has_literal_secret(&basic("guess")));
        assert!(!has_literal_secret(&basic("${PW}")));
        assert!(!has_literal_secret(
            &json!({"identities": [{"username": "u"}]})
        ));
        assert!(has_literal_secret(&json!({"sharedSecret": "guess"})));
        assert!(!has_literal_secret(&json!({"sharedSecret": "${S}"})));
    }

    #[test]
    fn references_resolve_from_the_lookup_and_unset_ones_are_left_out() {
        let lookup = |name: &str| (name == "SET").then(|| "value".to_owned());
        let mut unset = Vec::new();
        let v = resolve_in(
            &json!({"a": "${SET}", "b": "${UNSET}", "c": [{"d": "${SET}"}], "e": "plain"}),
            &lookup,
            &mut unset,
        );
        assert_eq!(
            v,
            json!({"a": "value", "c": [{"d": "value"}], "e": "plain"})
        );
        assert_eq!(unset, ["UNSET"]);
    }

    #[test]
    fn a_name_given_twice_is_refused() {
        let doc: Document = serde_json::from_value(json!({"version": 1, "organizations": [
            {"name": "Acme", "apis": [{"name": "W", "versions": []}, {"name": "W", "versions": []}]},
        ]}))
        .unwrap();
        let Err(Error::Invalid(errors)) = check_sizes(&doc) else {
            panic!("refused")
        };
        assert_eq!(errors[0].field, "organizations[0].apis[1]");
    }
}
