//! Loading a network (laboratories, products, assignments, users) from a fixture file:
//! the demo, the tests and a fresh installation use the same loader. Loading is idempotent:
//! what already exists is left alone.

use serde::Deserialize;
use traza_domain::access::Actor;
use traza_domain::codes::{LabCode, ProductCode, Username};
use traza_domain::network::{AssignmentProposal, Laboratory, Period, Product};
use traza_domain::vocab::Role;

use crate::Store;
use crate::entity::{assignments, labs, products, users};
use crate::error::StoreError;
use crate::network::{insert_assignment, insert_lab, insert_product};
use crate::users::{NewUser, insert_user, new_password_hash};

#[derive(Debug, Clone, Deserialize)]
pub struct FixtureAssignment {
    pub product_code: ProductCode,
    pub lab_code: LabCode,
    pub access_route: traza_domain::vocab::AccessRoute,
    pub authorisation_ref: Option<String>,
    #[serde(flatten)]
    pub period: Period,
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FixtureUser {
    pub username: Username,
    pub full_name: String,
    pub role: Role,
    #[serde(default)]
    pub labs: std::collections::BTreeSet<LabCode>,
    pub password: String,
}

/// A network as described in `fixtures/network.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct NetworkFixture {
    pub labs: Vec<Laboratory>,
    pub products: Vec<Product>,
    pub assignments: Vec<FixtureAssignment>,
    pub users: Vec<FixtureUser>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FixtureReport {
    pub labs: usize,
    pub products: usize,
    pub assignments: usize,
    pub users: usize,
}

impl NetworkFixture {
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }
}

impl Store {
    /// Loads what of `fixture` is not there yet, in one transaction, audited as `actor`.
    pub async fn load_network(
        &self,
        actor: &Actor,
        fixture: &NetworkFixture,
    ) -> Result<FixtureReport, StoreError> {
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        // The passwords of the users not there yet are hashed first, outside the write.
        let mut missing = Vec::new();
        for u in &fixture.users {
            if users::Entity::find_by_id(u.username.as_str())
                .one(&self.db)
                .await?
                .is_none()
            {
                missing.push(new_user(u));
            }
        }
        let hashed =
            futures_util::future::try_join_all(missing.iter().map(new_password_hash)).await?;
        let mut hashes: std::collections::HashMap<String, String> = missing
            .iter()
            .map(|u| u.username.as_str().to_owned())
            .zip(hashed)
            .collect();
        let mut w = self
            .begin_write(actor.username.as_str(), self.source)
            .await?;
        let mut report = FixtureReport::default();
        for lab in &fixture.labs {
            if labs::Entity::find_by_id(lab.code.as_str())
                .one(&w.tx)
                .await?
                .is_none()
            {
                insert_lab(&mut w, lab).await?;
                report.labs += 1;
            }
        }
        for product in &fixture.products {
            if products::Entity::find_by_id(product.code.as_str())
                .one(&w.tx)
                .await?
                .is_none()
            {
                insert_product(&mut w, product).await?;
                report.products += 1;
            }
        }
        for a in &fixture.assignments {
            let exists = assignments::Entity::find()
                .filter(assignments::Column::ProductCode.eq(a.product_code.as_str()))
                .filter(assignments::Column::LabCode.eq(a.lab_code.as_str()))
                .filter(assignments::Column::AccessRoute.eq(a.access_route.as_str()))
                .filter(assignments::Column::ValidFrom.eq(a.period.valid_from))
                .count(&w.tx)
                .await?
                > 0;
            if !exists {
                insert_assignment(
                    &mut w,
                    AssignmentProposal {
                        product_code: a.product_code.clone(),
                        lab_code: a.lab_code.clone(),
                        access_route: a.access_route,
                        authorisation_ref: a.authorisation_ref.clone(),
                        period: a.period,
                        reason: a.reason.clone(),
                    },
                )
                .await?;
                report.assignments += 1;
            }
        }
        for u in &fixture.users {
            if let Some(hash) = hashes.remove(u.username.as_str())
                && users::Entity::find_by_id(u.username.as_str())
                    .one(&w.tx)
                    .await?
                    .is_none()
            {
                insert_user(&mut w, new_user(u), hash).await?;
                report.users += 1;
            }
        }
        w.commit().await?;
        Ok(report)
    }
}

fn new_user(u: &FixtureUser) -> NewUser {
    NewUser {
        username: u.username.clone(),
        full_name: u.full_name.clone(),
        role: u.role,
        labs: u.labs.clone(),
        password: u.password.clone(),
    }
}
