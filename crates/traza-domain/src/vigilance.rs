//! Biovigilance (SPEC §6): adverse reactions reported against an administration, the donor
//! look-back they start, and their closing with a conclusion.
//!
//! A reaction to a cell or tissue product may come from the donor's material, so every other
//! batch made from the same donor, and every patient who received one, must be found and
//! followed up, whichever laboratory made it. The look-back is built here from plain rows; the
//! store finds the rows.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::Serialize;

use crate::validation::{FieldErrors, Fields, text};
use crate::vocab::{BatchStatus, vocabulary};

vocabulary! {
    /// Serious: fatal, life-threatening, disabling, or leading to or prolonging hospitalisation
    /// (Directive 2004/23/EC Art. 3(n)); such reactions are notified to the authority.
    ReactionSeverity, "reaction severity" {
        Serious => "serious",
        NonSerious => "non_serious",
    }
}

vocabulary! {
    /// How likely the reaction is caused by the product, the scale of the EU tissue and cell
    /// vigilance reports (Directive 2006/86/EC Annex II).
    Imputability, "imputability" {
        Excluded => "excluded",
        Unlikely => "unlikely",
        Possible => "possible",
        Probable => "probable",
        Certain => "certain",
    }
}

vocabulary! {
    /// A report stays open, on the vigilance work list, until a coordinator concludes it.
    ReactionStatus, "reaction status" {
        Open => "open",
        Closed => "closed",
    }
}

/// Longest description or conclusion accepted, in characters.
pub const TEXT_MAX: usize = 4000;

/// Checks a report against the administration it concerns; returns the trimmed description.
/// A reaction follows its administration and is reported after the fact: `reported_on` lies
/// between the administration and today.
pub fn check_report(
    reported_on: NaiveDate,
    administered_on: NaiveDate,
    today: NaiveDate,
    description: &str,
) -> Result<String, FieldErrors> {
    let mut f = Fields::default();
    f.ensure(
        reported_on >= administered_on,
        "reported_on",
        crate::problem::Problem::BeforeDate {
            date: administered_on.to_string(),
        },
    );
    f.ensure(
        reported_on <= today,
        "reported_on",
        crate::problem::Problem::AfterToday {
            today: today.to_string(),
        },
    );
    let description = f.check("description", text(description, TEXT_MAX));
    f.finish()?;
    Ok(description.unwrap_or_default())
}

/// Why a report cannot be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloseRefusal {
    #[error("the reaction report is already closed")]
    AlreadyClosed,
    #[error("conclusion: {0}")]
    Conclusion(crate::problem::Problem),
}

/// Checks that an open report may be closed with `conclusion`; returns it trimmed.
pub fn check_close(status: ReactionStatus, conclusion: &str) -> Result<String, CloseRefusal> {
    if status == ReactionStatus::Closed {
        return Err(CloseRefusal::AlreadyClosed);
    }
    text(conclusion, TEXT_MAX).map_err(CloseRefusal::Conclusion)
}

/// One row the store finds for a look-back: a batch of the donor, and one administration of it
/// (or none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DonorBatchRow {
    pub batch_number: String,
    pub lab_code: String,
    pub product_code: String,
    pub status: BatchStatus,
    /// The patient the batch was made for (autologous batches).
    pub made_for: Option<String>,
    pub administration: Option<(i64, String, NaiveDate)>,
}

/// A patient who received material of the donor.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recipient {
    pub patient_code: String,
    pub administered_on: NaiveDate,
}

/// Another batch of the donor, with whoever received it. Codes only: the reporter may belong
/// to another laboratory.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LookBackBatch {
    pub batch_number: String,
    pub lab_code: String,
    pub product_code: String,
    pub status: BatchStatus,
    /// The patient the batch was made for, if it is autologous.
    pub made_for: Option<String>,
    pub recipients: Vec<Recipient>,
}

/// Everything made from the reacting administration's donor, across the network.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LookBack {
    pub donor_code: String,
    /// The other patients who received the same batch.
    pub same_batch_recipients: Vec<Recipient>,
    /// Every other batch made from the donor.
    pub other_batches: Vec<LookBackBatch>,
    /// Batches of the donor, the reported one included, that could still reach a patient (in
    /// production, in quarantine, or released with doses left): to be held while the
    /// reaction is assessed.
    pub batches_to_hold: Vec<String>,
    /// Every patient to follow up, once each: recipients and intended patients of the donor's
    /// material, except the patient who reacted.
    pub patients_to_follow_up: Vec<String>,
}

/// Builds the look-back of a reaction to administration `reacting` of batch `reported_batch`
/// from every row of the donor's batches (ordered by batch, then administration).
pub fn look_back(
    donor_code: &str,
    reported_batch: &str,
    reacting: i64,
    reacting_patient: &str,
    rows: impl IntoIterator<Item = DonorBatchRow>,
) -> LookBack {
    let mut same_batch = Vec::new();
    let mut others: Vec<LookBackBatch> = Vec::new();
    let mut patients = BTreeSet::new();
    let mut reported_status = None;
    for row in rows {
        if let Some(p) = &row.made_for {
            patients.insert(p.clone());
        }
        let recipient = row
            .administration
            .as_ref()
            .map(|(_, patient_code, administered_on)| Recipient {
                patient_code: patient_code.clone(),
                administered_on: *administered_on,
            });
        if let Some(r) = &recipient {
            patients.insert(r.patient_code.clone());
        }
        if row.batch_number == reported_batch {
            reported_status = Some(row.status);
            if let (Some(r), Some((id, _, _))) = (recipient, &row.administration)
                && *id != reacting
            {
                same_batch.push(r);
            }
            continue;
        }
        match others.last_mut() {
            Some(last) if last.batch_number == row.batch_number => {
                last.recipients.extend(recipient);
            }
            _ => others.push(LookBackBatch {
                batch_number: row.batch_number,
                lab_code: row.lab_code,
                product_code: row.product_code,
                status: row.status,
                made_for: row.made_for,
                recipients: recipient.into_iter().collect(),
            }),
        }
    }
    patients.remove(reacting_patient);
    let usable = |s: BatchStatus| {
        matches!(
            s,
            BatchStatus::InProduction | BatchStatus::Quarantine | BatchStatus::Released
        )
    };
    let batches_to_hold = reported_status
        .filter(|s| usable(*s))
        .map(|_| reported_batch.to_owned())
        .into_iter()
        .chain(
            others
                .iter()
                .filter(|b| usable(b.status))
                .map(|b| b.batch_number.clone()),
        )
        .collect();
    LookBack {
        donor_code: donor_code.to_owned(),
        same_batch_recipients: same_batch,
        other_batches: others,
        batches_to_hold,
        patients_to_follow_up: patients.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn row(
        batch: &str,
        lab: &str,
        status: BatchStatus,
        admin: Option<(i64, &str, u32)>,
    ) -> DonorBatchRow {
        DonorBatchRow {
            batch_number: batch.into(),
            lab_code: lab.into(),
            product_code: "MSC-AD-ALO".into(),
            status,
            made_for: None,
            administration: admin.map(|(id, p, d)| (id, p.to_owned(), day(d))),
        }
    }

    #[test]
    fn a_report_follows_its_administration_and_precedes_tomorrow() {
        assert_eq!(
            check_report(day(10), day(10), day(12), "  Fiebre de 39 °C  ").unwrap(),
            "Fiebre de 39 °C"
        );
        let early = check_report(day(9), day(10), day(12), "Fiebre").unwrap_err();
        assert_eq!(early.0[0].field, "reported_on");
        let late = check_report(day(13), day(10), day(12), "Fiebre").unwrap_err();
        assert_eq!(late.0[0].field, "reported_on");
        let both = check_report(day(13), day(10), day(12), "   ").unwrap_err();
        let fields: Vec<_> = both.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["reported_on", "description"]);
    }

    #[test]
    fn only_an_open_report_closes_and_it_needs_a_conclusion() {
        assert_eq!(
            check_close(ReactionStatus::Open, " Relación causal descartada ").unwrap(),
            "Relación causal descartada"
        );
        assert_eq!(
            check_close(ReactionStatus::Closed, "otra"),
            Err(CloseRefusal::AlreadyClosed)
        );
        assert!(matches!(
            check_close(ReactionStatus::Open, ""),
            Err(CloseRefusal::Conclusion(_))
        ));
    }

    #[test]
    fn the_look_back_groups_the_donors_other_batches_and_their_patients() {
        use BatchStatus::*;
        let rows = vec![
            row(
                "GRA-UPCIT-2026-00001",
                "GRA-UPCIT",
                Administered,
                Some((1, "PAC-1", 1)),
            ),
            row(
                "GRA-UPCIT-2026-00001",
                "GRA-UPCIT",
                Administered,
                Some((2, "PAC-2", 2)),
            ),
            row(
                "GRA-UPCIT-2026-00001",
                "GRA-UPCIT",
                Administered,
                Some((3, "PAC-3", 3)),
            ),
            row(
                "MAL-HRU-2026-00004",
                "MAL-HRU",
                Released,
                Some((7, "PAC-4", 5)),
            ),
            row(
                "MAL-HRU-2026-00004",
                "MAL-HRU",
                Released,
                Some((8, "PAC-2", 6)),
            ),
            row("GRA-UPCIT-2026-00009", "GRA-UPCIT", Quarantine, None),
            row("GRA-UPCIT-2026-00011", "GRA-UPCIT", Rejected, None),
        ];
        let lb = look_back("A999926123456", "GRA-UPCIT-2026-00001", 2, "PAC-2", rows);
        assert_eq!(lb.donor_code, "A999926123456");
        let same: Vec<_> = lb
            .same_batch_recipients
            .iter()
            .map(|r| r.patient_code.as_str())
            .collect();
        assert_eq!(
            same,
            ["PAC-1", "PAC-3"],
            "the reacting administration is not listed"
        );
        let others: Vec<_> = lb
            .other_batches
            .iter()
            .map(|b| (b.batch_number.as_str(), b.recipients.len()))
            .collect();
        assert_eq!(
            others,
            [
                ("MAL-HRU-2026-00004", 2),
                ("GRA-UPCIT-2026-00009", 0),
                ("GRA-UPCIT-2026-00011", 0)
            ]
        );
        assert_eq!(
            lb.batches_to_hold,
            ["MAL-HRU-2026-00004", "GRA-UPCIT-2026-00009"]
        );
        assert_eq!(
            lb.patients_to_follow_up,
            ["PAC-1", "PAC-3", "PAC-4"],
            "once each, not the reacting patient"
        );
    }

    #[test]
    fn a_reported_batch_with_doses_left_is_held_too() {
        let rows = vec![
            row(
                "GRA-UPCIT-2026-00001",
                "GRA-UPCIT",
                BatchStatus::Released,
                Some((1, "PAC-1", 1)),
            ),
            row(
                "GRA-UPCIT-2026-00001",
                "GRA-UPCIT",
                BatchStatus::Released,
                Some((2, "PAC-2", 2)),
            ),
        ];
        let lb = look_back("A999926123456", "GRA-UPCIT-2026-00001", 2, "PAC-2", rows);
        assert_eq!(lb.batches_to_hold, ["GRA-UPCIT-2026-00001"]);
        assert!(lb.other_batches.is_empty());
    }

    #[test]
    fn an_autologous_look_back_names_the_patient_a_batch_was_made_for() {
        let mut other = row(
            "GRA-UPCIT-2026-00020",
            "GRA-UPCIT",
            BatchStatus::Quarantine,
            None,
        );
        other.made_for = Some("PAC-9".into());
        let mut reported = row(
            "GRA-UPCIT-2026-00019",
            "GRA-UPCIT",
            BatchStatus::Administered,
            Some((5, "PAC-9", 4)),
        );
        reported.made_for = Some("PAC-9".into());
        let lb = look_back(
            "PAC-9",
            "GRA-UPCIT-2026-00019",
            5,
            "PAC-9",
            vec![reported, other],
        );
        assert!(lb.same_batch_recipients.is_empty());
        assert_eq!(lb.other_batches[0].made_for.as_deref(), Some("PAC-9"));
        assert_eq!(lb.batches_to_hold, ["GRA-UPCIT-2026-00020"]);
        assert!(
            lb.patients_to_follow_up.is_empty(),
            "the only patient is the one who reacted"
        );
    }
}
