//! Reconciling stored rows with the audit events that made them (SPEC §2 "Audit trail":
//! tamper evidence). The chain proves the trail was not changed; this proves the rows were not
//! changed behind it: a row must equal the state its events give, and no such row may exist
//! without its events.
//!
//! Covered so far: batches made in Traza (every user-stated field and the status), their QC
//! results, signatures, administrations, deviations, manufacturing events, holds and adverse
//! reactions, and users (name, role, active). Rows of imported history are covered only by
//! their import's event (file hash and counts), not row by row.

use std::collections::HashMap;

use serde_json::Value;

use crate::audit::AuditEvent;

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
            Table::Users => &["full_name", "role", "active"],
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

/// The state of each row as its events give it, built from the trail in chain order.
#[derive(Default)]
pub struct Reconciler {
    expected: HashMap<(Table, String), Value>,
}

impl Reconciler {
    /// Takes in one verified event.
    pub fn observe(&mut self, e: &AuditEvent) {
        let Some(after) = &e.after else { return };
        if e.entity_type == "user" {
            if matches!(e.action.as_str(), "user.create" | "user.update") {
                self.expected
                    .insert((Table::Users, e.entity_key.clone()), after.clone());
            }
            return;
        }
        if e.entity_type != "batch" {
            return;
        }
        let key = e.entity_key.clone();
        match e.action.as_str() {
            "batch.create" | "batch.complete" | "batch.correct" => {
                self.expected.insert((Table::Batches, key), after.clone());
            }
            "batch.release" | "batch.reject" => {
                if let Some(b) = after.get("batch") {
                    self.expected.insert((Table::Batches, key), b.clone());
                }
                self.row(Table::Signatures, after.get("signature"));
            }
            "batch.confirm_history" => self.row(Table::Signatures, after.get("signature")),
            "batch.qc_result" => self.row(Table::QcResults, Some(after)),
            "batch.deviation_open" | "batch.deviation_close" => {
                self.row(Table::Deviations, Some(after))
            }
            "batch.event" => self.row(Table::BatchEvents, Some(after)),
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

/// Absent and null are the same; numbers and strings compare by their text (decimals travel
/// as strings, counts as numbers), and a decimal by its value: `94.0` as stated is stored as
/// `94`.
fn normalised(v: Option<&Value>) -> String {
    let text = match v {
        None | Some(Value::Null) => return "null".into(),
        // SQLite has no booleans: `active` comes back as 0 or 1.
        Some(Value::Bool(b)) => return u8::from(*b).to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    match text.parse::<rust_decimal::Decimal>() {
        Ok(d) => d.normalize().to_string(),
        Err(_) => text,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::vocab::Source;

    fn event(action: &str, key: &str, after: Value) -> AuditEvent {
        AuditEvent {
            id: 1,
            at: "2026-12-02T10:00:00Z".parse().unwrap(),
            actor: "marta.jimenez".into(),
            action: action.into(),
            entity_type: "batch".into(),
            entity_key: key.into(),
            before: None,
            after: Some(after),
            reason: None,
            source: Source::Api,
        }
    }

    #[test]
    fn a_row_changed_behind_the_trail_is_named_by_table_key_and_column() {
        let mut r = Reconciler::default();
        let made = json!({"batch_number": "B-1", "donor_code": "DON-1", "status": "in_production", "doses": 2, "version": 1});
        r.observe(&event("batch.create", "B-1", made.clone()));
        assert_eq!(r.check(Table::Batches, "B-1", &made), Ok(()));
        // Bookkeeping columns may move; stated ones may not.
        let bumped = json!({"batch_number": "B-1", "donor_code": "DON-1", "status": "in_production", "doses": 2, "version": 7});
        assert_eq!(r.check(Table::Batches, "B-1", &bumped), Ok(()));
        // A decimal is its value: stated 94.0, stored 94.
        r.observe(&event("batch.correct", "B-1", json!({"batch_number": "B-1", "donor_code": "DON-1", "status": "in_production", "doses": 2, "viability_percent": "94.0"})));
        let stored = json!({"batch_number": "B-1", "donor_code": "DON-1", "status": "in_production", "doses": "2", "viability_percent": "94"});
        assert_eq!(r.check(Table::Batches, "B-1", &stored), Ok(()));
        let other = json!({"batch_number": "B-1", "donor_code": "DON-1", "status": "in_production", "doses": 2, "viability_percent": "94.01"});
        assert!(r.check(Table::Batches, "B-1", &other).is_err());
        let edited = json!({"batch_number": "B-1", "donor_code": "DON-9", "status": "in_production", "doses": 2, "viability_percent": "94"});
        let m = r.check(Table::Batches, "B-1", &edited).unwrap_err();
        assert_eq!((m.table, m.column), ("batches", Some("donor_code")));
        let unknown = r.check(Table::Batches, "B-2", &made).unwrap_err();
        assert!(unknown.problem.contains("no audit event"));
        let none = std::collections::HashSet::new();
        let gone = r.first_missing(Table::Batches, &none).unwrap();
        assert_eq!(gone.key, "B-1");
        assert!(
            r.first_missing(Table::Batches, &["B-1".to_owned()].into())
                .is_none()
        );
    }

    #[test]
    fn later_events_move_the_expected_state_on() {
        let mut r = Reconciler::default();
        r.observe(&event(
            "batch.create",
            "B-1",
            json!({"status": "in_production"}),
        ));
        r.observe(&event(
            "batch.release",
            "B-1",
            json!({"batch": {"status": "released"}, "signature": {"id": 4, "signer": "isabel.morales", "meaning": "qp_certified", "record_hash": "ab"}}),
        ));
        r.observe(&event(
            "batch.administer",
            "B-1",
            json!({"administration": {"id": 9, "patient_code": "P-1", "administered_on": "2026-12-02", "hospital": "H"}, "status": "administered"}),
        ));
        assert_eq!(
            r.check(Table::Batches, "B-1", &json!({"status": "administered"})),
            Ok(())
        );
        let sig =
            json!({"signer": "isabel.morales", "meaning": "qp_certified", "record_hash": "ab"});
        assert_eq!(r.check(Table::Signatures, "4", &sig), Ok(()));
        let forged =
            json!({"signer": "someone.else", "meaning": "qp_certified", "record_hash": "ab"});
        assert_eq!(
            r.check(Table::Signatures, "4", &forged).unwrap_err().column,
            Some("signer")
        );
        let moved =
            json!({"patient_code": "P-2", "administered_on": "2026-12-02", "hospital": "H"});
        assert_eq!(
            r.check(Table::Administrations, "9", &moved)
                .unwrap_err()
                .column,
            Some("patient_code")
        );
    }
}
