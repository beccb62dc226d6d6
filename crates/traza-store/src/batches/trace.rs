//! Traceability: donor → batches → patients, within the actor's scope.

use super::*;

impl Store {
    /// Donor → batches → patients, within the actor's scope, in one query.
    pub async fn trace_donor(
        &self,
        actor: &Actor,
        donor: &DonorCode,
    ) -> Result<Vec<TraceBatch>, StoreError> {
        actor.may(Action::ReadBatches)?;
        self.trace(
            "b.donor_code = ?",
            vec![donor.as_str().into()],
            &actor.scope(),
        )
        .await
    }

    /// Patient → batches → donors, within the actor's scope, in one query: batches made for
    /// the patient and batches administered to them.
    pub async fn trace_patient(
        &self,
        actor: &Actor,
        patient: &PatientCode,
    ) -> Result<Vec<TraceBatch>, StoreError> {
        actor.may(Action::ReadBatches)?;
        self.trace(
            // A UNION of two index look-ups: written as `patient_code = ? OR id IN (…)`,
            // PostgreSQL scanned the whole table (6 req/s at 1M batches, bench/RESULTS.md).
            "b.id IN (SELECT id FROM batches WHERE patient_code = ? \
             UNION SELECT batch_id FROM administrations WHERE patient_code = ?)",
            vec![patient.as_str().into(), patient.as_str().into()],
            &actor.scope(),
        )
        .await
    }

    pub(super) async fn trace(
        &self,
        condition: &str,
        mut values: Vec<sea_orm::Value>,
        scope: &LabScope,
    ) -> Result<Vec<TraceBatch>, StoreError> {
        let mut sql = format!(
            "SELECT b.batch_number, b.product_code, b.lab_code, b.status, b.donor_code, b.patient_code, \
             a.id AS administration_id, a.patient_code AS administered_to, a.administered_on, \
             a.hospital, r.id AS reaction_id, r.reported_on, r.severity, r.status AS reaction_status \
             FROM batches b LEFT JOIN administrations a ON a.batch_id = b.id \
             LEFT JOIN reactions r ON r.administration_id = a.id WHERE {condition}"
        );
        if let Some(clause) = scope_clause(scope, "b.lab_code", &mut values) {
            sql.push_str(" AND ");
            sql.push_str(&clause);
        }
        sql.push_str(" ORDER BY b.id, a.id, r.id");
        let backend = self.db.get_database_backend();
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                numbered(backend, &sql),
                values,
            ))
            .await?;
        let mut out: Vec<TraceBatch> = Vec::new();
        for row in rows {
            let number: String = row.try_get("", "batch_number")?;
            if out.last().is_none_or(|b| b.batch_number != number) {
                out.push(TraceBatch {
                    batch_number: number,
                    product_code: row.try_get("", "product_code")?,
                    lab_code: row.try_get("", "lab_code")?,
                    status: row.try_get("", "status")?,
                    donor_code: row.try_get("", "donor_code")?,
                    patient_code: row.try_get("", "patient_code")?,
                    administrations: Vec::new(),
                });
            }
            let Some(last) = out.last_mut() else { continue };
            let Some(administration) = row.try_get::<Option<i64>>("", "administration_id")? else {
                continue;
            };
            if last
                .administrations
                .last()
                .is_none_or(|a| a.id != administration)
            {
                last.administrations.push(TraceAdministration {
                    id: administration,
                    patient_code: row.try_get("", "administered_to")?,
                    administered_on: row.try_get("", "administered_on")?,
                    hospital: row.try_get("", "hospital")?,
                    reactions: Vec::new(),
                });
            }
            if let (Some(id), Some(a)) = (
                row.try_get::<Option<i64>>("", "reaction_id")?,
                last.administrations.last_mut(),
            ) {
                a.reactions.push(TraceReaction {
                    id,
                    reported_on: row.try_get("", "reported_on")?,
                    severity: stored_word(&row, "severity")?,
                    status: stored_word(&row, "reaction_status")?,
                });
            }
        }
        Ok(out)
    }
}
