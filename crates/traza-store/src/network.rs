//! Laboratories, products with versioned specifications, and assignments.

use std::collections::BTreeSet;
use traza_domain::validation::Problem;

use chrono::NaiveDate;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use traza_domain::access::{Action, Actor};
use traza_domain::codes::{LabCode, ProductCode};
use traza_domain::network::{
    Assignment, AssignmentProposal, Laboratory, Period, Product, check_assignment, end_assignment,
};
use traza_domain::spec::Specification;
use traza_domain::validation::{Fields, text};

use crate::Store;
use crate::entity::{assignments, labs, product_specifications, products};
use crate::error::ErrorCode;
use crate::error::{RuleDetail, StoreError, stored};
use crate::write::{Change, Write, json_of};

pub(crate) fn lab_from(m: labs::Model) -> Result<Laboratory, StoreError> {
    Ok(Laboratory {
        code: stored("lab code", LabCode::parse(&m.code))?,
        name: m.name,
        city: m.city,
        province: m.province,
        institution: m.institution,
        authorisation_number: m.authorisation_number,
        gmp_certificate_valid_until: m.gmp_certificate_valid_until,
        status: stored("lab status", m.status.parse())?,
        training_only: m.training_only,
        specialisations: stored("specialisations", serde_json::from_str(&m.specialisations))?,
        capacity_per_month: m.capacity_per_month.map(|c| c.max(0) as u32),
    })
}

fn lab_model(lab: &Laboratory, w: &Write) -> labs::ActiveModel {
    labs::ActiveModel {
        code: Set(lab.code.as_str().to_owned()),
        name: Set(lab.name.clone()),
        city: Set(lab.city.clone()),
        province: Set(lab.province.clone()),
        institution: Set(lab.institution.clone()),
        authorisation_number: Set(lab.authorisation_number.clone()),
        gmp_certificate_valid_until: Set(lab.gmp_certificate_valid_until),
        status: Set(lab.status.as_str().to_owned()),
        training_only: Set(lab.training_only),
        specialisations: Set(json_of(&lab.specialisations).to_string()),
        capacity_per_month: Set(lab
            .capacity_per_month
            .map(|c| i32::try_from(c).unwrap_or(i32::MAX))),
        created_at: Set(w.now()),
        updated_at: Set(w.now()),
    }
}

/// The free-text fields of a laboratory must be present and bounded.
fn check_lab_text(lab: &Laboratory) -> Result<(), StoreError> {
    let mut f = Fields::default();
    f.check("name", text(&lab.name, 200));
    f.check("city", text(&lab.city, 100));
    f.check("province", text(&lab.province, 100));
    f.check("institution", text(&lab.institution, 200));
    if let Some(n) = &lab.authorisation_number {
        f.check("authorisation_number", text(n, 100));
    }
    f.ensure(
        lab.capacity_per_month.is_none_or(|c| c <= 100_000),
        "capacity_per_month",
        "is not plausible",
    );
    Ok(f.finish()?)
}

pub(crate) async fn insert_lab(w: &mut Write, lab: &Laboratory) -> Result<(), StoreError> {
    check_lab_text(lab)?;
    if labs::Entity::find_by_id(lab.code.as_str())
        .one(&w.tx)
        .await?
        .is_some()
    {
        return Err(StoreError::Duplicate(format!("laboratory {}", lab.code)));
    }
    labs::Entity::insert(lab_model(lab, w))
        .exec_without_returning(&w.tx)
        .await?;
    let key = lab.code.to_string();
    w.audit(Change {
        action: "lab.create",
        entity_type: "lab",
        entity_key: &key,
        before: None,
        after: Some(json_of(lab)),
        reason: None,
    })
    .await
}

pub(crate) async fn load_lab(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Laboratory, StoreError> {
    lab_from(
        labs::Entity::find_by_id(code)
            .one(db)
            .await?
            .ok_or(StoreError::NotFound("laboratory"))?,
    )
}

pub(crate) async fn load_product(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Product, StoreError> {
    let m = products::Entity::find_by_id(code)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("product"))?;
    let spec = product_specifications::Entity::find_by_id((m.code.clone(), m.spec_version))
        .one(db)
        .await?
        .ok_or_else(|| {
            StoreError::Corrupt(format!(
                "product {} has no specification version {}",
                m.code, m.spec_version
            ))
        })?;
    Ok(Product {
        code: stored("product code", ProductCode::parse(&m.code))?,
        name: m.name,
        atmp_class: stored("ATMP class", m.atmp_class.parse())?,
        origin: stored("origin", m.origin.parse())?,
        access_routes: stored("access routes", serde_json::from_str(&m.access_routes))?,
        shelf_life_days: u32::try_from(m.shelf_life_days).unwrap_or(0),
        status: stored("product status", m.status.parse())?,
        specification: stored(
            "specification",
            serde_json::from_str::<Specification>(&spec.tests),
        )?,
        spec_version: u32::try_from(m.spec_version).unwrap_or(1),
        indications: stored("indications", serde_json::from_str(&m.indications))?,
        keywords: stored("keywords", serde_json::from_str(&m.keywords))?,
    })
}

fn check_product_text(p: &Product) -> Result<(), StoreError> {
    let mut f = Fields::default();
    f.check("name", text(&p.name, 200));
    f.ensure(
        !p.access_routes.is_empty(),
        "access_routes",
        "must name at least one access route",
    );
    f.ensure(
        p.shelf_life_days >= 1 && p.shelf_life_days <= 36_500,
        "shelf_life_days",
        "must be between 1 and 36500",
    );
    for (field, words) in [("indications", &p.indications), ("keywords", &p.keywords)] {
        f.ensure(words.len() <= 40, field, Problem::TooManyWords { max: 40 });
        f.ensure(
            words
                .iter()
                .all(|w| !w.trim().is_empty() && w.chars().count() <= 80),
            field,
            Problem::WordTooLong { max: 80 },
        );
    }
    f.finish()?;
    Specification::new(p.specification.tests().to_vec())?;
    Ok(())
}

async fn insert_spec_version(
    w: &Write,
    code: &str,
    version: u32,
    spec: &Specification,
) -> Result<(), StoreError> {
    product_specifications::Entity::insert(product_specifications::ActiveModel {
        product_code: Set(code.to_owned()),
        version: Set(i32::try_from(version).unwrap_or(i32::MAX)),
        tests: Set(json_of(spec).to_string()),
        created_by: Set(w.actor().to_owned()),
        created_at: Set(w.now()),
    })
    .exec_without_returning(&w.tx)
    .await?;
    Ok(())
}

pub(crate) async fn insert_product(
    w: &mut Write,
    product: &Product,
) -> Result<Product, StoreError> {
    check_product_text(product)?;
    if products::Entity::find_by_id(product.code.as_str())
        .one(&w.tx)
        .await?
        .is_some()
    {
        return Err(StoreError::Duplicate(format!("product {}", product.code)));
    }
    let product = Product {
        spec_version: 1,
        ..product.clone()
    };
    products::Entity::insert(products::ActiveModel {
        code: Set(product.code.as_str().to_owned()),
        name: Set(product.name.clone()),
        atmp_class: Set(product.atmp_class.as_str().to_owned()),
        origin: Set(product.origin.as_str().to_owned()),
        access_routes: Set(json_of(&product.access_routes).to_string()),
        shelf_life_days: Set(i32::try_from(product.shelf_life_days).unwrap_or(i32::MAX)),
        status: Set(product.status.as_str().to_owned()),
        spec_version: Set(1),
        indications: Set(json_of(&product.indications).to_string()),
        keywords: Set(json_of(&product.keywords).to_string()),
        created_at: Set(w.now()),
        updated_at: Set(w.now()),
    })
    .exec_without_returning(&w.tx)
    .await?;
    insert_spec_version(w, product.code.as_str(), 1, &product.specification).await?;
    let key = product.code.to_string();
    w.audit(Change {
        action: "product.create",
        entity_type: "product",
        entity_key: &key,
        before: None,
        after: Some(json_of(&product)),
        reason: None,
    })
    .await?;
    Ok(product)
}

async fn all_assignments(
    db: &impl ConnectionTrait,
    product: Option<&str>,
    lab: Option<&str>,
) -> Result<Vec<Assignment>, StoreError> {
    let mut q = assignments::Entity::find().order_by_asc(assignments::Column::Id);
    if let Some(p) = product {
        q = q.filter(assignments::Column::ProductCode.eq(p));
    }
    if let Some(l) = lab {
        q = q.filter(assignments::Column::LabCode.eq(l));
    }
    q.all(db).await?.into_iter().map(assignment_from).collect()
}

pub(crate) fn assignment_from(m: assignments::Model) -> Result<Assignment, StoreError> {
    Ok(Assignment {
        id: m.id,
        product_code: stored("product code", ProductCode::parse(&m.product_code))?,
        lab_code: stored("lab code", LabCode::parse(&m.lab_code))?,
        access_route: stored("access route", m.access_route.parse())?,
        authorisation_ref: m.authorisation_ref,
        period: Period {
            valid_from: m.valid_from,
            valid_until: m.valid_until,
        },
        reason: m.reason,
        assigned_by: m.assigned_by,
    })
}

/// Assignments of a product to a laboratory (for batch creation checks).
pub(crate) async fn assignments_for(
    db: &impl ConnectionTrait,
    product: &str,
    lab: &str,
) -> Result<Vec<Assignment>, StoreError> {
    all_assignments(db, Some(product), Some(lab)).await
}

pub(crate) async fn insert_assignment(
    w: &mut Write,
    proposal: AssignmentProposal,
) -> Result<Assignment, StoreError> {
    let mut f = Fields::default();
    let reason = f.check("reason", text(&proposal.reason, 1000));
    if let Some(r) = &proposal.authorisation_ref {
        f.check("authorisation_ref", text(r, 100));
    }
    f.finish()?;
    let lab = load_lab(&w.tx, proposal.lab_code.as_str()).await?;
    let product = load_product(&w.tx, proposal.product_code.as_str()).await?;
    let existing = assignments_for(
        &w.tx,
        proposal.product_code.as_str(),
        proposal.lab_code.as_str(),
    )
    .await?;
    if let Err(refusals) = check_assignment(&lab, &product, &proposal, &existing) {
        return Err(StoreError::Refused {
            code: ErrorCode::LabNotEligible,
            message: format!(
                "{} may not be assigned to {}",
                proposal.product_code, proposal.lab_code
            ),
            details: refusals.iter().map(RuleDetail::eligibility).collect(),
        });
    }
    let inserted = assignments::Entity::insert(assignments::ActiveModel {
        id: Default::default(),
        product_code: Set(proposal.product_code.as_str().to_owned()),
        lab_code: Set(proposal.lab_code.as_str().to_owned()),
        access_route: Set(proposal.access_route.as_str().to_owned()),
        authorisation_ref: Set(proposal.authorisation_ref.clone()),
        valid_from: Set(proposal.period.valid_from),
        valid_until: Set(proposal.period.valid_until),
        reason: Set(reason.unwrap_or_default()),
        assigned_by: Set(w.actor().to_owned()),
        created_at: Set(w.now()),
        ended_by: Set(None),
        ended_at: Set(None),
        end_reason: Set(None),
    })
    .exec(&w.tx)
    .await?;
    let model = assignments::Entity::find_by_id(inserted.last_insert_id)
        .one(&w.tx)
        .await?
        .ok_or(StoreError::NotFound("assignment"))?;
    let assignment = assignment_from(model)?;
    let key = assignment.id.to_string();
    w.audit(Change {
        action: "assignment.create",
        entity_type: "assignment",
        entity_key: &key,
        before: None,
        after: Some(json_of(&assignment)),
        reason: Some(&assignment.reason),
    })
    .await?;
    Ok(assignment)
}

/// Changes to a laboratory; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct LabUpdate {
    pub name: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub institution: Option<String>,
    pub authorisation_number: Option<Option<String>>,
    pub gmp_certificate_valid_until: Option<Option<NaiveDate>>,
    pub status: Option<traza_domain::vocab::LabStatus>,
    pub training_only: Option<bool>,
    pub specialisations: Option<BTreeSet<traza_domain::vocab::AtmpClass>>,
    pub capacity_per_month: Option<Option<u32>>,
}

/// Changes to a product. A new `specification` makes a new version.
#[derive(Debug, Clone, Default)]
pub struct ProductUpdate {
    pub name: Option<String>,
    pub access_routes: Option<BTreeSet<traza_domain::vocab::AccessRoute>>,
    pub shelf_life_days: Option<u32>,
    pub status: Option<traza_domain::vocab::ProductStatus>,
    pub specification: Option<Specification>,
    /// The registry's words (SPEC §6), each list replaced whole.
    pub indications: Option<Vec<String>>,
    pub keywords: Option<Vec<String>>,
}

impl Store {
    pub async fn create_lab(
        &self,
        actor: &Actor,
        lab: Laboratory,
    ) -> Result<Laboratory, StoreError> {
        actor.may(Action::ManageNetwork)?;
        let mut w = self
            .begin_write(actor.username.as_str(), self.source)
            .await?;
        insert_lab(&mut w, &lab).await?;
        w.commit().await?;
        Ok(lab)
    }

    pub async fn update_lab(
        &self,
        actor: &Actor,
        code: &str,
        u: LabUpdate,
    ) -> Result<Laboratory, StoreError> {
        actor.may(Action::ManageNetwork)?;
        let mut w = self
            .begin_write(actor.username.as_str(), self.source)
            .await?;
        let before = load_lab(&w.tx, code).await?;
        let mut lab = before.clone();
        if let Some(v) = u.name {
            lab.name = v;
        }
        if let Some(v) = u.city {
            lab.city = v;
        }
        if let Some(v) = u.province {
            lab.province = v;
        }
        if let Some(v) = u.institution {
            lab.institution = v;
        }
        if let Some(v) = u.authorisation_number {
            lab.authorisation_number = v;
        }
        if let Some(v) = u.gmp_certificate_valid_until {
            lab.gmp_certificate_valid_until = v;
        }
        if let Some(v) = u.status {
            lab.status = v;
        }
        if let Some(v) = u.training_only {
            lab.training_only = v;
        }
        if let Some(v) = u.specialisations {
            lab.specialisations = v;
        }
        if let Some(v) = u.capacity_per_month {
            lab.capacity_per_month = v;
        }
        check_lab_text(&lab)?;
        let mut model = lab_model(&lab, &w);
        model.created_at = sea_orm::ActiveValue::NotSet;
        labs::Entity::update(model).exec(&w.tx).await?;
        w.audit(Change {
            action: "lab.update",
            entity_type: "lab",
            entity_key: code,
            before: Some(json_of(&before)),
            after: Some(json_of(&lab)),
            reason: None,
        })
        .await?;
        w.commit().await?;
        Ok(lab)
    }

    pub async fn get_lab(&self, actor: &Actor, code: &str) -> Result<Laboratory, StoreError> {
        actor.may(Action::ReadNetwork)?;
        load_lab(&self.db, code).await
    }

    pub async fn list_labs(&self, actor: &Actor) -> Result<Vec<Laboratory>, StoreError> {
        actor.may(Action::ReadNetwork)?;
        labs::Entity::find()
            .order_by_asc(labs::Column::Code)
            .all(&self.db)
            .await?
            .into_iter()
            .map(lab_from)
            .collect()
    }

    pub async fn create_product(
        &self,
        actor: &Actor,
        product: Product,
    ) -> Result<Product, StoreError> {
        actor.may(Action::ManageNetwork)?;
        let mut w = self
            .begin_write(actor.username.as_str(), self.source)
            .await?;
        let created = insert_product(&mut w, &product).await?;
        w.commit().await?;
        Ok(created)
    }

    /// Updates a product; a changed specification is stored as a new version and earlier QC
    /// results keep the version they were judged against.
    pub async fn update_product(
        &self,
        actor: &Actor,
        code: &str,
        u: ProductUpdate,
    ) -> Result<Product, StoreError> {
        actor.may(Action::ManageNetwork)?;
        let mut w = self
            .begin_write(actor.username.as_str(), self.source)
            .await?;
        let before = load_product(&w.tx, code).await?;
        let mut p = before.clone();
        if let Some(v) = u.name {
            p.name = v;
        }
        if let Some(v) = u.access_routes {
            p.access_routes = v;
        }
        if let Some(v) = u.shelf_life_days {
            p.shelf_life_days = v;
        }
        if let Some(v) = u.status {
            p.status = v;
        }
        let trimmed = |words: Vec<String>| words.into_iter().map(|w| w.trim().to_owned()).collect();
        if let Some(v) = u.indications {
            p.indications = trimmed(v);
        }
        if let Some(v) = u.keywords {
            p.keywords = trimmed(v);
        }
        let new_spec = u.specification.filter(|s| *s != before.specification);
        if let Some(spec) = new_spec.clone() {
            p.specification = spec;
            p.spec_version = before.spec_version + 1;
        }
        check_product_text(&p)?;
        if let Some(spec) = &new_spec {
            insert_spec_version(&w, code, p.spec_version, spec).await?;
        }
        products::Entity::update(products::ActiveModel {
            code: Set(code.to_owned()),
            name: Set(p.name.clone()),
            access_routes: Set(json_of(&p.access_routes).to_string()),
            shelf_life_days: Set(i32::try_from(p.shelf_life_days).unwrap_or(i32::MAX)),
            status: Set(p.status.as_str().to_owned()),
            spec_version: Set(i32::try_from(p.spec_version).unwrap_or(i32::MAX)),
            indications: Set(json_of(&p.indications).to_string()),
            keywords: Set(json_of(&p.keywords).to_string()),
            updated_at: Set(w.now()),
            ..Default::default()
        })
        .exec(&w.tx)
        .await?;
        w.audit(Change {
            action: "product.update",
            entity_type: "product",
            entity_key: code,
            before: Some(json_of(&before)),
            after: Some(json_of(&p)),
            reason: None,
        })
        .await?;
        w.commit().await?;
        Ok(p)
    }

    pub async fn get_product(&self, actor: &Actor, code: &str) -> Result<Product, StoreError> {
        actor.may(Action::ReadNetwork)?;
        load_product(&self.db, code).await
    }

    pub async fn list_products(&self, actor: &Actor) -> Result<Vec<Product>, StoreError> {
        actor.may(Action::ReadNetwork)?;
        let codes = products::Entity::find()
            .order_by_asc(products::Column::Code)
            .all(&self.db)
            .await?;
        let mut out = Vec::with_capacity(codes.len());
        for m in codes {
            out.push(load_product(&self.db, &m.code).await?);
        }
        Ok(out)
    }

    pub async fn create_assignment(
        &self,
        actor: &Actor,
        proposal: AssignmentProposal,
    ) -> Result<Assignment, StoreError> {
        actor.may(Action::ManageNetwork)?;
        let mut w = self
            .begin_write(actor.username.as_str(), self.source)
            .await?;
        let a = insert_assignment(&mut w, proposal).await?;
        w.commit().await?;
        Ok(a)
    }

    /// Ends an assignment on `until` (its last valid day). It is never deleted.
    pub async fn end_assignment(
        &self,
        actor: &Actor,
        id: i64,
        until: NaiveDate,
        reason: &str,
    ) -> Result<Assignment, StoreError> {
        actor.may(Action::ManageNetwork)?;
        let reason = text(reason, 1000).map_err(|e| StoreError::invalid("reason", e))?;
        let mut w = self
            .begin_write(actor.username.as_str(), self.source)
            .await?;
        let model = assignments::Entity::find_by_id(id)
            .one(&w.tx)
            .await?
            .ok_or(StoreError::NotFound("assignment"))?;
        let before = assignment_from(model)?;
        let period = end_assignment(&before.period, until)
            .map_err(|e| StoreError::refused(ErrorCode::InvalidTransition, e.to_string()))?;
        assignments::Entity::update(assignments::ActiveModel {
            id: Set(id),
            valid_until: Set(period.valid_until),
            ended_by: Set(Some(w.actor().to_owned())),
            ended_at: Set(Some(w.now())),
            end_reason: Set(Some(reason.clone())),
            ..Default::default()
        })
        .exec(&w.tx)
        .await?;
        let after = Assignment {
            period,
            ..before.clone()
        };
        let key = id.to_string();
        w.audit(Change {
            action: "assignment.end",
            entity_type: "assignment",
            entity_key: &key,
            before: Some(json_of(&before)),
            after: Some(json_of(&after)),
            reason: Some(&reason),
        })
        .await?;
        w.commit().await?;
        Ok(after)
    }

    pub async fn list_assignments(
        &self,
        actor: &Actor,
        product: Option<&str>,
        lab: Option<&str>,
    ) -> Result<Vec<Assignment>, StoreError> {
        actor.may(Action::ReadNetwork)?;
        all_assignments(&self.db, product, lab).await
    }
}
