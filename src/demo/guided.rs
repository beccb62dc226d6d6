//! Guided demo batches (SPEC §8) at GRA-UPCIT, made after its master records took effect and
//! executed through them with the store's `record_step` and `verify_step`, as the staff of
//! the unit would record them at the bench (each step within hours of being done):
//!
//! - a batch of MSC complete, tested and certified by a QA person who took no part in it;
//! - a batch of artificial skin with two minor exceptions (a step recorded the next day, a
//!   quantity that differs from the record) resolved by QA, waiting for certification;
//! - a batch of MSC whose viability fell below its critical limit at a passage: the exception
//!   and its deviation are open, and QA's release queue shows it blocked;
//! - a batch of artificial cornea half-way through, its next step waiting for a visitor.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use traza_domain::access::Actor;
use traza_domain::batch::BatchFields;
use traza_domain::codes::{DonorCode, LabCode, PatientCode};
use traza_domain::mbr::{MbrStep, ParameterValue};
use traza_domain::vocab::{AtmpClass, ExceptionKind, Origin, SignatureMeaning};
use traza_store::{NewBatch, QcInput, StepInput, Store, StoreError};

use super::Cast;
use super::masters::{good_value, out_of_limits};
use super::record::Plant;

/// The laboratory whose guided batches the demo makes (the one the README's tour visits).
pub const LAB: &str = "GRA-UPCIT";

/// How many hours before now the first step of each guided batch was performed, in the order
/// the batches are made. Only the second batch has a step older than a day (its late entry).
const FIRST_STEP_HOURS_AGO: [i64; 4] = [22, 30, 20, 6];

/// The days the guided batches start on, for the laboratory's monthly capacity: the demo's
/// other batches leave room for them.
pub fn start_days(now: DateTime<Utc>) -> Vec<NaiveDate> {
    FIRST_STEP_HOURS_AGO
        .iter()
        .map(|h| (now - Duration::hours(*h)).date_naive())
        .collect()
}

/// A change to what a step's entry would otherwise record.
#[derive(Default)]
struct Twist {
    parameter: Option<(&'static str, String)>,
    quantity: Option<(&'static str, Decimal)>,
    note: Option<&'static str>,
}

struct Guide<'a> {
    store: &'a Store,
    cast: &'a Cast,
    plant: &'a Plant,
    lab: LabCode,
}

/// Makes the guided batches; answers how many (a refused one, for capacity, is left out).
pub async fn seed(store: &Store, cast: &Cast, plants: &BTreeMap<LabCode, Plant>) -> Result<usize> {
    let lab = LabCode::parse(LAB)?;
    let (Some(plant), Some(team)) = (plants.get(&lab), cast.teams.get(&lab)) else {
        return Ok(0);
    };
    let [performer, checker] = match (team.staff.as_slice(), team.qa.as_slice()) {
        ([a, b, ..], _) => [a, b],
        ([a], [.., q]) => [a, q],
        _ => return Ok(0),
    };
    let (certifier, reviewer) = match team.qa.as_slice() {
        [a, b, ..] => (a, b),
        _ => return Ok(0),
    };
    let g = Guide {
        store,
        cast,
        plant,
        lab,
    };
    let now = Utc::now();
    let first = |i: usize| now - Duration::hours(FIRST_STEP_HOURS_AGO[i]);
    let every = |start: DateTime<Utc>, gap: i64, n: usize| -> Vec<DateTime<Utc>> {
        (0..n)
            .map(|k| start + Duration::minutes(gap * k as i64))
            .collect()
    };
    let mut made = 0;

    // 1. Complete, tested, certified by the QA person who took no part.
    let steps = g.steps("MSC-AD-ALO")?;
    if let Some(number) = g
        .create("MSC-AD-ALO", performer, first(0), "A999926000501")
        .await?
    {
        made += 1;
        let times = every(first(0), 150, steps.len());
        g.execute(&number, &steps, &times, performer, checker, BTreeMap::new())
            .await?;
        g.test_and_complete(&number, "MSC-AD-ALO", performer)
            .await?;
        store
            .release_batch(
                certifier,
                &number,
                None,
                cast.password(certifier),
                SignatureMeaning::QpCertified,
            )
            .await
            .with_context(|| format!("the certification of guided batch {number}"))?;
    }

    // 2. Two minor exceptions, resolved by QA; tested and complete, waiting for certification.
    let steps = g.steps("UGRSKIN")?;
    if let Some(number) = g
        .create("UGRSKIN", performer, first(1), "GRA-PAC-40517")
        .await?
    {
        made += 1;
        let mut times = vec![first(1)];
        times.extend(every(now - Duration::hours(21), 150, steps.len() - 1));
        let twists = BTreeMap::from([
            (
                "recepcion",
                Twist {
                    note: Some(
                        "Recepción anotada en papel durante la caída de la red del hospital; transcrita al día siguiente.",
                    ),
                    ..Twist::default()
                },
            ),
            (
                "matriz",
                Twist {
                    quantity: Some(("ESC-PLASMA-FIB", Decimal::new(44, 0))),
                    note: Some(
                        "Se añaden 4 mL de plasma por la pérdida de volumen en la línea de dispensación.",
                    ),
                    ..Twist::default()
                },
            ),
        ]);
        g.execute(&number, &steps, &times, performer, checker, twists)
            .await?;
        for e in store.list_exceptions(reviewer, &number).await? {
            let comment = match e.kind {
                ExceptionKind::LateEntry => {
                    "Registro en papel archivado y cotejado con la entrada transcrita: hora, sala y temperatura coinciden. Sin impacto en la calidad."
                }
                ExceptionKind::QuantityDiffers => {
                    "Volumen de plasma ajustado por la pérdida en la línea; la concentración final de agarosa quedó dentro de límites. Sin impacto."
                }
                _ => "Revisado por calidad; sin impacto en la calidad del lote.",
            };
            store
                .resolve_exception(reviewer, &number, e.id, comment, None)
                .await
                .with_context(|| format!("exception {} of {number}", e.id))?;
        }
        g.test_and_complete(&number, "UGRSKIN", performer).await?;
    }

    // 3. A critical control out of its limits: the exception and its deviation stay open.
    let steps = g.steps("MSC-AD-ALO")?;
    if let Some(number) = g
        .create("MSC-AD-ALO", performer, first(2), "A999926000502")
        .await?
    {
        made += 1;
        let times = every(first(2), 130, steps.len());
        let low = steps
            .iter()
            .find(|s| s.code == "pase-2")
            .and_then(|s| s.parameters.iter().find(|p| p.name == "Viabilidad"))
            .and_then(out_of_limits)
            .context("the MSC record has a viability control at its second passage")?;
        let twists = BTreeMap::from([(
            "pase-2",
            Twist {
                parameter: Some(("Viabilidad", low)),
                note: Some(
                    "Viabilidad baja tras el pase; se continúa el proceso y se comunica a calidad.",
                ),
                ..Twist::default()
            },
        )]);
        g.execute(&number, &steps, &times, performer, checker, twists)
            .await?;
        g.test_and_complete(&number, "MSC-AD-ALO", performer)
            .await?;
    }

    // 4. Half-way: three steps recorded and verified, the stroma waiting to be made.
    let steps = g.steps("CORNEA-ART")?;
    if let Some(number) = g
        .create("CORNEA-ART", checker, first(3), "A999926000503")
        .await?
    {
        made += 1;
        let times = every(first(3), 90, 3);
        g.execute(
            &number,
            &steps[..3],
            &times,
            checker,
            performer,
            BTreeMap::new(),
        )
        .await?;
    }
    Ok(made)
}

impl Guide<'_> {
    fn steps(&self, product: &str) -> Result<Vec<MbrStep>> {
        self.plant
            .steps
            .get(product)
            .cloned()
            .with_context(|| format!("{} has no master record of {product}", self.lab))
    }

    /// Starts a batch of `product` on the day of its first step; `None` when the laboratory's
    /// month is full.
    async fn create(
        &self,
        product: &str,
        staff: &Actor,
        first_step: DateTime<Utc>,
        donor: &str,
    ) -> Result<Option<String>> {
        let a = self
            .cast
            .assignments
            .iter()
            .find(|a| a.product_code.as_str() == product && a.lab_code == self.lab)
            .with_context(|| format!("{} makes no {product}", self.lab))?;
        let p = &self.cast.products[product];
        let start = first_step.date_naive();
        let autologous = p.origin == Origin::Autologous;
        // A tissue is one graft, counted by its area, not a suspension of cells in a volume.
        let tissue = p.atmp_class == AtmpClass::TissueEngineered;
        let fields = BatchFields {
            access_route: a.access_route,
            trial_id: a.trial_id(),
            donor_code: DonorCode::parse(donor)?,
            patient_code: autologous.then(|| PatientCode::parse(donor)).transpose()?,
            collection_date: Some(start),
            manufacturing_start: start,
            manufacturing_end: None,
            expiry_date: None,
            cell_count: (!tissue).then(|| Decimal::new(180_000_000, 0)),
            viability_percent: Some(Decimal::new(925, 1)),
            volume_ml: (!tissue).then(|| Decimal::new(20, 0)),
            doses: if autologous || tissue { 1 } else { 2 },
            notes: None,
        };
        let created = match self
            .store
            .create_batch(
                staff,
                NewBatch {
                    batch_number: None,
                    product_code: p.code.clone(),
                    lab_code: self.lab.clone(),
                    fields,
                },
            )
            .await
        {
            Ok(b) => b,
            Err(StoreError::Refused { .. }) => return Ok(None),
            Err(e) => return Err(e).context(format!("a guided batch of {product}")),
        };
        anyhow::ensure!(
            created.mbr_version.is_some(),
            "batch {} of {product} is not guided: no master record in effect",
            created.batch.batch_number
        );
        Ok(Some(created.batch.batch_number.to_string()))
    }

    /// Records `steps` at `times` by `performer`, each verified by `checker` where the record
    /// asks for it; `twists` change what some entries record.
    async fn execute(
        &self,
        number: &str,
        steps: &[MbrStep],
        times: &[DateTime<Utc>],
        performer: &Actor,
        checker: &Actor,
        twists: BTreeMap<&str, Twist>,
    ) -> Result<()> {
        let none = Twist::default();
        for (step, at) in steps.iter().zip(times) {
            let twist = twists.get(step.code.as_str()).unwrap_or(&none);
            let equipment_ids = step
                .equipment
                .iter()
                .map(|class| {
                    self.plant
                        .equipment
                        .get(class.as_str())
                        .cloned()
                        .with_context(|| format!("{} has no usable {class}", self.lab))
                })
                .collect::<Result<Vec<_>>>()?;
            let materials = step
                .materials
                .iter()
                .map(|m| {
                    let lot = self
                        .plant
                        .lots
                        .get(&m.material_code)
                        .cloned()
                        .with_context(|| {
                            format!("{} has no lot of {}", self.lab, m.material_code)
                        })?;
                    let quantity = match twist.quantity {
                        Some((code, q)) if code == m.material_code => q,
                        _ => m.quantity,
                    };
                    Ok((lot, quantity))
                })
                .collect::<Result<Vec<_>>>()?;
            let parameters = step
                .parameters
                .iter()
                .map(|p| ParameterValue {
                    name: p.name.clone(),
                    value: match &twist.parameter {
                        Some((name, value)) if *name == p.name => value.clone(),
                        _ => good_value(p),
                    },
                })
                .collect();
            let input = StepInput {
                performed_at: *at,
                room_id: self.plant.room_for(step.room_grade),
                equipment_ids,
                parameters,
                materials,
                note: twist.note.map(str::to_owned),
                corrects: None,
                reason: None,
            };
            self.store
                .record_step(performer, number, &step.code, input)
                .await
                .with_context(|| format!("step {} of {number}", step.code))?;
            if step.verification_required {
                self.store
                    .verify_step(
                        checker,
                        number,
                        &step.code,
                        checker.username.as_str(),
                        self.cast.password(checker),
                    )
                    .await
                    .with_context(|| format!("the verification of {} of {number}", step.code))?;
            }
        }
        Ok(())
    }

    /// Records a passing result of every test of the product's specification, and ends
    /// manufacture today: the batch goes to quarantine.
    async fn test_and_complete(&self, number: &str, product: &str, staff: &Actor) -> Result<()> {
        for t in self.cast.products[product].specification.tests() {
            self.store
                .record_qc_result(
                    staff,
                    number,
                    None,
                    QcInput {
                        test: t.test.clone(),
                        value: super::reading(t, false),
                        unit: t.unit.clone(),
                        supersedes: None,
                        reason: None,
                        deviation_id: None,
                    },
                )
                .await
                .with_context(|| format!("QC {} of {number}", t.test))?;
        }
        self.store
            .complete_batch(staff, number, None, self.cast.today)
            .await
            .with_context(|| format!("the completion of {number}"))?;
        Ok(())
    }
}
