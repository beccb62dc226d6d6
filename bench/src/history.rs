//! Historical batch files (SPEC §4) of any size, as a network's laboratories would have them.
//!
//! Every row passes every check of the importer: only product/laboratory pairs that have an
//! assignment, by that assignment's route and with its trial id, the product's origin, dates
//! in order, release fields exactly where the status needs them, valid ISBT 128 DINs. About
//! 2% of the rows start before their assignment did, which the importer reports as warnings
//! (history predates Traza's assignments) and still imports.
//!
//! What makes the file a fair benchmark is its order. Batch numbers are issued per laboratory
//! and year in date order, as a laboratory would (`GRA-UPCIT-2019-00042`), and an allogeneic
//! donor's code recurs over a few consecutive batches; but the rows are written shuffled, so
//! every index the importer maintains (batch number, donor, patient) receives keys in random
//! order, as it does when several laboratories' exports are merged. Sorted input would make
//! those B-trees append-only and flatter any importer.
//!
//! To number in date order and still write in random order, the rows are planned first: a
//! `Plan` of 16 bytes per row (16 MB for a million rows, nothing per row is a string), sorted
//! to issue numbers and donors, then shuffled. Each row's text is made only as it is written.
//!
//! A second shape, [`Shape::Compact`], is the other realistic file: one laboratory's own
//! export, in its own order (batch numbers ascending, a donor's batches next to each other),
//! with short codes (`L19004217`, donor `D1900042`) and few notes. Its rows are a fifth
//! shorter, which makes the yardsticks faster while the importer's work per row stays: the
//! benchmark runs both (see `history_compact.rs`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;

use anyhow::{Context, Result, bail};
use chrono::{Datelike, NaiveDate, TimeDelta};
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use traza_domain::codes::{TrialId, mod37_2_check_character};
use traza_domain::history::{COLUMN_COUNT, Column};
use traza_domain::network::Product;
use traza_domain::vocab::{AccessRoute, AtmpClass, BatchStatus, Origin};

use crate::network::Network;

/// Share of rows that start before the assignment they are made under.
const EARLY_SHARE: f64 = 0.02;
/// How long before its assignment such a row may start (a validation run, a batch made
/// while the authorisation was in the post).
const EARLY_DAYS: i64 = 180;
/// An allogeneic donation is split into batches started within this many days of each other.
const DONATION_WINDOW_DAYS: i64 = 45;
/// Serial numbers of a DIN: six digits per facility and year.
const DIN_SERIALS: u32 = 1_000_000;

/// What to write.
#[derive(Debug, Clone)]
pub struct Options {
    pub rows: u64,
    /// The same seed (and network and `today`) gives the same bytes.
    pub seed: u64,
    pub delimiter: u8,
    /// Spanish Excel's way: decimal commas, `dd/mm/yyyy`, Spanish words, a UTF-8 byte order
    /// mark and CRLF line ends (the delimiter is chosen separately).
    pub spanish: bool,
    /// Nothing starts after this day; open-ended assignments run until it. Fixed rather than
    /// read from the clock so that a seed names one file whatever the day.
    pub today: NaiveDate,
    pub shape: Shape,
}

/// What was written, for the caller to compare with what the importer reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub rows: u64,
    /// Rows whose manufacturing start no assignment of the same product, laboratory and
    /// route covers: the importer warns about each of them.
    pub without_assignment: u64,
    /// Distinct donor codes.
    pub donors: u64,
    /// Rows per status, in [`BatchStatus::ALL`] order.
    pub by_status: [u64; 5],
}

/// One assignment as rows are made under it.
struct Slot<'n> {
    product: &'n Product,
    lab_code: &'n str,
    /// Position of the laboratory in the network file: keeps donor codes of different
    /// laboratories apart.
    lab_index: usize,
    route: AccessRoute,
    trial_id: Option<String>,
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
    /// The last day a row may start under it: its end, or `today`.
    last_day: NaiveDate,
    qa_names: Vec<&'n str>,
    profile: Profile,
}

/// How batches of one ATMP class look.
#[derive(Clone, Copy)]
struct Profile {
    /// Days from the start of manufacture to its end.
    duration_days: (i64, i64),
    /// Days from the collection of cells or tissue to the start of manufacture.
    lead_days: (i64, i64),
    /// Powers of ten of the cell count.
    cell_exponent: (u32, u32),
    /// Volume in tenths of a millilitre.
    volume_tenths: (u32, u32),
}

fn profile(class: AtmpClass) -> Profile {
    match class {
        // CAR-T: apheresis the day before, about ten days of transduction and expansion.
        AtmpClass::GeneTherapy => Profile {
            duration_days: (8, 14),
            lead_days: (0, 2),
            cell_exponent: (7, 8),
            volume_tenths: (200, 1000),
        },
        // Expanded mesenchymal and mononuclear cells.
        AtmpClass::SomaticCellTherapy => Profile {
            duration_days: (1, 35),
            lead_days: (0, 5),
            cell_exponent: (7, 8),
            volume_tenths: (50, 500),
        },
        // Artificial skin, cornea, cartilage: weeks of culture on a scaffold.
        AtmpClass::TissueEngineered | AtmpClass::Combined => Profile {
            duration_days: (14, 35),
            lead_days: (0, 7),
            cell_exponent: (6, 7),
            volume_tenths: (20, 400),
        },
    }
}

/// A row before it has text: what has to be decided with every other row in view.
#[derive(Clone, Copy)]
struct Plan {
    manufacturing_start: NaiveDate,
    /// Serial of the batch number within its laboratory and year.
    serial: u32,
    /// Index into the donors.
    donor: u32,
    slot: u16,
}

/// A donation (allogeneic) or a patient's own collection (autologous).
#[derive(Clone, Copy)]
struct Donor {
    collected: NaiveDate,
    /// Sequence within the laboratory and the year of collection.
    number: u32,
    lab_index: u16,
    /// A trial subject code (`SUJ-2021-0044`) rather than a DIN.
    pseudonym: bool,
}

/// A batch group still taking batches from its donor.
#[derive(Clone, Copy)]
struct OpenDonation {
    donor: u32,
    opened: NaiveDate,
    batches_left: u32,
}

/// Writes `options.rows` rows and a header to `out` (which should be buffered).
pub fn write_history<W: Write>(
    network: &Network,
    options: &Options,
    mut out: W,
) -> Result<Summary> {
    let mut slots = slots(network, options.today)?;
    if options.shape == Shape::Compact {
        // One laboratory: the first one any row can be made at.
        let first = slots.iter().map(|s| s.lab_index).min();
        slots.retain(|s| Some(s.lab_index) == first);
    }
    let mut rng = StdRng::seed_from_u64(options.seed);
    let (plans, donors) = plan(&slots, options.rows, options.shape, &mut rng)?;

    if options.spanish {
        out.write_all(b"\xEF\xBB\xBF")?;
    }
    let mut csv = csv::WriterBuilder::new()
        .delimiter(options.delimiter)
        .terminator(if options.spanish {
            csv::Terminator::CRLF
        } else {
            csv::Terminator::Any(b'\n')
        })
        .from_writer(out);
    csv.write_record(Column::ALL.iter().map(|c| c.as_str()))?;

    let mut summary = Summary {
        rows: options.rows,
        donors: donors.len() as u64,
        ..Summary::default()
    };
    let mut row = Row::default();
    for plan in &plans {
        let slot = &slots[usize::from(plan.slot)];
        let donor = &donors[plan.donor as usize];
        let status = row.fill(slot, plan, donor, options, &mut rng)?;
        csv.write_record(&row.fields)?;
        if !covered(&slots, slot, plan.manufacturing_start) {
            summary.without_assignment += 1;
        }
        if let Some(i) = BatchStatus::ALL.iter().position(|s| *s == status) {
            summary.by_status[i] += 1;
        }
    }
    csv.flush()?;
    Ok(summary)
}

/// The assignments rows can be made under, each with what its rows need.
fn slots(network: &Network, today: NaiveDate) -> Result<Vec<Slot<'_>>> {
    let mut slots = Vec::new();
    for a in &network.assignments {
        let product = network
            .product(&a.product_code)
            .with_context(|| format!("assignment of unknown product {}", a.product_code))?;
        let (lab_index, lab) = network
            .lab(&a.lab_code)
            .with_context(|| format!("assignment to unknown laboratory {}", a.lab_code))?;
        let last_day = a.valid_until.map_or(today, |until| until.min(today));
        if a.valid_from > last_day {
            continue; // not begun yet: nothing can have been made under it
        }
        let trial_id = (a.access_route == AccessRoute::ClinicalTrial).then(|| {
            a.authorisation_ref
                .as_deref()
                .filter(|r| TrialId::parse(r).is_ok())
                .map_or_else(
                    || made_up_trial_id(a.valid_from, lab.code.as_str()),
                    str::to_owned,
                )
        });
        slots.push(Slot {
            product,
            lab_code: lab.code.as_str(),
            lab_index,
            route: a.access_route,
            trial_id,
            valid_from: a.valid_from,
            valid_until: a.valid_until,
            last_day,
            qa_names: network.qa_names(&lab.code),
            profile: profile(product.atmp_class),
        });
    }
    if slots.is_empty() {
        bail!("the network has no assignment that began by {today}: no batch could be made");
    }
    if slots.len() > usize::from(u16::MAX) {
        bail!("the network has more than {} assignments", u16::MAX);
    }
    Ok(slots)
}

/// A well-formed EudraCT number for a trial whose authorisation reference is not one: the
/// importer checks the shape and the year, not the check digits.
fn made_up_trial_id(from: NaiveDate, lab: &str) -> String {
    let hash = lab.bytes().fold(2_166_136_261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    });
    format!(
        "{:04}-{:06}-{:02}",
        from.year(),
        hash % 1_000_000,
        hash % 97
    )
}

/// Whether some assignment of the row's product to its laboratory by its route covers `day`
/// (what the importer asks before warning).
fn covered(slots: &[Slot<'_>], slot: &Slot<'_>, day: NaiveDate) -> bool {
    slots.iter().any(|s| {
        s.product.code == slot.product.code
            && s.lab_code == slot.lab_code
            && s.route == slot.route
            && s.valid_from <= day
            && s.valid_until.is_none_or(|until| day <= until)
    })
}

fn add_days(day: NaiveDate, days: i64) -> NaiveDate {
    day.checked_add_signed(TimeDelta::days(days)).unwrap_or(day)
}

fn between(rng: &mut StdRng, (low, high): (i64, i64)) -> i64 {
    rng.random_range(low..=high)
}

/// Decides every row's assignment, start, batch number and donor; returns them shuffled
/// (the spread shape) or in the laboratory's order (the compact one).
fn plan(
    slots: &[Slot<'_>],
    rows: u64,
    shape: Shape,
    rng: &mut StdRng,
) -> Result<(Vec<Plan>, Vec<Donor>)> {
    let rows = usize::try_from(rows).context("too many rows for this machine")?;
    // Rows spread over the assignments by how long each has run, so a laboratory's output
    // per year is steady rather than piled on its newest product.
    let spans: Vec<i64> = slots
        .iter()
        .map(|s| (s.last_day - s.valid_from).num_days())
        .collect();
    let choose = WeightedIndex::new(spans.iter().map(|d| d + 1))?;
    let mut plans = Vec::with_capacity(rows);
    for _ in 0..rows {
        let index = choose.sample(rng);
        let slot = &slots[index];
        let manufacturing_start = if rng.random_bool(EARLY_SHARE) {
            add_days(slot.valid_from, -rng.random_range(1..=EARLY_DAYS))
        } else {
            add_days(slot.valid_from, rng.random_range(0..=spans[index]))
        };
        plans.push(Plan {
            manufacturing_start,
            serial: 0,
            donor: 0,
            // `slots` checked there are at most u16::MAX.
            slot: u16::try_from(index)?,
        });
    }

    // In date order per laboratory: numbers as the laboratory issued them, and batches of
    // one donation next to each other.
    plans.sort_unstable_by_key(|p| {
        (
            slots[usize::from(p.slot)].lab_index,
            p.manufacturing_start,
            p.slot,
        )
    });
    let mut donors: Vec<Donor> = Vec::new();
    let mut open: Vec<Option<OpenDonation>> = vec![None; slots.len()];
    let mut donor_numbers: HashMap<(usize, i32), u32> = HashMap::new();
    let mut numbering: Option<(usize, i32)> = None;
    let mut serial = 0u32;
    for plan in &mut plans {
        let slot = &slots[usize::from(plan.slot)];
        let lab_year = (slot.lab_index, plan.manufacturing_start.year());
        if numbering != Some(lab_year) {
            numbering = Some(lab_year);
            serial = 0;
        }
        serial += 1;
        plan.serial = serial;

        let donation = &mut open[usize::from(plan.slot)];
        let current = donation.filter(|d| {
            d.batches_left > 0
                && (plan.manufacturing_start - d.opened).num_days() <= DONATION_WINDOW_DAYS
        });
        plan.donor = match current {
            Some(d) => {
                *donation = Some(OpenDonation {
                    batches_left: d.batches_left - 1,
                    ..d
                });
                d.donor
            }
            None => {
                let collected = add_days(
                    plan.manufacturing_start,
                    -between(rng, slot.profile.lead_days),
                );
                let number = donor_numbers
                    .entry((slot.lab_index, collected.year()))
                    .or_insert(0);
                let autologous = slot.product.origin == Origin::Autologous;
                let pseudonym_share = match (autologous, slot.route) {
                    // Trials often know their patients only by subject code.
                    (true, AccessRoute::ClinicalTrial) => 0.3,
                    _ => 0.05,
                };
                donors.push(Donor {
                    collected,
                    number: *number,
                    lab_index: u16::try_from(slot.lab_index)?,
                    pseudonym: rng.random_bool(pseudonym_share),
                });
                *number += 1;
                // An autologous collection is one batch, sometimes remade once; an
                // allogeneic donation is expanded into several.
                let batches = if autologous {
                    1 + u32::from(rng.random_bool(0.05))
                } else {
                    rng.random_range(1..=5)
                };
                let donor = u32::try_from(donors.len() - 1)?;
                *donation = Some(OpenDonation {
                    donor,
                    opened: plan.manufacturing_start,
                    batches_left: batches - 1,
                });
                donor
            }
        };
    }
    if shape == Shape::Spread {
        plans.shuffle(rng);
    }
    Ok((plans, donors))
}

/// Three-letter prefixes of trial subject codes, one per laboratory.
const PSEUDONYM_PREFIXES: [&str; 10] = [
    "SUJ", "PAC", "ENS", "DON", "RCP", "SBJ", "CEL", "TRC", "INV", "HSP",
];

/// Who released batches before Traza, when today's QA staff were not yet there.
const FORMER_QPS: [&str; 6] = [
    "Dra. Rosario Jiménez Alba",
    "Dr. Antonio Vázquez Gil",
    "Dra. Carmen Ruiz Ortega",
    "Dr. Francisco Javier López Arenas",
    "Dra. María Ángeles Torres Ibáñez",
    "Dr. Íñigo Peña Luque",
];

const HOSPITALS: [&str; 5] = [
    "H. U. Virgen de las Nieves",
    "H. U. Virgen del Rocío",
    "H. U. Reina Sofía",
    "H. R. U. de Málaga",
    "H. U. Virgen Macarena",
];

/// The text of one row, its buffers reused from row to row.
#[derive(Default)]
struct Row {
    fields: [String; COLUMN_COUNT],
}

impl Row {
    fn field(&mut self, column: Column) -> &mut String {
        &mut self.fields[column.index()]
    }

    /// Makes the row's text; returns its status.
    fn fill(
        &mut self,
        slot: &Slot<'_>,
        plan: &Plan,
        donor: &Donor,
        options: &Options,
        rng: &mut StdRng,
    ) -> Result<BatchStatus> {
        for f in &mut self.fields {
            f.clear();
        }
        let spanish = options.spanish;
        let product = slot.product;
        let start = plan.manufacturing_start;
        let autologous = product.origin == Origin::Autologous;

        let compact = options.shape == Shape::Compact;
        if compact {
            compact::batch_number(self.field(Column::BatchNumber), start, plan.serial);
        } else {
            write!(
                self.field(Column::BatchNumber),
                "{}-{:04}-{:05}",
                slot.lab_code,
                start.year(),
                plan.serial
            )?;
        }
        self.field(Column::ProductCode)
            .push_str(product.code.as_str());
        self.field(Column::LabCode).push_str(slot.lab_code);
        self.field(Column::Origin)
            .push_str(origin_word(product.origin, spanish));
        if compact {
            compact::donor_code(self.field(Column::DonorCode), donor);
        } else {
            donor_code(self.field(Column::DonorCode), donor)?;
        }
        if autologous {
            // The chain of identity: an autologous batch's one patient is its donor.
            let (left, right) = self.fields.split_at_mut(Column::PatientCode.index());
            right[0].push_str(&left[Column::DonorCode.index()]);
        }
        // Old paper records do not always carry the collection date.
        if !rng.random_bool(0.03) {
            push_date(self.field(Column::CollectionDate), donor.collected, spanish);
        }
        push_date(self.field(Column::ManufacturingStart), start, spanish);

        let end = add_days(start, between(rng, slot.profile.duration_days));
        let shelf_life = i64::from(product.shelf_life_days);
        let release = add_days(end, rng.random_range(0..=shelf_life.clamp(0, 3)));
        let status = if end > options.today || rng.random_bool(0.005) {
            // Still being made, or a record left open in the old system.
            BatchStatus::InProduction
        } else if release > options.today {
            BatchStatus::Quarantine
        } else {
            match rng.random_range(0..1000) {
                0..40 => BatchStatus::Rejected,
                40..55 => BatchStatus::Quarantine,
                n if n < if autologous { 870 } else { 640 } => BatchStatus::Administered,
                _ => BatchStatus::Released,
            }
        };
        // A batch rejected in production never reached its end.
        let ended = match status {
            BatchStatus::InProduction => false,
            BatchStatus::Rejected => rng.random_bool(0.7),
            _ => true,
        };
        if ended {
            push_date(self.field(Column::ManufacturingEnd), end, spanish);
            if status != BatchStatus::Rejected && rng.random_bool(0.7) {
                // Left empty, the importer derives it from the shelf life.
                push_date(
                    self.field(Column::ExpiryDate),
                    add_days(end, shelf_life),
                    spanish,
                );
            }
        }
        self.field(Column::Status)
            .push_str(status_word(status, spanish));

        if !rng.random_bool(0.05) {
            let mantissa = rng.random_range(100..=999);
            let exponent =
                rng.random_range(slot.profile.cell_exponent.0..=slot.profile.cell_exponent.1);
            let scientific = rng.random_bool(0.5);
            let grouped = rng.random_bool(0.5);
            push_cell_count(
                self.field(Column::CellCount),
                mantissa,
                exponent,
                scientific,
                spanish,
                grouped,
            );
        }
        if !rng.random_bool(0.05) {
            push_tenths(
                self.field(Column::ViabilityPercent),
                rng.random_range(700..=990),
                spanish,
            );
        }
        let (low, high) = slot.profile.volume_tenths;
        push_tenths(
            self.field(Column::VolumeMl),
            rng.random_range(low..=high),
            spanish,
        );
        let doses: u32 = if autologous {
            1
        } else {
            rng.random_range(1..=8)
        };
        write!(self.field(Column::Doses), "{doses}")?;

        if matches!(status, BatchStatus::Released | BatchStatus::Administered) {
            let name = match slot.qa_names.as_slice() {
                [] => FORMER_QPS[rng.random_range(0..FORMER_QPS.len())],
                current if rng.random_bool(0.6) => current[rng.random_range(0..current.len())],
                _ => FORMER_QPS[rng.random_range(0..FORMER_QPS.len())],
            };
            self.field(Column::ReleasedBy).push_str(name);
            push_date(self.field(Column::ReleaseDate), release, spanish);
        }
        self.field(Column::AccessRoute)
            .push_str(route_word(slot.route, spanish));
        if let Some(trial) = &slot.trial_id {
            self.field(Column::TrialId).push_str(trial);
        }
        if compact {
            compact::note(self.field(Column::Notes), rng);
        } else {
            note(self.field(Column::Notes), start, doses, autologous, rng)?;
        }
        Ok(status)
    }
}

/// An ISBT 128 DIN with its check character (`E104726000123` and `7`), or a trial subject
/// code. Unique: the facility is the laboratory's (and the next one after a million
/// collections in a year), the year is the collection's, and the six-digit serial a
/// bijection of the donor's sequence number, so codes do not follow the batch numbers.
fn donor_code(out: &mut String, donor: &Donor) -> Result<()> {
    let year = donor.collected.year();
    let lab = usize::from(donor.lab_index);
    if donor.pseudonym {
        let prefix = PSEUDONYM_PREFIXES[lab % PSEUDONYM_PREFIXES.len()];
        // Two laboratories share a prefix only in networks of more than ten; their lab
        // position keeps the codes apart.
        let round = lab / PSEUDONYM_PREFIXES.len();
        if round > 0 {
            write!(out, "{prefix}{round}-{year:04}-{:04}", donor.number + 1)?;
        } else {
            write!(out, "{prefix}-{year:04}-{:04}", donor.number + 1)?;
        }
        return Ok(());
    }
    // Facility identification numbers are a letter and four digits, 37 apart per laboratory
    // so that a laboratory's overflow facilities (one per million collections in a year)
    // never reach the next laboratory's.
    let overflow = donor.number / DIN_SERIALS;
    let facility = 1000 + 37 * lab + overflow as usize;
    if overflow >= 37 || facility > 9999 {
        bail!("too many laboratories or donations for distinct DIN facility numbers");
    }
    // 7,919 is a prime other than 2 and 5, so coprime with 10^6: x -> (7,919 x + salt) mod
    // 10^6 is a bijection of the six-digit serials, and the salt varies it per laboratory
    // and year.
    let salt = (u32::from(donor.lab_index) * 7_919 + year.unsigned_abs() * 104_729) % DIN_SERIALS;
    let serial = ((u64::from(donor.number % DIN_SERIALS) * 7_919 + u64::from(salt))
        % u64::from(DIN_SERIALS)) as u32;
    let start = out.len();
    write!(out, "E{facility:04}{:02}{serial:06}", year.rem_euclid(100))?;
    let check = mod37_2_check_character(&out[start..])?;
    out.push(check);
    Ok(())
}

fn origin_word(origin: Origin, spanish: bool) -> &'static str {
    match (origin, spanish) {
        (Origin::Autologous, true) => "autólogo",
        (Origin::Allogeneic, true) => "alogénico",
        (o, false) => o.as_str(),
    }
}

fn status_word(status: BatchStatus, spanish: bool) -> &'static str {
    match (status, spanish) {
        (BatchStatus::InProduction, true) => "en producción",
        (BatchStatus::Quarantine, true) => "cuarentena",
        (BatchStatus::Released, true) => "liberado",
        (BatchStatus::Rejected, true) => "rechazado",
        (BatchStatus::Administered, true) => "administrado",
        (s, false) => s.as_str(),
    }
}

fn route_word(route: AccessRoute, spanish: bool) -> &'static str {
    match (route, spanish) {
        (AccessRoute::ClinicalTrial, true) => "ensayo clínico",
        (AccessRoute::CompassionateUse, true) => "uso compasivo",
        (AccessRoute::HospitalExemption, true) => "exención hospitalaria",
        (r, false) => r.as_str(),
    }
}

/// Appends `value` zero-padded to `width` digits, without going through `fmt`.
fn push_digits(out: &mut String, value: u32, width: usize) {
    let mut digits = [b'0'; 10];
    let mut n = value;
    let mut len = 0;
    while n > 0 || len == 0 {
        digits[len] = b'0' + (n % 10) as u8;
        n /= 10;
        len += 1;
    }
    for _ in len..width {
        out.push('0');
    }
    for &d in digits[..len].iter().rev() {
        out.push(char::from(d));
    }
}

/// `2019-03-07`, or day first as Spanish Excel writes it: `07/03/2019`.
fn push_date(out: &mut String, day: NaiveDate, spanish: bool) {
    let year = u32::try_from(day.year()).unwrap_or(0);
    if spanish {
        push_digits(out, day.day(), 2);
        out.push('/');
        push_digits(out, day.month(), 2);
        out.push('/');
        push_digits(out, year, 4);
    } else {
        push_digits(out, year, 4);
        out.push('-');
        push_digits(out, day.month(), 2);
        out.push('-');
        push_digits(out, day.day(), 2);
    }
}

/// A value with one decimal given in tenths (`92.5`, `92,5`); whole values without one.
fn push_tenths(out: &mut String, tenths: u32, spanish: bool) {
    push_digits(out, tenths / 10, 1);
    if !tenths.is_multiple_of(10) {
        out.push(if spanish { ',' } else { '.' });
        push_digits(out, tenths % 10, 1);
    }
}

/// `mantissa` × 10^(`exponent` − 2), with `mantissa` of three digits: as Excel's scientific
/// format (`1.25E+08`, `1,25E+08`) or in full (`125000000`, in Spanish sometimes grouped
/// `125.000.000`). Full values have at least seven digits, so a grouped one always has two
/// dots and never reads as a decimal point.
fn push_cell_count(
    out: &mut String,
    mantissa: u32,
    exponent: u32,
    scientific: bool,
    spanish: bool,
    grouped: bool,
) {
    if scientific {
        push_digits(out, mantissa / 100, 1);
        out.push(if spanish { ',' } else { '.' });
        push_digits(out, mantissa % 100, 2);
        out.push_str("E+");
        push_digits(out, exponent, 2);
        return;
    }
    let total = exponent as usize + 1;
    for i in 0..total {
        if spanish && grouped && i > 0 && (total - i).is_multiple_of(3) {
            out.push('.');
        }
        let digit = match i {
            0 => mantissa / 100,
            1 => mantissa / 10 % 10,
            2 => mantissa % 10,
            _ => 0,
        };
        out.push(char::from(b'0' + digit as u8));
    }
}

/// Free text as laboratories type it: often nothing, sometimes with the delimiter, quotes or
/// a line break inside (the CSV writer quotes what needs it).
fn note(
    out: &mut String,
    start: NaiveDate,
    doses: u32,
    autologous: bool,
    rng: &mut StdRng,
) -> Result<()> {
    let year = start.year();
    match rng.random_range(0..100) {
        0..40 => {}
        40..55 => out.push_str("Sin incidencias"),
        55..63 => out.push_str("Esterilidad, endotoxinas y micoplasma conformes"),
        63..70 => write!(
            out,
            "Desviación menor DV-{year}-{:03} cerrada; sin impacto en la calidad del lote",
            rng.random_range(1..=250)
        )?,
        70..76 => out.push_str("Micoplasma \"negativo\" por PCR en el control intermedio"),
        76..82 => write!(
            out,
            "Enviado a {} en contenedor validado, entre 2 y 8 °C",
            HOSPITALS[rng.random_range(0..HOSPITALS.len())]
        )?,
        82..88 if !autologous => write!(out, "Donante sano, lote para {doses} pacientes")?,
        82..88 => write!(
            out,
            "Recepción de la muestra a las {:02}:{:02}, transporte dentro de especificación",
            rng.random_range(8..=20),
            rng.random_range(0..60)
        )?,
        88..95 => out.push_str("Liberación retrasada: \"esterilidad\" repetida, conforme"),
        95..98 => write!(
            out,
            "Cambio de lote de medio de cultivo (ref. {}), sin impacto",
            rng.random_range(10_000..=99_999)
        )?,
        _ => out.push_str("Observaciones del QP:\nrevisado el registro de lote completo"),
    }
    Ok(())
}

#[path = "history_compact.rs"]
mod compact;
pub use compact::Shape;

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
