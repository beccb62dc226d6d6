//! The laboratory network a generated file is made for: `fixtures/network.json` by default,
//! the same file `traza fixtures load` loads when given none.
//!
//! Laboratories and products are read with the domain's own types, so a network the
//! generator accepts is one the fixture loader accepts too; assignments and users are read
//! with only the fields a batch record draws on.

use chrono::NaiveDate;
use serde::Deserialize;
use traza_domain::codes::{LabCode, ProductCode};
use traza_domain::network::{Laboratory, Product};
use traza_domain::vocab::{AccessRoute, Role};

/// The built-in demo network.
pub const BUILT_IN: &str = include_str!("../../fixtures/network.json");

#[derive(Debug, Clone, Deserialize)]
pub struct Network {
    pub labs: Vec<Laboratory>,
    pub products: Vec<Product>,
    pub assignments: Vec<NetworkAssignment>,
    #[serde(default)]
    pub users: Vec<NetworkUser>,
}

/// An assignment of a product to a laboratory, as the network file states it.
#[derive(Debug, Clone, Deserialize)]
pub struct NetworkAssignment {
    pub product_code: ProductCode,
    pub lab_code: LabCode,
    pub access_route: AccessRoute,
    #[serde(default)]
    pub authorisation_ref: Option<String>,
    pub valid_from: NaiveDate,
    #[serde(default)]
    pub valid_until: Option<NaiveDate>,
}

/// A user of the network; the generator only needs who signs releases, and where.
#[derive(Debug, Clone, Deserialize)]
pub struct NetworkUser {
    pub full_name: String,
    pub role: Role,
    #[serde(default)]
    pub labs: Vec<LabCode>,
}

impl Network {
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    pub fn built_in() -> Result<Self, serde_json::Error> {
        Self::from_json(BUILT_IN)
    }

    pub fn product(&self, code: &ProductCode) -> Option<&Product> {
        self.products.iter().find(|p| &p.code == code)
    }

    /// The laboratory and its position in the file (which keeps its donor codes apart from
    /// every other laboratory's).
    pub fn lab(&self, code: &LabCode) -> Option<(usize, &Laboratory)> {
        self.labs.iter().enumerate().find(|(_, l)| &l.code == code)
    }

    /// Full names of the laboratory's QA staff: the people who release its batches.
    pub fn qa_names(&self, lab: &LabCode) -> Vec<&str> {
        self.users
            .iter()
            .filter(|u| u.role == Role::Qa && u.labs.contains(lab))
            .map(|u| u.full_name.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_network_reads() {
        let network = Network::built_in().unwrap();
        assert!(!network.assignments.is_empty());
        for a in &network.assignments {
            assert!(network.product(&a.product_code).is_some(), "{a:?}");
            assert!(network.lab(&a.lab_code).is_some(), "{a:?}");
        }
        let upcit = LabCode::parse("GRA-UPCIT").unwrap();
        assert!(network.qa_names(&upcit).contains(&"Isabel Morales Vílchez"));
    }
}
