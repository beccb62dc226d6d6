//! Electronic signatures on a batch record (21 CFR 11.50 and 11.70; EU GMP Annex 11 §14):
//! who took part in a batch (and so may not certify it), which meaning each signed transition
//! carries, and the **signed record manifest** — what exactly a signature covers.
//!
//! A signature stores the SHA-256 of its manifest's canonical JSON; the signing event carries
//! the manifest itself, so `audit verify` can parse it, check that it is a known version in
//! canonical form, recompute its hash and compare it with the signature, the signer and the
//! meaning it names ([`check_signed_record`]). Signatures written before manifests existed
//! (their record is the JSON of the batch as shown) keep verifying by plain rehash.

use std::collections::BTreeSet;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::batch::{Batch, Transition};
use crate::hold::Hold;
use crate::records::QcResult;
use crate::vocab::{DeviationSeverity, DeviationStatus, SignatureMeaning};

/// The version of the manifest this build writes. A new version adds a variant to
/// [`check_signed_record`]; old versions keep verifying for as long as records are kept.
pub const MANIFEST_VERSION: u32 = 2;

/// The manifest of a batch without an electronic batch record: version 1 had no such part,
/// so an unguided batch's signature reads the same as before it existed.
pub const MANIFEST_VERSION_UNGUIDED: u32 = 1;

/// Everyone who took part in making or testing a batch: its creator, and whoever recorded one
/// of its manufacturing steps or QC results. None of them may certify it (four eyes, EU GMP
/// Ch. 2.5: production and quality control are independent).
pub fn participants<'a>(
    created_by: &'a str,
    step_recorders: impl IntoIterator<Item = &'a str>,
    result_recorders: impl IntoIterator<Item = &'a str>,
) -> BTreeSet<String> {
    std::iter::once(created_by)
        .chain(step_recorders)
        .chain(result_recorders)
        .map(str::to_owned)
        .collect()
}

/// The meaning a signature on `transition` must carry, for the transitions that are signed.
pub fn meaning_for(transition: Transition) -> Option<SignatureMeaning> {
    match transition {
        Transition::Release => Some(SignatureMeaning::QpCertified),
        Transition::Reject => Some(SignatureMeaning::Rejected),
        _ => None,
    }
}

/// A signature asked for with a meaning its transition does not carry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {} is signed with the meaning {}", transition.name(), expected)]
pub struct WrongMeaning {
    pub transition: Transition,
    pub expected: SignatureMeaning,
}

impl crate::problem::Explain for WrongMeaning {}

/// Checks that `meaning` is the one `transition` is signed with.
pub fn check_meaning(
    transition: Transition,
    meaning: SignatureMeaning,
) -> Result<(), WrongMeaning> {
    match meaning_for(transition) {
        Some(expected) if expected != meaning => Err(WrongMeaning {
            transition,
            expected,
        }),
        _ => Ok(()),
    }
}

/// Who signs, with what meaning and when: part of what is signed, so that a signature cannot
/// be re-read with another meaning or moved to another person (21 CFR 11.50).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signer {
    pub username: String,
    pub full_name: String,
    pub meaning: SignatureMeaning,
    /// RFC 3339, UTC, microseconds (as stored).
    pub signed_at: String,
    pub reason: Option<String>,
}

impl Signer {
    pub fn new(
        username: &str,
        full_name: &str,
        meaning: SignatureMeaning,
        signed_at: DateTime<Utc>,
        reason: Option<&str>,
    ) -> Self {
        Self {
            username: username.to_owned(),
            full_name: full_name.to_owned(),
            meaning,
            signed_at: signed_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            reason: reason.map(str::to_owned),
        }
    }
}

/// A manufacturing step as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedStep {
    pub id: i64,
    pub step: String,
    pub performed_at: String,
    pub note: Option<String>,
    pub recorded_by: String,
}

/// A deviation as signed: what happened, how serious, and how it was closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedDeviation {
    pub id: i64,
    pub description: String,
    pub severity: DeviationSeverity,
    pub status: DeviationStatus,
    pub opened_by: String,
    pub resolution: Option<String>,
    pub closed_by: Option<String>,
}

/// An earlier signature on the same batch, by its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlierSignature {
    pub id: i64,
    pub signer: String,
    pub meaning: SignatureMeaning,
    pub record_hash: String,
}

/// What a signature on a batch covers: the signer and meaning, the batch's fields, every step,
/// every QC result (superseded ones too), every deviation, every hold, the earlier signatures,
/// and (version 2, a batch guided by a master record) its execution: the master record's
/// version, every step entry and every exception — the whole record a QP reviews, as it stood
/// when signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedRecord {
    pub manifest: u32,
    pub signer: Signer,
    /// The batch as the domain serialises a [`Batch`].
    pub batch: Value,
    pub steps: Vec<SignedStep>,
    /// Each as the domain serialises a [`QcResult`].
    pub qc_results: Vec<Value>,
    pub deviations: Vec<SignedDeviation>,
    /// Each as the domain serialises a [`Hold`].
    pub holds: Vec<Value>,
    pub earlier_signatures: Vec<EarlierSignature>,
    /// Version 2 only: the electronic batch record (master record, entries, exceptions) as the
    /// store audits them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_record: Option<Value>,
}

/// The parts of a batch record a manifest is built from.
pub struct RecordParts<'a> {
    pub batch: &'a Batch,
    pub steps: Vec<SignedStep>,
    pub qc_results: &'a [QcResult],
    pub deviations: Vec<SignedDeviation>,
    pub holds: &'a [Hold],
    pub earlier_signatures: Vec<EarlierSignature>,
    /// The execution record of a guided batch; `None` for an unguided one.
    pub batch_record: Option<Value>,
}

fn value_of<T: Serialize>(v: &T) -> Value {
    // The domain's own types serialise to JSON without failing (no maps with non-string keys,
    // no non-finite floats); `Null` would be a visible, verifiable oddity, never a panic.
    serde_json::to_value(v).unwrap_or(Value::Null)
}

impl SignedRecord {
    pub fn new(signer: Signer, parts: RecordParts<'_>) -> Self {
        Self {
            manifest: if parts.batch_record.is_some() {
                MANIFEST_VERSION
            } else {
                MANIFEST_VERSION_UNGUIDED
            },
            signer,
            batch: value_of(parts.batch),
            steps: parts.steps,
            qc_results: parts.qc_results.iter().map(value_of).collect(),
            deviations: parts.deviations,
            holds: parts.holds.iter().map(value_of).collect(),
            earlier_signatures: parts.earlier_signatures,
            batch_record: parts.batch_record,
        }
    }

    /// The canonical text of the manifest: what is hashed, and what the signing event keeps.
    pub fn canonical(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The record hash a signature stores: SHA-256 of the canonical text, in hex.
    pub fn hash(&self) -> String {
        record_hash(&self.canonical())
    }

    fn batch_number(&self) -> Option<&str> {
        self.batch.get("batch_number").and_then(Value::as_str)
    }
}

/// SHA-256 of a signed record's text, in hex.
pub fn record_hash(record: &str) -> String {
    hex::encode(Sha256::digest(record.as_bytes()))
}

/// Why a signature does not match the record its event says it signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignedRecordProblem {
    #[error("the record hash is not the hash of the record it signed")]
    HashMismatch,
    #[error("the signed record is manifest version {0}, which this version of Traza does not know")]
    UnknownManifest(u64),
    #[error("the signed record is not a valid manifest: {0}")]
    Malformed(String),
    #[error("the signed record is not in canonical form")]
    NotCanonical,
    #[error("the signed record names {field} {in_record:?}, the signature {in_signature:?}")]
    Disagrees {
        field: &'static str,
        in_record: String,
        in_signature: String,
    },
}

/// Verifies a signature against the record its event carries: the record must hash to the
/// signature's `record_hash`; a manifest must also be a known version, canonical, and name the
/// signature's signer, meaning and time and the batch `batch_number`. `signature` is the
/// signature row as the event recorded it (`signer`, `meaning`, `signed_at`, `record_hash`).
pub fn check_signed_record(
    signature: &Value,
    record: &str,
    batch_number: &str,
) -> Result<(), SignedRecordProblem> {
    let stored = signature.get("record_hash").and_then(Value::as_str);
    if stored != Some(record_hash(record).as_str()) {
        return Err(SignedRecordProblem::HashMismatch);
    }
    let parsed: Value =
        serde_json::from_str(record).map_err(|e| SignedRecordProblem::Malformed(e.to_string()))?;
    let Some(version) = parsed.get("manifest") else {
        // Written before manifests (the batch view's JSON): the hash is all there is to check.
        return Ok(());
    };
    let has_batch_record = parsed.get("batch_record").is_some();
    match version.as_u64() {
        // Version 1 has no execution record; version 2 always has one.
        Some(1) if !has_batch_record => {}
        Some(2) if has_batch_record => {}
        Some(1 | 2) => {
            return Err(SignedRecordProblem::Malformed(
                "the manifest's version does not match its parts".into(),
            ));
        }
        Some(other) => return Err(SignedRecordProblem::UnknownManifest(other)),
        None => {
            return Err(SignedRecordProblem::Malformed(
                "manifest is not a number".into(),
            ));
        }
    }
    let manifest: SignedRecord = serde_json::from_value(parsed)
        .map_err(|e| SignedRecordProblem::Malformed(e.to_string()))?;
    if manifest.canonical() != record {
        return Err(SignedRecordProblem::NotCanonical);
    }
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    let same = |field: &'static str, in_record: &str, in_signature: String| {
        if in_record == in_signature {
            Ok(())
        } else {
            Err(SignedRecordProblem::Disagrees {
                field,
                in_record: in_record.to_owned(),
                in_signature,
            })
        }
    };
    same(
        "signer",
        &manifest.signer.username,
        text(signature.get("signer")),
    )?;
    same(
        "meaning",
        manifest.signer.meaning.as_str(),
        text(signature.get("meaning")),
    )?;
    let signed_at = text(signature.get("signed_at"));
    let same_time = match (
        DateTime::parse_from_rfc3339(&manifest.signer.signed_at),
        DateTime::parse_from_rfc3339(&signed_at),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same_time {
        return Err(SignedRecordProblem::Disagrees {
            field: "signed_at",
            in_record: manifest.signer.signed_at.clone(),
            in_signature: signed_at,
        });
    }
    same(
        "batch_number",
        manifest.batch_number().unwrap_or_default(),
        batch_number.to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::QcOutcome;
    use serde_json::json;

    fn batch() -> Batch {
        crate::batch::tests::batch(
            crate::vocab::Origin::Autologous,
            crate::vocab::BatchStatus::Quarantine,
        )
    }

    fn manifest() -> SignedRecord {
        let at = "2026-11-30T10:00:00.123456Z".parse().unwrap();
        let results = [QcResult {
            id: 7,
            test: "sterility".into(),
            value: "no_growth".into(),
            unit: String::new(),
            outcome: QcOutcome::Pass,
            spec_version: 1,
            supersedes: None,
            reason: None,
            recorded_by: "cristina.vega".into(),
            deviation_id: None,
            superseded_by: None,
        }];
        SignedRecord::new(
            Signer::new(
                "nuria.blanco",
                "Nuria Blanco",
                SignatureMeaning::QpCertified,
                at,
                None,
            ),
            RecordParts {
                batch: &batch(),
                steps: vec![SignedStep {
                    id: 1,
                    step: "seeding".into(),
                    performed_at: "2026-11-20T08:00:00Z".into(),
                    note: None,
                    recorded_by: "cristina.vega".into(),
                }],
                qc_results: &results,
                deviations: vec![],
                holds: &[],
                earlier_signatures: vec![],
                batch_record: None,
            },
        )
    }

    fn signature_of(m: &SignedRecord) -> Value {
        json!({"signer": m.signer.username, "meaning": m.signer.meaning,
               "signed_at": "2026-11-30T10:00:00.123456Z", "record_hash": m.hash()})
    }

    #[test]
    fn a_manifest_verifies_against_its_signature() {
        let m = manifest();
        let number = m.batch_number().unwrap().to_owned();
        assert_eq!(
            check_signed_record(&signature_of(&m), &m.canonical(), &number),
            Ok(())
        );
        // The hash is stable: the canonical text of a parsed manifest is the text parsed.
        let again: SignedRecord = serde_json::from_str(&m.canonical()).unwrap();
        assert_eq!(again.canonical(), m.canonical());
    }

    #[test]
    fn a_guided_batch_s_manifest_is_version_2_and_covers_its_execution() {
        let unguided = manifest();
        assert_eq!(unguided.manifest, 1);
        let mut guided = manifest();
        guided.manifest = 2;
        guided.batch_record = Some(serde_json::json!({"mbr_version": 1, "entries": [
            {"id": 1, "step_code": "siembra", "materials": "[{\"lot_id\":\"L-1\",\"quantity\":\"10\"}]"}
        ], "exceptions": []}));
        let record = guided.canonical();
        let number = guided.batch_number().unwrap_or_default().to_owned();
        assert_eq!(
            check_signed_record(&signature_of(&guided), &record, &number),
            Ok(())
        );
        // An entry changed after signing no longer hashes to the signature.
        let edited = record.replace("siembra", "cosecha");
        assert_eq!(
            check_signed_record(&signature_of(&guided), &edited, &number),
            Err(SignedRecordProblem::HashMismatch)
        );
        // A version 1 manifest carrying an execution record, or a version 2 without one, is
        // not a manifest this version writes.
        let mut wrong = guided.clone();
        wrong.manifest = 1;
        let text = wrong.canonical();
        assert!(matches!(
            check_signed_record(&signature_of(&wrong), &text, &number),
            Err(SignedRecordProblem::Malformed(_))
        ));
    }

    #[test]
    fn an_edited_record_or_a_moved_signature_is_named() {
        let m = manifest();
        let number = m.batch_number().unwrap().to_owned();
        let sig = signature_of(&m);
        let edited = m.canonical().replace("no_growth", "growth!!!");
        assert_eq!(
            check_signed_record(&sig, &edited, &number),
            Err(SignedRecordProblem::HashMismatch)
        );
        // Re-hashed after the edit, by someone without the signer's part: the hash now
        // matches, but another meaning, signer or batch is named.
        let mut other = m.clone();
        other.signer.meaning = SignatureMeaning::Rejected;
        let mut sig2 = signature_of(&other);
        sig2["meaning"] = json!("qp_certified");
        assert!(matches!(
            check_signed_record(&sig2, &other.canonical(), &number),
            Err(SignedRecordProblem::Disagrees {
                field: "meaning",
                ..
            })
        ));
        assert!(matches!(
            check_signed_record(&sig, &m.canonical(), "ANOTHER-BATCH"),
            Err(SignedRecordProblem::Disagrees {
                field: "batch_number",
                ..
            })
        ));
        let mut late = sig.clone();
        late["signed_at"] = json!("2026-12-01T10:00:00Z");
        assert!(matches!(
            check_signed_record(&late, &m.canonical(), &number),
            Err(SignedRecordProblem::Disagrees {
                field: "signed_at",
                ..
            })
        ));
    }

    #[test]
    fn unknown_versions_and_non_canonical_text_are_refused() {
        let m = manifest();
        let number = m.batch_number().unwrap().to_owned();
        let v3 = m
            .canonical()
            .replacen("\"manifest\":1", "\"manifest\":3", 1);
        let sig = json!({"signer": "nuria.blanco", "meaning": "qp_certified",
                         "signed_at": "2026-11-30T10:00:00.123456Z", "record_hash": record_hash(&v3)});
        assert_eq!(
            check_signed_record(&sig, &v3, &number),
            Err(SignedRecordProblem::UnknownManifest(3))
        );
        let spaced = m.canonical().replacen("{", "{ ", 1);
        let sig = json!({"signer": "nuria.blanco", "meaning": "qp_certified",
                         "signed_at": "2026-11-30T10:00:00.123456Z", "record_hash": record_hash(&spaced)});
        assert_eq!(
            check_signed_record(&sig, &spaced, &number),
            Err(SignedRecordProblem::NotCanonical)
        );
    }

    #[test]
    fn a_record_from_before_manifests_is_checked_by_its_hash() {
        let legacy = r#"{"batch_number":"X","events":[]}"#;
        let sig = json!({"record_hash": record_hash(legacy)});
        assert_eq!(check_signed_record(&sig, legacy, "X"), Ok(()));
        assert_eq!(
            check_signed_record(&sig, r#"{"batch_number":"Y","events":[]}"#, "X"),
            Err(SignedRecordProblem::HashMismatch)
        );
    }

    #[test]
    fn release_and_rejection_carry_their_meanings() {
        assert!(check_meaning(Transition::Release, SignatureMeaning::QpCertified).is_ok());
        assert!(check_meaning(Transition::Release, SignatureMeaning::Rejected).is_err());
        assert!(check_meaning(Transition::Reject, SignatureMeaning::Rejected).is_ok());
        assert_eq!(
            check_meaning(Transition::Release, SignatureMeaning::Rejected)
                .unwrap_err()
                .to_string(),
            "a release is signed with the meaning qp_certified"
        );
    }

    #[test]
    fn the_creator_and_every_recorder_take_part() {
        let p = participants("ana", ["bea", "ana"], ["carlos"]);
        assert_eq!(p.into_iter().collect::<Vec<_>>(), ["ana", "bea", "carlos"]);
    }
}
