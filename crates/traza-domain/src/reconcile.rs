//! Reconciling stored rows with the audit events that made them (SPEC §2 "Audit trail":
//! tamper evidence). The chain proves the trail was not changed; this proves the rows were not
//! changed behind it: a row must equal the state its events give, and no such row may exist
//! without its events.
//!
//! Covered: laboratories, products and every version of their specifications, assignments,
//! batches (every user-stated field and the status), their QC results, signatures (and the
//! record each one signed, rehashed), administrations, deviations, manufacturing events, holds
//! and adverse reactions, and users (name, role, active, laboratories, and a keyed digest of
//! the password hash). Rows of imported history are checked against the digests their import's event
//! carries, a digest per [`ImportDigest::ROWS_PER_DIGEST`] rows in the order they were made.
//! SPEC §8: the catalogue of materials, each material lot (its quantities and status; a lot's
//! events carry it whole under `lot`), the signatures that released or rejected lots (their
//! records rehashed, [`crate::materials::check_lot_signed_record`]), equipment and rooms (keyed
//! `LAB/ID`).

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::audit::AuditEvent;
use crate::audit_key::{ChainKey, keyed_digest};
use crate::signing::check_signed_record;

/// The GMP tables reconciled, as named in a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    Batches,
    QcResults,
    Signatures,
    Administrations,
    Deviations,
    BatchEvents,
    Holds,
    Reactions,
    Users,
    Labs,
    Products,
    Specifications,
    Assignments,
    Materials,
    MaterialLots,
    LotSignatures,
    Equipment,
    Rooms,
    MasterRecords,
    BatchGuides,
    StepEntries,
    BatchExceptions,
}

impl Table {
    pub fn as_str(self) -> &'static str {
        match self {
            Table::Batches => "batches",
            Table::QcResults => "qc_results",
            Table::Signatures => "signatures",
            Table::Administrations => "administrations",
            Table::Deviations => "deviations",
            Table::BatchEvents => "batch_events",
            Table::Holds => "holds",
            Table::Reactions => "reactions",
            Table::Users => "users",
            Table::Labs => "labs",
            Table::Products => "products",
            Table::Specifications => "product_specifications",
            Table::Assignments => "assignments",
            Table::Materials => "materials",
            Table::MaterialLots => "material_lots",
            Table::LotSignatures => "lot_signatures",
            Table::Equipment => "equipment",
            Table::Rooms => "rooms",
            Table::MasterRecords => "master_records",
            Table::BatchGuides => "batch_guides",
            Table::StepEntries => "step_entries",
            Table::BatchExceptions => "batch_exceptions",
        }
    }

    /// The columns compared: what a person stated or signed, and what the rules decided.
    /// (Versions and timestamps of bookkeeping are left out: they move with every record.)
    fn columns(self) -> &'static [&'static str] {
        match self {
            Table::Batches => &[
                "batch_number",
                "product_code",
                "lab_code",
                "origin",
                "access_route",
                "trial_id",
                "donor_code",
                "patient_code",
                "collection_date",
                "manufacturing_start",
                "manufacturing_end",
                "expiry_date",
                "cell_count",
                "viability_percent",
                "volume_ml",
                "doses",
                "status",
                "released_by",
                "release_date",
                "notes",
            ],
            Table::QcResults => &[
                "test",
                "value",
                "unit",
                "outcome",
                "supersedes",
                "reason",
                "recorded_by",
            ],
            Table::Signatures => &[
                "signer",
                "signer_full_name",
                "meaning",
                "record_hash",
                "reason",
            ],
            Table::Administrations => {
                &["patient_code", "administered_on", "hospital", "recorded_by"]
            }
            Table::Deviations => &[
                "description",
                "severity",
                "status",
                "opened_by",
                "resolution",
                "closed_by",
            ],
            Table::BatchEvents => &["step", "note", "recorded_by"],
            Table::Holds => &[
                "reason",
                "placed_by",
                "reaction_id",
                "lifted_by",
                "lift_reason",
            ],
            Table::Reactions => &[
                "administration_id",
                "severity",
                "imputability",
                "description",
                "status",
                "reported_by",
                "conclusion",
                "closed_by",
            ],
            Table::Users => &["full_name", "role", "active", "labs"],
            Table::Labs => &[
                "code",
                "name",
                "city",
                "province",
                "institution",
                "authorisation_number",
                "gmp_certificate_valid_until",
                "status",
                "training_only",
                "specialisations",
                "capacity_per_month",
            ],
            Table::Products => &[
                "code",
                "name",
                "atmp_class",
                "origin",
                "access_routes",
                "shelf_life_days",
                "status",
                "spec_version",
                "indications",
                "keywords",
            ],
            Table::Specifications => &["tests"],
            Table::Assignments => &[
                "product_code",
                "lab_code",
                "access_route",
                "authorisation_ref",
                "valid_from",
                "valid_until",
                "reason",
                "assigned_by",
            ],
            Table::Materials => &["code", "name", "kind", "unit"],
            Table::MaterialLots => &[
                "lot_id",
                "lab_code",
                "material_code",
                "supplier",
                "supplier_lot",
                "received_on",
                "expiry_date",
                "quantity_received",
                "quantity_consumed",
                "status",
            ],
            Table::LotSignatures => &[
                "lot_id",
                "signer",
                "signer_full_name",
                "meaning",
                "record_hash",
                "reason",
            ],
            Table::Equipment => &["lab_code", "id", "class", "status", "calibration_due"],
            Table::Rooms => &["lab_code", "id", "grade"],
            Table::MasterRecords => &[
                "product_code",
                "lab_code",
                "version",
                "steps",
                "author",
                "approved_by",
                "effective_from",
                "approval_hash",
            ],
            Table::BatchGuides => &["batch_id", "mbr_id"],
            Table::StepEntries => &[
                "step_code",
                "performed_by",
                "room_id",
                "equipment_ids",
                "parameters",
                "materials",
                "note",
                "corrects",
                "reason",
                "verified_by",
            ],
            Table::BatchExceptions => &[
                "entry_id",
                "kind",
                "severity",
                "step_code",
                "message",
                "status",
                "deviation_id",
                "resolved_by",
                "resolution",
            ],
        }
    }
}

/// The first difference between a row and its events.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{table} {key}: {problem}")]
pub struct Mismatch {
    pub table: &'static str,
    pub key: String,
    pub column: Option<&'static str>,
    pub problem: String,
}

/// What an import's event says of the rows it made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportExpectation {
    /// The import's event: its key made the digests.
    pub event_id: i64,
    pub rows: u64,
    pub rows_per_digest: usize,
    pub digests: Vec<String>,
}

/// How an import's rows are covered by its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportCover<'a> {
    /// Row by row, through the digests its event carries.
    Digests(&'a ImportExpectation),
    /// By file hash and counts only: an import made before events carried digests.
    Counts,
    /// Not at all: no import event has this id (rows claiming it were inserted by SQL).
    NoEvent,
}

/// The state of each row as its events give it, built from the trail in chain order.
#[derive(Default)]
pub struct Reconciler {
    expected: HashMap<(Table, String), Value>,
    /// The state an imported batch had before its first change in Traza: what its import's
    /// digest covers.
    imported_state: HashMap<String, Value>,
    /// Imports whose event carries row digests.
    imports: HashMap<i64, ImportExpectation>,
    /// Every import that has its event (older ones carry no row digests).
    import_events: HashSet<i64>,
    /// Per user: the password-hash digest last recorded, and the event that recorded it.
    passwords: HashMap<String, (String, i64)>,
    /// The first signature whose event's record does not hash to its record hash.
    unsigned_record: Option<Mismatch>,
}

impl Reconciler {
    /// Takes in one verified event.
    pub fn observe(&mut self, e: &AuditEvent) {
        let Some(after) = &e.after else { return };
        let key = e.entity_key.clone();
        match e.entity_type.as_str() {
            "user" => {
                if matches!(
                    e.action.as_str(),
                    "user.create" | "user.update" | "user.password_change"
                ) {
                    if let Some(d) = after.get("password_digest").and_then(Value::as_str) {
                        self.passwords.insert(key.clone(), (d.to_owned(), e.id));
                    }
                    if e.action != "user.password_change" {
                        self.expected.insert((Table::Users, key), after.clone());
                    }
                }
                return;
            }
            "lab" => {
                self.expected.insert((Table::Labs, key), after.clone());
                return;
            }
            "product" => {
                if let (Some(spec), Some(version)) =
                    (after.get("specification"), after.get("spec_version"))
                {
                    self.expected.insert(
                        (Table::Specifications, spec_key(&key, version)),
                        serde_json::json!({ "tests": spec }),
                    );
                }
                self.expected.insert((Table::Products, key), after.clone());
                return;
            }
            "assignment" => {
                self.expected
                    .insert((Table::Assignments, key), after.clone());
                return;
            }
            "master_record" => {
                self.expected
                    .insert((Table::MasterRecords, key), after.clone());
                return;
            }
            // SPEC §8: the catalogue, each lot (its events carry it whole, beside the
            // signature or the batch that moved it), equipment and rooms.
            "material" => {
                self.expected.insert((Table::Materials, key), after.clone());
                return;
            }
            "material_lot" => {
                self.lot_signature(&key, after.get("signature"), after.get("record"));
                let lot = after.get("lot").unwrap_or(after);
                self.expected
                    .insert((Table::MaterialLots, key), lot.clone());
                return;
            }
            "equipment" => {
                self.expected.insert((Table::Equipment, key), after.clone());
                return;
            }
            "room" => {
                self.expected.insert((Table::Rooms, key), after.clone());
                return;
            }
            "import" => {
                if let Ok(id) = key.parse::<i64>() {
                    self.import_events.insert(id);
                    if let Some(d) = after.get("row_digests")
                        && let Some(x) = import_expectation(e.id, d)
                    {
                        self.imports.insert(id, x);
                    }
                }
                return;
            }
            "batch" => {}
            _ => return,
        }
        // A change to a batch that no `batch.create` made (imported history): its state
        // before is what the import made.
        if matches!(
            e.action.as_str(),
            "batch.complete"
                | "batch.correct"
                | "batch.release"
                | "batch.reject"
                | "batch.administer"
        ) && !self.knows(Table::Batches, &key)
            && let Some(before) = &e.before
        {
            self.imported_state.insert(key.clone(), before.clone());
            self.expected
                .insert((Table::Batches, key.clone()), before.clone());
        }
        match e.action.as_str() {
            "batch.create" | "batch.complete" | "batch.correct" => {
                self.expected.insert((Table::Batches, key), after.clone());
            }
            "batch.release" | "batch.reject" | "batch.confirm_history" => {
                self.signature(&key, after.get("signature"), after.get("record"));
                if let Some(b) = after.get("batch") {
                    self.expected.insert((Table::Batches, key), b.clone());
                }
            }
            "batch.qc_result" => self.row(Table::QcResults, Some(after)),
            "batch.deviation_open" | "batch.deviation_close" => {
                self.row(Table::Deviations, Some(after))
            }
            "batch.event" => self.row(Table::BatchEvents, Some(after)),
            "batch.guide" => self.row(Table::BatchGuides, Some(after)),
            "batch.step" | "batch.step_verify" => self.row(Table::StepEntries, Some(after)),
            "batch.exception" | "batch.exception_resolve" => {
                self.row(Table::BatchExceptions, Some(after))
            }
            "batch.hold_place" | "batch.hold_lift" => self.row(Table::Holds, Some(after)),
            "batch.reaction_report" => self.row(Table::Reactions, after.get("reaction")),
            "batch.reaction_close" => self.row(Table::Reactions, Some(after)),
            "batch.administer" => {
                self.row(Table::Administrations, after.get("administration"));
                if let (Some(status), Some(batch)) = (
                    after.get("status"),
                    self.expected.get_mut(&(Table::Batches, key)),
                ) && let Some(obj) = batch.as_object_mut()
                {
                    obj.insert("status".into(), status.clone());
                }
            }
            _ => {}
        }
    }

    /// A signature, and the record it signed: the record must hash to its record hash and,
    /// for a manifest, name the signature's signer, meaning, time and batch
    /// ([`crate::signing::check_signed_record`]).
    fn signature(&mut self, batch_number: &str, signature: Option<&Value>, record: Option<&Value>) {
        self.row(Table::Signatures, signature);
        let (Some(sig), Some(Value::String(record))) = (signature, record) else {
            return;
        };
        if self.unsigned_record.is_some() {
            return;
        }
        if let Err(problem) = check_signed_record(sig, record, batch_number) {
            self.unsigned_record = Some(Mismatch {
                table: Table::Signatures.as_str(),
                key: sig.get("id").map(|v| v.to_string()).unwrap_or_default(),
                column: Some("record_hash"),
                problem: problem.to_string(),
            });
        }
    }

    /// A lot's disposition signature, and the record it signed
    /// ([`crate::materials::check_lot_signed_record`]).
    fn lot_signature(&mut self, lot_id: &str, signature: Option<&Value>, record: Option<&Value>) {
        self.row(Table::LotSignatures, signature);
        let (Some(sig), Some(Value::String(record))) = (signature, record) else {
            return;
        };
        if self.unsigned_record.is_some() {
            return;
        }
        if let Err(problem) = crate::materials::check_lot_signed_record(sig, record, lot_id) {
            self.unsigned_record = Some(Mismatch {
                table: Table::LotSignatures.as_str(),
                key: sig.get("id").map(|v| v.to_string()).unwrap_or_default(),
                column: Some("record_hash"),
                problem: problem.to_string(),
            });
        }
    }

    /// A signature whose record does not hash to its record hash, if any.
    pub fn unsigned_record(&self) -> Option<&Mismatch> {
        self.unsigned_record.as_ref()
    }

    /// The password-hash digest a user's events last recorded, and that event's id (whose
    /// key made the digest).
    pub fn password_digest(&self, username: &str) -> Option<(&str, i64)> {
        self.passwords
            .get(username)
            .map(|(d, id)| (d.as_str(), *id))
    }

    /// The state an imported batch had before its first change in Traza.
    pub fn imported_state(&self, number: &str) -> Option<&Value> {
        self.imported_state.get(number)
    }

    /// What the event of import `id` says of its rows.
    pub fn import(&self, id: i64) -> ImportCover<'_> {
        match self.imports.get(&id) {
            Some(x) => ImportCover::Digests(x),
            None if self.import_events.contains(&id) => ImportCover::Counts,
            None => ImportCover::NoEvent,
        }
    }

    /// The imports whose events carry digests.
    pub fn imports(&self) -> impl Iterator<Item = (i64, &ImportExpectation)> {
        self.imports.iter().map(|(id, x)| (*id, x))
    }

    fn row(&mut self, table: Table, v: Option<&Value>) {
        if let Some(v) = v
            && let Some(id) = v.get("id").and_then(Value::as_i64)
        {
            self.expected.insert((table, id.to_string()), v.clone());
        }
    }

    /// Whether a row of `table` with `key` was made by an event this reconciler saw.
    pub fn knows(&self, table: Table, key: &str) -> bool {
        self.expected.contains_key(&(table, key.to_owned()))
    }

    /// Compares a stored row (as JSON with the columns' names) with its events' state.
    pub fn check(&self, table: Table, key: &str, stored: &Value) -> Result<(), Mismatch> {
        let Some(expected) = self.expected.get(&(table, key.to_owned())) else {
            return Err(Mismatch {
                table: table.as_str(),
                key: key.to_owned(),
                column: None,
                problem: "the row has no audit event that made it (inserted outside Traza)".into(),
            });
        };
        for &column in table.columns() {
            let want = normalised(expected.get(column));
            let got = normalised(stored.get(column));
            if want != got {
                return Err(Mismatch {
                    table: table.as_str(),
                    key: key.to_owned(),
                    column: Some(column),
                    problem: format!(
                        "column {column} is {got} but its audit events say {want} (changed outside Traza)"
                    ),
                });
            }
        }
        Ok(())
    }
}

impl Reconciler {
    /// A row its events made that is no longer stored (`seen`: the keys of `table` found).
    pub fn first_missing(
        &self,
        table: Table,
        seen: &std::collections::HashSet<String>,
    ) -> Option<Mismatch> {
        let mut missing: Vec<&String> = self
            .expected
            .keys()
            .filter(|(t, key)| *t == table && !seen.contains(key))
            .map(|(_, key)| key)
            .collect();
        missing.sort();
        missing.first().map(|key| Mismatch {
            table: table.as_str(),
            key: (*key).clone(),
            column: None,
            problem: "its audit events made this row, and it is gone (deleted outside Traza)"
                .into(),
        })
    }
}

/// The key of one specification version in a report: `CODE v3`.
fn spec_key(code: &str, version: &Value) -> String {
    format!("{code} v{}", normalised(Some(version)))
}

/// The key of specification `version` of product `code`, as [`Reconciler`] names it.
pub fn specification_key(code: &str, version: i64) -> String {
    format!("{code} v{version}")
}

fn import_expectation(event_id: i64, d: &Value) -> Option<ImportExpectation> {
    Some(ImportExpectation {
        event_id,
        rows: d.get("rows")?.as_u64()?,
        rows_per_digest: usize::try_from(d.get("rows_per_digest")?.as_u64()?).ok()?,
        digests: d
            .get("digests")?
            .as_array()?
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<_>>()?,
    })
}

/// A row of `table` as the text its digest covers: `column=value` lines in the table's
/// column order, each value as [`Reconciler::check`] compares it.
pub fn canonical_row(table: Table, row: &Value) -> String {
    let mut out = String::with_capacity(256);
    for &c in table.columns() {
        out.push_str(c);
        out.push('=');
        out.push_str(&normalised(row.get(c)));
        out.push('\n');
    }
    out
}

/// The same text from the stored texts of the table's columns, in its column order (what an
/// import writes): equal to [`canonical_row`] of the row read back.
pub fn canonical_texts(table: Table, values: &[Option<&str>]) -> String {
    let mut out = String::with_capacity(256);
    for (&c, v) in table.columns().iter().zip(values) {
        out.push_str(c);
        out.push('=');
        out.push_str(&normalised_text(*v));
        out.push('\n');
    }
    out
}

/// The digests of the rows one import makes, a digest per [`Self::ROWS_PER_DIGEST`] rows in
/// the order they are made: memory stays flat however long the file, and a difference is
/// named to within that many rows.
pub struct ImportDigest {
    key: Option<ChainKey>,
    buffer: Vec<u8>,
    in_chunk: usize,
    rows: u64,
    digests: Vec<String>,
}

impl ImportDigest {
    pub const ROWS_PER_DIGEST: usize = 1000;

    /// Digests keyed with `key` (the key of the import's event), plain on an unkeyed trail.
    pub fn new(key: Option<ChainKey>) -> Self {
        Self {
            key,
            buffer: Vec::new(),
            in_chunk: 0,
            rows: 0,
            digests: Vec::new(),
        }
    }

    /// Takes in the next row made, as [`canonical_row`] or [`canonical_texts`] gives it.
    pub fn push(&mut self, canonical: &str) {
        self.buffer.extend_from_slice(canonical.as_bytes());
        self.buffer.push(0x1e);
        self.in_chunk += 1;
        self.rows += 1;
        if self.in_chunk == Self::ROWS_PER_DIGEST {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.in_chunk > 0 {
            self.digests
                .push(keyed_digest(self.key.as_ref(), &self.buffer));
            self.buffer.clear();
            self.in_chunk = 0;
        }
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The digests so far, the last (partial) chunk included.
    pub fn finish(mut self) -> (u64, Vec<String>) {
        self.flush();
        (self.rows, self.digests)
    }

    /// What the import's event carries.
    pub fn to_json(rows: u64, digests: &[String]) -> Value {
        serde_json::json!({
            "rows": rows,
            "rows_per_digest": Self::ROWS_PER_DIGEST,
            "digests": digests,
        })
    }
}

/// Compares what the rows of import `import_id` digest to now with what its event says.
/// `first_numbers[i]` is the first batch number of chunk `i` as found.
pub fn check_import(
    import_id: i64,
    expected: &ImportExpectation,
    rows: u64,
    digests: &[String],
    first_numbers: &[String],
) -> Result<(), Mismatch> {
    let per = expected.rows_per_digest.max(1);
    let differing = expected
        .digests
        .iter()
        .zip(digests)
        .position(|(a, b)| a != b)
        .or_else(|| {
            (expected.digests.len() != digests.len())
                .then(|| expected.digests.len().min(digests.len()))
        });
    if rows == expected.rows && differing.is_none() {
        return Ok(());
    }
    let chunk = differing.unwrap_or(0);
    let from = chunk * per + 1;
    let key = first_numbers
        .get(chunk)
        .cloned()
        .unwrap_or_else(|| format!("import {import_id}"));
    Err(Mismatch {
        table: Table::Batches.as_str(),
        key,
        column: None,
        problem: format!(
            "import {import_id} made {} rows and {rows} are found; its rows {from}\u{2013}{} differ from the digest its event holds (a row was changed, added or deleted outside Traza)",
            expected.rows,
            from + per - 1
        ),
    })
}

/// Absent and null are the same; numbers and strings compare by their text (decimals travel
/// as strings, counts as numbers), and a decimal by its value: `94.0` as stated is stored as
/// `94`.
fn normalised(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "null".into(),
        // SQLite has no booleans: `active` comes back as 0 or 1.
        Some(Value::Bool(b)) => u8::from(*b).to_string(),
        Some(Value::String(s)) => normalised_text(Some(s)),
        Some(other) => normalised_text(Some(&other.to_string())),
    }
}

/// [`normalised`] of a value already as text (`None`: null).
fn normalised_text(v: Option<&str>) -> String {
    let Some(text) = v else {
        return "null".into();
    };
    if !may_be_decimal(text) {
        return text.to_owned();
    }
    match text.parse::<rust_decimal::Decimal>() {
        Ok(d) => d.normalize().to_string(),
        Err(_) => text.to_owned(),
    }
}

/// False for text `Decimal::from_str` surely refuses (it reads digits, `.`, `_`, a leading
/// sign and, as scientific notation, `e`/`E` with an optional sign after it): codes, dates
/// and names are then not parsed at all, which is most of an import's digest work.
fn may_be_decimal(text: &str) -> bool {
    let b = text.as_bytes();
    b.iter().enumerate().all(|(i, &c)| match c {
        b'0'..=b'9' | b'.' | b'_' | b'e' | b'E' => true,
        b'+' | b'-' => i == 0 || matches!(b[i - 1], b'e' | b'E'),
        _ => false,
    })
}

#[cfg(test)]
#[path = "reconcile_tests.rs"]
mod tests;
