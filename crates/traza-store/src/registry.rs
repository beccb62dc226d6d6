//! The public registry of authorised therapies (SPEC §6): what patients may check, without
//! logging in, before trusting anyone who offers them an "advanced therapy".
//!
//! Only active products with at least one assignment in force today, and of each: its class,
//! origin, access routes, the laboratories assigned to make it (name and city only), the trial
//! identifiers of its clinical-trial assignments and when the entry last changed. Nothing
//! about batches, donors, patients, users or the laboratories' internal codes is read, so
//! nothing of it can leak.
//!
//! The answer is built from a handful of small tables and cached for [`TTL`]: a change of
//! assignment shows within that time, in every `traza serve` process, and a read costs no
//! query at all while the entry is fresh.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::{EntityTrait, QueryOrder};
use serde::Serialize;
use traza_domain::codes::TrialId;
use traza_domain::network::Period;
use traza_domain::vocab::{AccessRoute, LabStatus, ProductStatus};

use crate::Store;
use crate::entity::{assignments, labs, products};
use crate::error::StoreError;

/// How long a built registry is served before it is read again.
pub const TTL: Duration = Duration::from_secs(2);

/// A laboratory making a therapy, as the public sees it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PublicSite {
    pub laboratory: String,
    pub city: String,
    pub access_route: AccessRoute,
    /// The EudraCT or EU CT number, for a clinical trial.
    pub trial_id: Option<String>,
}

/// One authorised therapy.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct PublicTherapy {
    pub name: String,
    pub atmp_class: String,
    pub origin: String,
    pub access_routes: Vec<AccessRoute>,
    pub sites: Vec<PublicSite>,
    pub trial_ids: Vec<String>,
    /// Conditions treated, in patients' words.
    pub indications: Vec<String>,
    /// Other words patients search with.
    pub keywords: Vec<String>,
    /// The latest change of the product, its assignments or their laboratories.
    pub last_changed: DateTime<Utc>,
    /// The name, trial ids, indications and keywords folded for search; not sent.
    #[serde(skip)]
    folded: String,
}

/// The registry as published.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct PublicRegistry {
    pub generated_at: DateTime<Utc>,
    pub therapies: Vec<PublicTherapy>,
}

/// Lower case without Spanish accents: `Condrocitos autólogos` → `condrocitos autologos`.
pub fn fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'ä' | 'â' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ì' | 'ï' | 'î' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' => 'o',
            'ú' | 'ù' | 'ü' | 'û' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            // `CAR-T`, `car t` and `CAR T` are the same search.
            '-' | '_' | '/' => ' ',
            c => c,
        })
        .collect()
}

impl PublicRegistry {
    /// The therapies whose name, trial id, indications or keywords contain every word of
    /// `query` (folded: case,
    /// accents and hyphens ignored).
    pub fn search(&self, query: &str) -> Vec<&PublicTherapy> {
        let words: Vec<String> = fold(query).split_whitespace().map(str::to_owned).collect();
        self.therapies
            .iter()
            .filter(|t| words.iter().all(|w| t.folded.contains(w.as_str())))
            .collect()
    }
}

/// The cached registry and its JSON, shared by every clone of a store.
#[derive(Default)]
pub struct RegistryCache {
    entry: RwLock<Option<(Instant, Arc<Published>)>>,
}

/// A built registry with its JSON text, ready to send.
pub struct Published {
    pub registry: PublicRegistry,
    pub json: String,
}

impl Store {
    /// The public registry, at most [`TTL`] old.
    pub async fn public_registry(&self) -> Result<Arc<Published>, StoreError> {
        if let Some((at, p)) = self
            .registry
            .entry
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            && at.elapsed() < TTL
        {
            return Ok(Arc::clone(p));
        }
        let registry = self.build_registry().await?;
        let json = serde_json::to_string(&registry)
            .map_err(|e| StoreError::Internal(format!("registry: {e}")))?;
        let published = Arc::new(Published { registry, json });
        *self
            .registry
            .entry
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), Arc::clone(&published)));
        Ok(published)
    }

    async fn build_registry(&self) -> Result<PublicRegistry, StoreError> {
        let today = Utc::now().date_naive();
        let labs: BTreeMap<String, labs::Model> = labs::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|l| (l.code.clone(), l))
            .collect();
        let mut by_product: BTreeMap<String, Vec<assignments::Model>> = BTreeMap::new();
        for a in assignments::Entity::find()
            .order_by_asc(assignments::Column::Id)
            .all(&self.db)
            .await?
        {
            let period = Period {
                valid_from: a.valid_from,
                valid_until: a.valid_until,
            };
            let current = period.covers(today);
            let lab_active = labs
                .get(&a.lab_code)
                .is_some_and(|l| l.status == LabStatus::Active.as_str() && !l.training_only);
            if current && lab_active {
                by_product
                    .entry(a.product_code.clone())
                    .or_default()
                    .push(a);
            }
        }
        let mut therapies = Vec::new();
        for p in products::Entity::find()
            .order_by_asc(products::Column::Name)
            .all(&self.db)
            .await?
        {
            if p.status != ProductStatus::Active.as_str() {
                continue;
            }
            let Some(assigned) = by_product.get(&p.code) else {
                continue; // authorised nowhere today: not listed
            };
            let mut routes = BTreeSet::new();
            let mut trial_ids = BTreeSet::new();
            let mut sites = Vec::new();
            let mut last_changed = p.updated_at;
            for a in assigned {
                let Ok(route) = a.access_route.parse::<AccessRoute>() else {
                    continue;
                };
                let Some(lab) = labs.get(&a.lab_code) else {
                    continue;
                };
                let trial_id = (route == AccessRoute::ClinicalTrial)
                    .then(|| {
                        a.authorisation_ref
                            .as_deref()
                            .and_then(|r| TrialId::parse(r.trim()).ok())
                    })
                    .flatten()
                    .map(|t| t.as_str().to_owned());
                if let Some(t) = &trial_id {
                    trial_ids.insert(t.clone());
                }
                routes.insert(route);
                last_changed = last_changed.max(a.created_at).max(lab.updated_at);
                sites.push(PublicSite {
                    laboratory: lab.name.clone(),
                    city: lab.city.clone(),
                    access_route: route,
                    trial_id,
                });
            }
            let trial_ids: Vec<String> = trial_ids.into_iter().collect();
            // Words a coordinator stored that do not read back are left out of the public
            // page, never a reason to fail it (`audit verify` names the row).
            let indications: Vec<String> = serde_json::from_str(&p.indications).unwrap_or_default();
            let keywords: Vec<String> = serde_json::from_str(&p.keywords).unwrap_or_default();
            let folded = fold(&format!(
                "{} {} {} {}",
                p.name,
                trial_ids.join(" "),
                indications.join(" "),
                keywords.join(" ")
            ));
            therapies.push(PublicTherapy {
                name: p.name,
                atmp_class: p.atmp_class,
                origin: p.origin,
                access_routes: routes.into_iter().collect(),
                sites,
                trial_ids,
                indications,
                keywords,
                last_changed,
                folded,
            });
        }
        Ok(PublicRegistry {
            generated_at: Utc::now(),
            therapies,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_and_spanish_accents() {
        assert_eq!(fold("Condrocitos Autólogos"), "condrocitos autologos");
        assert_eq!(fold("CÉLULAS ÑANDÚ"), "celulas nandu");
        assert_eq!(fold("CAR-T"), "car t");
    }
}
