//! `traza demo`: the fixture network plus a few hundred batches in every status, and the
//! electronic batch record of SPEC §8 (materials, lots, rooms, equipment, an approved master
//! record per product and laboratory, guided batches executed through them), made through the
//! same use cases as the API (so every demo write obeys the rules and is audited).

mod catalogue;
mod guided;
mod masters;
mod record;

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use chrono::{Days, NaiveDate, Utc};
use traza_domain::access::Actor;
use traza_domain::batch::{BatchFields, capacity_month};
use traza_domain::codes::{DonorCode, LabCode, PatientCode, TrialId};
use traza_domain::network::{Assignment, Product};
use traza_domain::spec::SpecTest;
use traza_domain::vigilance::{Imputability, ReactionSeverity};
use traza_domain::vocab::{
    AccessRoute, BatchStatus, DeviationSeverity, Origin, Role, SignatureMeaning, TestKind,
};
use traza_store::{
    BatchFilter, ImportRequest, NetworkFixture, NewBatch, NewReaction, QcInput, Store, system_actor,
};

/// A small deterministic generator: the demo is the same on every machine.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A value that meets a test's specification (or, when `fail`, one that does not).
fn reading(t: &SpecTest, fail: bool) -> String {
    match t.kind {
        TestKind::Categorical => {
            if fail {
                // A listed value other than the expected one (or any other word).
                t.values
                    .iter()
                    .find(|v| Some(*v) != t.expected.as_ref())
                    .cloned()
                    .unwrap_or_else(|| "positive".into())
            } else {
                t.expected.clone().unwrap_or_default()
            }
        }
        TestKind::Numeric => {
            let v = match (t.min, t.max, fail) {
                (Some(min), _, true) => min / rust_decimal::Decimal::TWO,
                (None, Some(max), true) => max * rust_decimal::Decimal::TWO,
                (Some(min), Some(max), false) => (min + max) / rust_decimal::Decimal::TWO,
                (Some(min), None, false) => {
                    min + (rust_decimal::Decimal::ONE_HUNDRED - min)
                        .max(rust_decimal::Decimal::ZERO)
                        / rust_decimal::Decimal::TEN
                }
                (None, Some(max), false) => max / rust_decimal::Decimal::new(4, 0),
                (None, None, _) => rust_decimal::Decimal::ONE,
            };
            v.round_dp(2).normalize().to_string()
        }
    }
}

/// The people of a laboratory who make its batches: staff and QA, in the fixture's order.
struct Team {
    staff: Vec<Actor>,
    qa: Vec<Actor>,
}

/// Who the demo plays and what they make: the teams of each laboratory, the fixture's
/// passwords (for signatures), the coordinator, and the assignments current today at a
/// laboratory with staff and QA, with their products.
struct Cast {
    teams: BTreeMap<LabCode, Team>,
    passwords: BTreeMap<String, String>,
    coordinator: Actor,
    auditor: Actor,
    assignments: Vec<Assignment>,
    products: BTreeMap<String, Product>,
    today: NaiveDate,
}

impl Cast {
    async fn gather(store: &Store, fixture: &NetworkFixture, auditor: Actor) -> Result<Cast> {
        let coordinator = store
            .actor(
                fixture
                    .users
                    .iter()
                    .find(|u| u.role == Role::Coordinator)
                    .map(|u| u.username.as_str())
                    .unwrap_or(""),
            )
            .await?;
        let mut teams: BTreeMap<LabCode, Team> = BTreeMap::new();
        let mut passwords = BTreeMap::new();
        for u in &fixture.users {
            passwords.insert(u.username.as_str().to_owned(), u.password.clone());
            if !u.role.is_lab_bound() {
                continue;
            }
            let actor = store.actor(u.username.as_str()).await?;
            for lab in &u.labs {
                let team = teams.entry(lab.clone()).or_insert(Team {
                    staff: Vec::new(),
                    qa: Vec::new(),
                });
                if u.role == Role::Qa {
                    team.qa.push(actor.clone())
                } else {
                    team.staff.push(actor.clone())
                }
            }
        }
        let today = Utc::now().date_naive();
        let assignments: Vec<Assignment> = store
            .list_assignments(&coordinator, None, None)
            .await?
            .into_iter()
            .filter(|a| {
                a.period.covers(today)
                    && teams
                        .get(&a.lab_code)
                        .is_some_and(|t| !t.staff.is_empty() && !t.qa.is_empty())
            })
            .collect();
        let mut products: BTreeMap<String, Product> = BTreeMap::new();
        for a in &assignments {
            products.insert(
                a.product_code.to_string(),
                store
                    .get_product(&coordinator, a.product_code.as_str())
                    .await?,
            );
        }
        Ok(Cast {
            teams,
            passwords,
            coordinator,
            auditor,
            assignments,
            products,
            today,
        })
    }

    /// The fixture password `who` signs with.
    fn password(&self, who: &Actor) -> &str {
        self.passwords
            .get(who.username.as_str())
            .map_or("", String::as_str)
    }
}

/// Loads the network and, on an empty database, makes the demo batches; then, once, the
/// electronic batch record (materials, lots, equipment, rooms, master records and guided
/// batches). Idempotent: a second run makes nothing. Answers how many batches it made.
pub async fn seed(store: &Store, fixture_json: &str, batches: usize) -> Result<usize> {
    let fixture =
        NetworkFixture::from_json(fixture_json).context("the fixture network is not valid")?;
    store.load_network(&system_actor(), &fixture).await?;
    let auditor = store
        .actor(
            fixture
                .users
                .iter()
                .find(|u| u.role == Role::Auditor)
                .map(|u| u.username.as_str())
                .unwrap_or(""),
        )
        .await?;
    let fresh = store
        .list_batches(
            &auditor,
            &BatchFilter {
                limit: 1,
                ..Default::default()
            },
        )
        .await?
        .items
        .is_empty();
    if !fresh && !store.list_materials(&auditor).await?.is_empty() {
        return Ok(0);
    }
    let cast = Cast::gather(store, &fixture, auditor).await?;
    let mut made = 0;
    if fresh && !cast.assignments.is_empty() {
        import_history(store, &fixture).await?;
        made = vigilance_story(store, &cast).await?;
        made = unguided(store, &cast, &fixture, batches, made).await?;
    }
    // The unguided batches come first: a batch made once a master record is in effect is
    // guided by it, and these were recorded before the laboratories had one.
    Ok(made + record::seed(store, &cast).await?)
}

/// Batches made as before SPEC §8 (free events, no master record), in every status, until
/// `made` reaches `batches`; leaving room in the month for the guided batches to come.
async fn unguided(
    store: &Store,
    cast: &Cast,
    fixture: &NetworkFixture,
    batches: usize,
    mut made: usize,
) -> Result<usize> {
    let (assignments, products, teams, passwords, today) = (
        &cast.assignments,
        &cast.products,
        &cast.teams,
        &cast.passwords,
        cast.today,
    );
    let mut room = guided_room(store, cast, fixture).await?;
    let mut dice = Dice(0x5EED_7A2A_2026);
    // Capacity refusals skip a slot; try further slots until enough batches are made.
    for i in 0..batches * 4 {
        if made >= batches {
            break;
        }
        let a = &assignments[i % assignments.len()];
        let product = &products[a.product_code.as_str()];
        let team = &teams[&a.lab_code];
        let staff = &team.staff[i % team.staff.len()];
        // Status mix: 2/10 in production, 2/10 quarantine, 3/10 released, 2/10 administered, 1/10 rejected.
        let target = match i % 10 {
            0 | 1 => BatchStatus::InProduction,
            2 | 3 => BatchStatus::Quarantine,
            4..=6 => BatchStatus::Released,
            7 | 8 => BatchStatus::Administered,
            _ => BatchStatus::Rejected,
        };
        // Certified batches must still be in date today: end them within their shelf life.
        let shelf = u64::from(product.shelf_life_days.max(1));
        // Rejected batches may be older: nothing about them needs to be in date.
        let back = if target == BatchStatus::Rejected {
            180
        } else {
            shelf.min(20)
        };
        let end = today - Days::new(dice.below(back));
        let start = end - Days::new(1 + dice.below(14));
        let start = start.max(a.period.valid_from);
        let end = end.max(start);
        let slot = (a.lab_code.clone(), capacity_month(start).0);
        if room.get(&slot) == Some(&0) {
            continue;
        }
        let (donor, patient) = match product.origin {
            Origin::Allogeneic => (
                format!(
                    "A9999{:02}{:06}",
                    25 + dice.below(2),
                    100_000 + dice.below(900_000)
                ),
                None,
            ),
            Origin::Autologous => {
                let code = format!(
                    "{}-PAC-{:05}",
                    a.lab_code.as_str().split('-').next().unwrap_or("AND"),
                    1 + dice.below(99_999)
                );
                (code.clone(), Some(code))
            }
        };
        let trial_id = (a.access_route == AccessRoute::ClinicalTrial)
            .then(|| {
                a.authorisation_ref
                    .as_deref()
                    .and_then(|r| TrialId::parse(r).ok())
                    .or_else(|| TrialId::parse("2021-000123-45").ok())
            })
            .flatten();
        let doses = if product.origin == Origin::Allogeneic {
            1 + dice.below(4) as u32
        } else {
            1
        };
        let fields = BatchFields {
            access_route: a.access_route,
            trial_id,
            donor_code: DonorCode::parse(&donor)?,
            patient_code: patient.as_deref().map(PatientCode::parse).transpose()?,
            collection_date: Some(start - Days::new(dice.below(2))),
            manufacturing_start: start,
            manufacturing_end: None,
            expiry_date: None,
            cell_count: Some(rust_decimal::Decimal::new(
                10_000_000 + dice.below(90_000_000) as i64 * 10,
                0,
            )),
            viability_percent: Some(rust_decimal::Decimal::new(850 + dice.below(140) as i64, 1)),
            volume_ml: Some(rust_decimal::Decimal::new(5 + dice.below(95) as i64, 0)),
            doses,
            notes: None,
        };
        let created = match store
            .create_batch(
                staff,
                NewBatch {
                    batch_number: None,
                    product_code: a.product_code.clone(),
                    lab_code: a.lab_code.clone(),
                    fields,
                },
            )
            .await
        {
            Ok(b) => b,
            // Capacity or coverage refusals are part of the story; skip that slot.
            Err(traza_store::StoreError::Refused { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        made += 1;
        if let Some(left) = room.get_mut(&slot) {
            *left -= 1;
        }
        let number = created.batch.batch_number.to_string();
        let at = |d: NaiveDate, h: u32| {
            d.and_hms_opt(8 + h, 30, 0)
                .map(|t| t.and_utc())
                .unwrap_or_else(Utc::now)
        };
        for (h, step) in [
            "Recepción de la muestra",
            "Aislamiento y siembra",
            "Expansión celular",
            "Cosecha y formulación",
        ]
        .iter()
        .enumerate()
        {
            store
                .record_event(staff, &number, None, step, at(start, h as u32), None)
                .await?;
        }
        if target == BatchStatus::InProduction {
            continue;
        }
        let fail = target == BatchStatus::Rejected;
        for (k, t) in product.specification.tests().iter().enumerate() {
            store
                .record_qc_result(
                    staff,
                    &number,
                    None,
                    QcInput {
                        test: t.test.clone(),
                        value: reading(t, fail && k == 0),
                        unit: t.unit.clone(),
                        supersedes: None,
                        reason: None,
                        deviation_id: None,
                    },
                )
                .await?;
        }
        if target == BatchStatus::Quarantine && i % 4 == 2 {
            store
                .open_deviation(
                    staff,
                    &number,
                    None,
                    "Temperatura de la incubadora fuera de rango durante 20 minutos",
                    DeviationSeverity::Minor,
                )
                .await?;
        }
        store.complete_batch(staff, &number, None, end).await?;
        let qa = &team.qa[i % team.qa.len()];
        let password = passwords
            .get(qa.username.as_str())
            .cloned()
            .unwrap_or_default();
        match target {
            BatchStatus::Rejected => {
                store
                    .reject_batch(
                        qa,
                        &number,
                        None,
                        &password,
                        "Resultado fuera de especificación confirmado en la investigación",
                    )
                    .await?;
            }
            BatchStatus::Released | BatchStatus::Administered => {
                store
                    .release_batch(qa, &number, None, &password, SignatureMeaning::QpCertified)
                    .await?;
                let given = if target == BatchStatus::Administered {
                    doses
                } else {
                    (doses - 1).min(1)
                };
                for d in 0..given {
                    let to = match &patient {
                        Some(p) => PatientCode::parse(p)?,
                        None => PatientCode::parse(&format!(
                            "HOSP-PAC-{:05}",
                            1 + dice.below(99_999) + u64::from(d)
                        ))?,
                    };
                    store
                        .administer(
                            qa,
                            &number,
                            None,
                            &to,
                            today,
                            "Hospital Universitario Virgen del Rocío",
                        )
                        .await?;
                }
            }
            _ => {}
        }
    }
    Ok(made)
}

/// How many more batches the unguided demo may start at the guided batches' laboratory in
/// each month they start in: its capacity less what is started there already and the guided
/// batches themselves.
async fn guided_room(
    store: &Store,
    cast: &Cast,
    fixture: &NetworkFixture,
) -> Result<BTreeMap<(LabCode, NaiveDate), u64>> {
    let lab = LabCode::parse(guided::LAB)?;
    let Some(capacity) = fixture
        .labs
        .iter()
        .find(|l| l.code == lab)
        .and_then(|l| l.capacity_per_month)
    else {
        return Ok(BTreeMap::new());
    };
    let mut wanted: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    for day in guided::start_days(Utc::now()) {
        *wanted.entry(capacity_month(day).0).or_default() += 1;
    }
    let mut room = BTreeMap::new();
    for (month, guided) in wanted {
        let started = store
            .count_batches(
                &cast.auditor,
                &BatchFilter {
                    lab: Some(lab.clone()),
                    from: Some(month),
                    to: Some(capacity_month(month).1 - Days::new(1)),
                    ..Default::default()
                },
                u64::from(capacity),
            )
            .await?
            .unwrap_or(u64::from(capacity));
        room.insert(
            (lab.clone(), month),
            u64::from(capacity).saturating_sub(started + guided),
        );
    }
    Ok(room)
}

/// The vigilance story of the demo: one allogeneic donor whose MSC went to three patients
/// through batches of two laboratories; a serious reaction of one patient is reported by QA
/// and open on the work list; an earlier, non-serious one was concluded by the coordinator.
/// Answers how many batches it made (none if the network lacks the assignments).
async fn vigilance_story(store: &Store, cast: &Cast) -> Result<usize> {
    let (assignments, products, teams, passwords, coordinator, today) = (
        &cast.assignments,
        &cast.products,
        &cast.teams,
        &cast.passwords,
        &cast.coordinator,
        cast.today,
    );
    const PRODUCT: &str = "MSC-AD-ALO";
    const DONOR: &str = "A999926000417";
    let sites: Vec<&Assignment> = ["GRA-UPCIT", "MAL-HRU"]
        .iter()
        .filter_map(|lab| {
            assignments
                .iter()
                .find(|a| a.product_code.as_str() == PRODUCT && a.lab_code.as_str() == *lab)
        })
        .collect();
    let Some(product) = products.get(PRODUCT) else {
        return Ok(0);
    };
    if sites.len() < 2 {
        return Ok(0);
    }
    let mut given = Vec::new();
    for (site, patients) in sites.iter().zip([
        &["AND-PAC-30417", "AND-PAC-30418"][..],
        &["AND-PAC-30419"][..],
    ]) {
        let team = &teams[&site.lab_code];
        let (staff, qa) = (&team.staff[0], &team.qa[0]);
        let start = today - Days::new(16);
        let fields = BatchFields {
            access_route: site.access_route,
            trial_id: site
                .authorisation_ref
                .as_deref()
                .and_then(|r| TrialId::parse(r).ok()),
            donor_code: DonorCode::parse(DONOR)?,
            patient_code: None,
            collection_date: Some(start),
            manufacturing_start: start,
            manufacturing_end: None,
            expiry_date: None,
            cell_count: Some(rust_decimal::Decimal::new(150_000_000, 0)),
            viability_percent: Some(rust_decimal::Decimal::new(931, 1)),
            volume_ml: Some(rust_decimal::Decimal::new(20, 0)),
            doses: 3,
            notes: None,
        };
        let created = store
            .create_batch(
                staff,
                NewBatch {
                    batch_number: None,
                    product_code: site.product_code.clone(),
                    lab_code: site.lab_code.clone(),
                    fields,
                },
            )
            .await?;
        let number = created.batch.batch_number.to_string();
        for t in product.specification.tests() {
            let result = QcInput {
                test: t.test.clone(),
                value: reading(t, false),
                unit: t.unit.clone(),
                supersedes: None,
                reason: None,
                deviation_id: None,
            };
            store.record_qc_result(staff, &number, None, result).await?;
        }
        store
            .complete_batch(staff, &number, None, today - Days::new(2))
            .await?;
        let password = passwords
            .get(qa.username.as_str())
            .cloned()
            .unwrap_or_default();
        store
            .release_batch(qa, &number, None, &password, SignatureMeaning::QpCertified)
            .await?;
        for p in patients {
            let a = store
                .administer(
                    qa,
                    &number,
                    None,
                    &PatientCode::parse(p)?,
                    today,
                    "Hospital Universitario Virgen de las Nieves",
                )
                .await?;
            given.push((qa.clone(), number.clone(), a.id));
        }
    }
    if let Some((qa, number, id)) = given.get(1) {
        store
            .report_reaction(
                qa,
                number,
                *id,
                NewReaction {
                    reported_on: today,
                    severity: ReactionSeverity::Serious,
                    imputability: Imputability::Possible,
                    description: "Fiebre de 39,4 °C, escalofríos e hipotensión a las 5 horas de la infusión; ingreso para observación".into(),
                },
            )
            .await?;
    }
    if let Some((_, number, id)) = given.get(2) {
        let earlier = store
            .report_reaction(
                coordinator,
                number,
                *id,
                NewReaction {
                    reported_on: today,
                    severity: ReactionSeverity::NonSerious,
                    imputability: Imputability::Unlikely,
                    description: "Cefalea leve tras la infusión, resuelta en 24 horas".into(),
                },
            )
            .await?;
        store
            .close_reaction(
                coordinator,
                earlier.reaction.id,
                "Cefalea atribuible a la premedicación; sin relación con el producto. Sin acciones sobre otros lotes.",
            )
            .await?;
    }
    Ok(sites.len())
}

/// Historical records as a laboratory has them (Windows-1252, `;`, decimal commas), imported
/// by the coordination unit through the same importer as `traza import batches`.
const HISTORY_SAMPLE: &[u8] = include_bytes!("../fixtures/history/lotes-historicos-cp1252.csv");

async fn import_history(store: &Store, fixture: &NetworkFixture) -> Result<()> {
    let Some(coordinator) = fixture.users.iter().find(|u| u.role == Role::Coordinator) else {
        return Ok(());
    };
    let actor = store.actor(coordinator.username.as_str()).await?;
    let path = std::env::temp_dir().join(format!("traza-demo-history-{}.csv", std::process::id()));
    std::fs::write(&path, HISTORY_SAMPLE).context("cannot write the demo history file")?;
    let report = store
        .import_batches(
            &actor,
            ImportRequest {
                path: path.clone(),
                file_name: "lotes-historicos-cp1252.csv".into(),
                dry_run: false,
                encoding: None,
            },
            None,
        )
        .await;
    let _ = std::fs::remove_file(&path);
    let report = report?;
    anyhow::ensure!(
        report.accepted(),
        "the demo history was refused: {:?}",
        report.errors
    );
    Ok(())
}
