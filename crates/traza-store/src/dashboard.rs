//! The coordination unit's network dashboard: batches by laboratory, product and status,
//! release lead time, out-of-specification rate and this month's capacity used. Aggregated in
//! the database (grouped counts), so the answer is small however many batches there are.

use std::collections::BTreeMap;

use chrono::{NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use serde::Serialize;
use traza_domain::access::{Action, Actor};

use crate::Store;
use crate::error::StoreError;
use crate::sql::numbered;

/// Batches of one laboratory and product in one status.
#[derive(Debug, Clone, Serialize)]
pub struct StatusCount {
    pub lab_code: String,
    pub product_code: String,
    pub status: String,
    pub batches: i64,
}

/// Days from the end of manufacture to certification, over released batches.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct LeadTime {
    pub released: i64,
    pub median_days: Option<i64>,
    pub p90_days: Option<i64>,
}

/// One laboratory's figures.
#[derive(Debug, Clone, Serialize)]
pub struct LabFigures {
    pub lab_code: String,
    pub lead_time: LeadTime,
    /// QC results recorded, and of them out of specification (`fail`).
    pub qc_results: i64,
    pub qc_failed: i64,
    /// Batches started this calendar month, and the laboratory's monthly capacity.
    pub started_this_month: i64,
    pub capacity_per_month: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub month: String,
    pub by_status: Vec<StatusCount>,
    pub network_lead_time: LeadTime,
    pub labs: Vec<LabFigures>,
}

/// The median and 90th percentile (nearest rank) of a histogram of days.
fn lead_time(histogram: &BTreeMap<i64, i64>) -> LeadTime {
    let released: i64 = histogram.values().sum();
    let rank = |q: f64| -> Option<i64> {
        if released == 0 {
            return None;
        }
        // Nearest rank: the smallest value with at least q of the batches at or below it.
        let wanted = ((q * released as f64).ceil() as i64).max(1);
        let mut seen = 0;
        histogram.iter().find_map(|(days, n)| {
            seen += n;
            (seen >= wanted).then_some(*days)
        })
    };
    LeadTime {
        released,
        median_days: rank(0.5),
        p90_days: rank(0.9),
    }
}

impl Store {
    /// The dashboard over the batches the actor may read whose manufacture started within
    /// `from..=to` (either end open). This month's capacity is always this month's.
    pub async fn dashboard(
        &self,
        actor: &Actor,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Dashboard, StoreError> {
        actor.may(Action::ReadBatches)?;
        let scope = actor.scope();
        let backend = self.db.get_database_backend();
        let query = |sql: &str, values: Vec<Value>| {
            Statement::from_sql_and_values(backend, numbered(backend, sql), values)
        };
        // The date range as a condition on `{alias}manufacturing_start`, and its values.
        let range = |alias: &str| {
            let mut sql = String::from("1 = 1");
            let mut values: Vec<Value> = Vec::new();
            if let Some(d) = from {
                sql.push_str(&format!(" AND {alias}manufacturing_start >= ?"));
                values.push(d.into());
            }
            if let Some(d) = to {
                sql.push_str(&format!(" AND {alias}manufacturing_start <= ?"));
                values.push(d.into());
            }
            (sql, values)
        };

        let mut by_status = Vec::new();
        for row in self
            .db
            .query_all_raw({
                let (within, values) = range("");
                query(
                    &format!(
                        "SELECT lab_code, product_code, status, COUNT(*) AS n FROM batches \
                         WHERE {within} GROUP BY lab_code, product_code, status \
                         ORDER BY lab_code, product_code, status"
                    ),
                    values,
                )
            })
            .await?
        {
            let lab_code: String = row.try_get("", "lab_code")?;
            if scope.includes_code(&lab_code) {
                by_status.push(StatusCount {
                    lab_code,
                    product_code: row.try_get("", "product_code")?,
                    status: row.try_get("", "status")?,
                    batches: row.try_get("", "n")?,
                });
            }
        }

        let days = match backend {
            DbBackend::Postgres => "(release_date - manufacturing_end)",
            _ => "CAST(julianday(release_date) - julianday(manufacturing_end) AS INTEGER)",
        };
        let mut network_days = BTreeMap::new();
        let mut lab_days: BTreeMap<String, BTreeMap<i64, i64>> = BTreeMap::new();
        for row in self
            .db
            .query_all_raw({
                let (within, values) = range("");
                query(
                    &format!(
                        "SELECT lab_code, {days} AS days, COUNT(*) AS n FROM batches \
                         WHERE status = 'released' AND release_date IS NOT NULL \
                         AND manufacturing_end IS NOT NULL AND {within} \
                         GROUP BY lab_code, {days}"
                    ),
                    values,
                )
            })
            .await?
        {
            let lab_code: String = row.try_get("", "lab_code")?;
            if !scope.includes_code(&lab_code) {
                continue;
            }
            let d: i64 = match backend {
                DbBackend::Postgres => i64::from(row.try_get::<i32>("", "days")?),
                _ => row.try_get("", "days")?,
            };
            let n: i64 = row.try_get("", "n")?;
            *network_days.entry(d).or_insert(0) += n;
            *lab_days.entry(lab_code).or_default().entry(d).or_insert(0) += n;
        }

        let mut qc: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for row in self
            .db
            .query_all_raw({
                let (within, values) = range("b.");
                query(
                    &format!(
                        "SELECT b.lab_code AS lab_code, COUNT(*) AS n, \
                         SUM(CASE WHEN q.outcome = 'fail' THEN 1 ELSE 0 END) AS failed \
                         FROM qc_results q JOIN batches b ON b.id = q.batch_id \
                         WHERE {within} GROUP BY b.lab_code"
                    ),
                    values,
                )
            })
            .await?
        {
            let lab_code: String = row.try_get("", "lab_code")?;
            let failed: i64 = row.try_get("", "failed")?;
            qc.insert(lab_code, (row.try_get("", "n")?, failed));
        }

        let today = Utc::now().date_naive();
        let (first, next, month) = traza_domain::batch::capacity_month(today);
        let mut started: BTreeMap<String, i64> = BTreeMap::new();
        for row in self
            .db
            .query_all_raw(query(
                "SELECT lab_code, COUNT(*) AS n FROM batches \
                 WHERE manufacturing_start >= ? AND manufacturing_start < ? GROUP BY lab_code",
                vec![first.into(), next.into()],
            ))
            .await?
        {
            started.insert(row.try_get("", "lab_code")?, row.try_get("", "n")?);
        }

        let mut labs = Vec::new();
        for lab in self.list_labs(actor).await? {
            let code = lab.code.as_str().to_owned();
            if !scope.includes_code(&code) {
                continue;
            }
            let (qc_results, qc_failed) = qc.get(&code).copied().unwrap_or((0, 0));
            labs.push(LabFigures {
                lead_time: lab_days.get(&code).map(lead_time).unwrap_or_default(),
                qc_results,
                qc_failed,
                started_this_month: started.get(&code).copied().unwrap_or(0),
                capacity_per_month: lab.capacity_per_month,
                lab_code: code,
            });
        }
        Ok(Dashboard {
            month,
            by_status,
            network_lead_time: lead_time(&network_days),
            labs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p90_are_nearest_ranks_of_the_histogram() {
        let h: BTreeMap<i64, i64> = [(2, 5), (3, 4), (10, 1)].into();
        assert_eq!(
            lead_time(&h),
            LeadTime {
                released: 10,
                median_days: Some(2),
                p90_days: Some(3)
            }
        );
        let h: BTreeMap<i64, i64> = [(1, 1), (4, 1)].into();
        assert_eq!(lead_time(&h).median_days, Some(1));
        assert_eq!(lead_time(&h).p90_days, Some(4));
        assert_eq!(lead_time(&BTreeMap::new()), LeadTime::default());
    }
}
