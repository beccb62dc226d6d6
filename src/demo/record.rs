//! The demo's electronic batch record (SPEC §8): the network's materials, and at every
//! laboratory that makes products its rooms, equipment, material lots and an approved master
//! record per product; then guided batches executed through them ([`super::guided`]). All of
//! it through the store's use cases, as the people of each laboratory would do it: staff
//! receive the lots, QA releases them with a signature, one QA writes each master record and
//! the other approves it.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use chrono::{Days, NaiveDate, Utc};
use rust_decimal::Decimal;
use traza_domain::access::Actor;
use traza_domain::codes::{EquipmentId, LabCode, MaterialCode, RoomId};
use traza_domain::equipment::{Equipment, EquipmentClass, EquipmentStatus, Room};
use traza_domain::materials::{LotReceipt, Material};
use traza_domain::mbr::MbrStep;
use traza_domain::vocab::RoomGrade;
use traza_store::Store;

use super::Cast;
use super::catalogue::{CATALOGUE, Stock, stock_of};
use super::masters::{CABINET, CENTRIFUGE, COUNTER, FREEZER, INCUBATOR, master_steps};

/// What a laboratory has to execute its master records with: the rooms by grade, the usable
/// equipment by class, the released lot of each material, and each product's steps.
pub struct Plant {
    pub rooms: Vec<(RoomGrade, String)>,
    pub equipment: BTreeMap<&'static str, String>,
    pub lots: BTreeMap<String, String>,
    pub steps: BTreeMap<String, Vec<MbrStep>>,
}

impl Plant {
    /// The least clean room that suits `grade` (a grade-B step is done in a grade-B room, not
    /// in the isolator).
    pub fn room_for(&self, grade: Option<RoomGrade>) -> Option<String> {
        let grade = grade?;
        self.rooms
            .iter()
            .rev()
            .filter(|(g, _)| g.suits(grade))
            .max_by_key(|(g, _)| *g)
            .map(|(_, id)| id.clone())
    }
}

/// The rooms of every laboratory: its cleanroom suite, from the isolator to the reception.
const ROOMS: &[(&str, RoomGrade)] = &[
    ("AISLADOR-A1", RoomGrade::A),
    ("SALA-B1", RoomGrade::B),
    ("SALA-B2", RoomGrade::B),
    ("SALA-C1", RoomGrade::C),
    ("SALA-D1", RoomGrade::D),
];

/// The equipment of every laboratory, and the days from today to each calibration's due
/// date: a second cabinet falls due within the month, a third is past due (still in service:
/// a step refuses it all the same).
const EQUIPMENT: &[(&str, &str, i64)] = &[
    ("CSB-01", CABINET, 150),
    ("CSB-02", CABINET, 21),
    ("CSB-03", CABINET, -12),
    ("INC-01", INCUBATOR, 200),
    ("INC-02", INCUBATOR, 75),
    ("CEN-01", CENTRIFUGE, 120),
    ("CNT-01", COUNTER, 60),
    ("CRIO-01", FREEZER, 240),
];

fn shift(day: NaiveDate, days: i64) -> NaiveDate {
    if days >= 0 {
        day + Days::new(days.unsigned_abs())
    } else {
        day - Days::new(days.unsigned_abs())
    }
}

fn decimal(text: &str) -> Result<Decimal> {
    text.parse()
        .with_context(|| format!("demo quantity {text}"))
}

/// Seeds the batch record once: nothing if the catalogue has materials already. Answers how
/// many guided batches it made.
pub async fn seed(store: &Store, cast: &Cast) -> Result<usize> {
    if !store.list_materials(&cast.coordinator).await?.is_empty() {
        return Ok(0);
    }
    for s in CATALOGUE {
        store
            .create_material(
                &cast.coordinator,
                Material {
                    code: MaterialCode::parse(s.code)?,
                    name: s.name.into(),
                    kind: s.kind,
                    unit: s.unit.into(),
                },
            )
            .await
            .with_context(|| format!("material {}", s.code))?;
    }
    // A laboratory with one QA person cannot approve a record (four eyes): it keeps none.
    let labs: BTreeSet<&LabCode> = cast
        .assignments
        .iter()
        .map(|a| &a.lab_code)
        .filter(|lab| cast.teams[*lab].qa.len() >= 2)
        .collect();
    let mut plants = BTreeMap::new();
    for (i, lab) in labs.into_iter().enumerate() {
        let plant = equip(store, cast, lab, i as i64)
            .await
            .with_context(|| format!("the batch record of {lab}"))?;
        plants.insert(lab.clone(), plant);
    }
    super::guided::seed(store, cast, &plants).await
}

/// Rooms, equipment, lots and approved master records of one laboratory.
async fn equip(store: &Store, cast: &Cast, lab: &LabCode, index: i64) -> Result<Plant> {
    let team = &cast.teams[lab];
    let [author, approver, ..] = team.qa.as_slice() else {
        anyhow::bail!("{lab} has fewer than two QA people");
    };
    let today = cast.today;
    let mut plant = Plant {
        rooms: Vec::new(),
        equipment: BTreeMap::new(),
        lots: BTreeMap::new(),
        steps: BTreeMap::new(),
    };
    for (id, grade) in ROOMS {
        store
            .create_room(
                author,
                Room {
                    lab_code: lab.clone(),
                    id: RoomId::parse(id)?,
                    grade: *grade,
                },
            )
            .await?;
        plant.rooms.push((*grade, (*id).to_owned()));
    }
    for (id, class, due) in EQUIPMENT {
        // Laboratories calibrate on their own calendars: a few days apart from each other.
        let due = if *due >= 0 { *due + 3 * index } else { *due };
        let calibration_due = shift(today, due);
        store
            .create_equipment(
                author,
                Equipment {
                    lab_code: lab.clone(),
                    id: EquipmentId::parse(id)?,
                    class: EquipmentClass::parse(class)
                        .map_err(|p| anyhow::anyhow!("equipment class {class}: {p:?}"))?,
                    status: EquipmentStatus::InService,
                    calibration_due,
                },
            )
            .await?;
        if calibration_due >= today {
            plant
                .equipment
                .entry(*class)
                .or_insert_with(|| (*id).to_owned());
        }
    }
    let products: BTreeSet<&str> = cast
        .assignments
        .iter()
        .filter(|a| &a.lab_code == lab)
        .map(|a| a.product_code.as_str())
        .collect();
    for code in &products {
        plant
            .steps
            .insert((*code).to_owned(), master_steps(&cast.products[*code]));
    }
    let used: BTreeSet<String> = plant
        .steps
        .values()
        .flatten()
        .flat_map(|s| &s.materials)
        .map(|m| m.material_code.clone())
        .collect();
    stock_lots(store, cast, lab, author, &used, &mut plant).await?;
    // Written by one QA person, approved by the other, in effect from today (the laboratory's
    // date): batches made from now on follow it.
    let effective_from = traza_domain::clock::lab_date(Utc::now());
    for (code, steps) in &plant.steps {
        let product = &cast.products[code.as_str()];
        let draft = store
            .create_master_record(author, &product.code, lab, steps.clone())
            .await
            .with_context(|| format!("the master record of {code}"))?;
        store
            .approve_master_record(
                approver,
                draft.id,
                cast.password(approver),
                effective_from,
                None,
            )
            .await
            .with_context(|| format!("the approval of {code}'s master record"))?;
    }
    Ok(plant)
}

/// Receives a lot of every material the laboratory's records use (staff) and releases it (QA,
/// signed); then one lot that expired waiting for its certificate, still in quarantine, and
/// one that arrived yesterday and waits for QA.
async fn stock_lots(
    store: &Store,
    cast: &Cast,
    lab: &LabCode,
    qa: &Actor,
    used: &BTreeSet<String>,
    plant: &mut Plant,
) -> Result<()> {
    let team = &cast.teams[lab];
    let receiver = &team.staff[0];
    let today = cast.today;
    for (k, code) in used.iter().enumerate() {
        let stock = stock_of(code).with_context(|| format!("{code} is not in the catalogue"))?;
        let received_on = today - Days::new(5 + (k as u64 * 7) % 45);
        let lot = receive(
            store,
            receiver,
            lab,
            stock,
            received_on,
            stock.shelf_days,
            k,
        )
        .await?;
        store
            .release_lot(qa, &lot, cast.password(qa))
            .await
            .with_context(|| format!("the release of lot {lot}"))?;
        plant.lots.insert(code.clone(), lot);
    }
    let pick = |preferred: &[&'static str]| -> Option<&str> {
        preferred
            .iter()
            .copied()
            .find(|c| used.contains(*c))
            .or_else(|| used.iter().next().map(String::as_str))
    };
    if let Some(stock) = pick(&["SUP-LPH", "MED-TEXMACS"]).and_then(stock_of) {
        // Received 200 days ago with 191 days of life; its certificate of analysis never came.
        receive(store, receiver, lab, stock, today - Days::new(200), 191, 90).await?;
    }
    if let Some(stock) = pick(&["MED-ALFA-MEM", "MED-DMEM-F12", "MED-TEXMACS"]).and_then(stock_of) {
        let other = &team.staff[1 % team.staff.len()];
        receive(
            store,
            other,
            lab,
            stock,
            today - Days::new(1),
            stock.shelf_days,
            91,
        )
        .await?;
    }
    Ok(())
}

/// Receives a lot of `stock` (in quarantine); answers its lot id.
async fn receive(
    store: &Store,
    receiver: &Actor,
    lab: &LabCode,
    stock: &Stock,
    received_on: NaiveDate,
    shelf_days: u64,
    k: usize,
) -> Result<String> {
    let initials: String = stock
        .supplier
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .filter(char::is_ascii_uppercase)
        .take(2)
        .collect();
    let supplier_lot = format!(
        "{initials}{}{:05}",
        received_on.format("%y%m"),
        (k * 7919 + lab.as_str().len() * 131) % 100_000
    );
    let lot = store
        .receive_lot(
            receiver,
            LotReceipt {
                lab_code: lab.clone(),
                material_code: MaterialCode::parse(stock.code)?,
                supplier: stock.supplier.into(),
                supplier_lot,
                received_on,
                expiry_date: received_on + Days::new(shelf_days),
                quantity_received: decimal(stock.pack)?,
            },
        )
        .await
        .with_context(|| format!("the receipt of {} at {lab}", stock.code))?;
    Ok(lot.lot.lot_id.to_string())
}
