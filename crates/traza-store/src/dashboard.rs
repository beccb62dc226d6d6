//! The coordination unit's network dashboard: batches by laboratory, product and status,
//! release lead time, out-of-specification rate and this month's capacity used. Whole months
//! are read from a rollup the database keeps as batches are written (a few thousand rows for a
//! million batches), the days of a partial month from the batches; grouped in the database.

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use serde::Serialize;
use traza_domain::access::{Action, Actor};

use crate::Store;
use crate::error::StoreError;
use crate::sql::numbered;

/// Batches of one laboratory and product in one status.
#[derive(Debug, Clone, Serialize, PartialEq)]
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
#[derive(Debug, Clone, Serialize, PartialEq)]
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

#[derive(Debug, Clone, Serialize, PartialEq)]
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

/// The dashboard's counts before they are filtered by scope and put in order.
#[derive(Default)]
struct Counts {
    by_status: BTreeMap<(String, String, String), i64>,
    lab_days: BTreeMap<String, BTreeMap<i64, i64>>,
    qc: BTreeMap<String, (i64, i64)>,
}

/// The first day of `d`'s month.
fn month_of(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// The first day of the month after `d`'s.
fn next_month(d: NaiveDate) -> NaiveDate {
    let first = month_of(d);
    first.checked_add_months(Months::new(1)).unwrap_or(first)
}

/// Splits `from..=to` into whole months, read from the rollup (`[lo, hi)` of month starts,
/// either end open), and the days at either end outside them, read from the batches.
#[derive(Debug, PartialEq)]
struct Split {
    /// The whole months, or none when the range lies within one month.
    months: Option<(Option<NaiveDate>, Option<NaiveDate>)>,
    /// Day ranges (inclusive) counted from the batches table.
    days: Vec<(NaiveDate, NaiveDate)>,
}

fn split(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Split {
    let lo = from.map(|d| if d.day() == 1 { d } else { next_month(d) });
    let hi = to.map(|d| month_of(d.succ_opt().unwrap_or(d)));
    if let (Some(l), Some(h)) = (lo, hi)
        && l >= h
    {
        // No whole month inside: all days from the batches (an empty range reads nothing).
        let days = match (from, to) {
            (Some(f), Some(t)) if f <= t => vec![(f, t)],
            _ => Vec::new(),
        };
        return Split { months: None, days };
    }
    let mut days = Vec::new();
    if let (Some(f), Some(l)) = (from, lo)
        && f < l
    {
        days.push((f, l.pred_opt().unwrap_or(l)));
    }
    if let (Some(t), Some(h)) = (to, hi)
        && h <= t
    {
        days.push((h, t));
    }
    Split {
        months: Some((lo, hi)),
        days,
    }
}

impl Store {
    /// The dashboard over the batches the actor may read whose manufacture started within
    /// `from..=to` (either end open). This month's capacity is always this month's.
    ///
    /// Whole months come from the rollup the database keeps as batches are written
    /// (migration `m20261204_000001_dashboard_rollup`); the days of a partial month at either
    /// end of the range are counted from the batches themselves, by laboratory and date on
    /// the `(lab_code, manufacturing_start, status)` index.
    pub async fn dashboard(
        &self,
        actor: &Actor,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Dashboard, StoreError> {
        actor.may(Action::ReadBatches)?;
        let mut counts = Counts::default();
        let parts = split(from, to);
        if let Some((lo, hi)) = parts.months {
            self.count_rollup(lo, hi, &mut counts).await?;
        }
        for (a, b) in parts.days {
            self.count_batches_in(Some(a), Some(b), &mut counts).await?;
        }
        self.assemble(actor, counts).await
    }

    /// The same dashboard counted from the batches table alone, grouping every batch in the
    /// range: the check the rollup is compared with (tests, and anyone who doubts a figure).
    pub async fn dashboard_recount(
        &self,
        actor: &Actor,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Dashboard, StoreError> {
        actor.may(Action::ReadBatches)?;
        let mut counts = Counts::default();
        self.count_batches_in(from, to, &mut counts).await?;
        self.assemble(actor, counts).await
    }

    /// Adds the rollup's months `lo..hi` (month starts, either end open) to `counts`.
    async fn count_rollup(
        &self,
        lo: Option<NaiveDate>,
        hi: Option<NaiveDate>,
        counts: &mut Counts,
    ) -> Result<(), StoreError> {
        let backend = self.db.get_database_backend();
        let mut within = String::from("1 = 1");
        let mut values: Vec<Value> = Vec::new();
        if let Some(d) = lo {
            within.push_str(" AND month >= ?");
            values.push(d.into());
        }
        if let Some(d) = hi {
            within.push_str(" AND month < ?");
            values.push(d.into());
        }
        let query = |sql: String| {
            Statement::from_sql_and_values(backend, numbered(backend, &sql), values.clone())
        };
        for row in self
            .db
            .query_all_raw(query(format!(
                "SELECT lab_code, product_code, status, timed, lead_days, \
                 CAST(SUM(batches) AS BIGINT) AS n FROM batch_rollup WHERE {within} \
                 GROUP BY lab_code, product_code, status, timed, lead_days"
            )))
            .await?
        {
            let n: i64 = row.try_get("", "n")?;
            if n == 0 {
                continue;
            }
            let lab: String = row.try_get("", "lab_code")?;
            let product: String = row.try_get("", "product_code")?;
            let status: String = row.try_get("", "status")?;
            let timed: i64 = match backend {
                DbBackend::Postgres => i64::from(row.try_get::<i16>("", "timed")?),
                _ => row.try_get("", "timed")?,
            };
            if timed == 1 {
                let d: i64 = match backend {
                    DbBackend::Postgres => i64::from(row.try_get::<i32>("", "lead_days")?),
                    _ => row.try_get("", "lead_days")?,
                };
                *counts
                    .lab_days
                    .entry(lab.clone())
                    .or_default()
                    .entry(d)
                    .or_insert(0) += n;
            }
            *counts.by_status.entry((lab, product, status)).or_insert(0) += n;
        }
        for row in self
            .db
            .query_all_raw(query(format!(
                "SELECT lab_code, CAST(SUM(results) AS BIGINT) AS n, \
                 CAST(SUM(failed) AS BIGINT) AS failed FROM qc_rollup WHERE {within} \
                 GROUP BY lab_code"
            )))
            .await?
        {
            let n: i64 = row.try_get("", "n")?;
            if n == 0 {
                continue;
            }
            let e = counts
                .qc
                .entry(row.try_get("", "lab_code")?)
                .or_insert((0, 0));
            e.0 += n;
            e.1 += row.try_get::<i64>("", "failed")?;
        }
        Ok(())
    }

    /// Adds the batches whose manufacture started within `from..=to` to `counts`, grouped in
    /// the database.
    async fn count_batches_in(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        counts: &mut Counts,
    ) -> Result<(), StoreError> {
        let backend = self.db.get_database_backend();
        let query = |sql: &str, values: Vec<Value>| {
            Statement::from_sql_and_values(backend, numbered(backend, sql), values)
        };
        // The date range as a condition on `{alias}manufacturing_start`, and its values; with
        // a range, every laboratory named so that the lab-first index serves it.
        let range = |alias: &str| {
            let mut sql = String::from("1 = 1");
            let mut values: Vec<Value> = Vec::new();
            if from.is_some() || to.is_some() {
                sql.push_str(&format!(" AND {alias}lab_code IN (SELECT code FROM labs)"));
            }
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

        let (within, values) = range("");
        for row in self
            .db
            .query_all_raw(query(
                &format!(
                    "SELECT lab_code, product_code, status, COUNT(*) AS n FROM batches \
                     WHERE {within} GROUP BY lab_code, product_code, status"
                ),
                values,
            ))
            .await?
        {
            let key = (
                row.try_get("", "lab_code")?,
                row.try_get("", "product_code")?,
                row.try_get("", "status")?,
            );
            *counts.by_status.entry(key).or_insert(0) += row.try_get::<i64>("", "n")?;
        }

        let days = match backend {
            DbBackend::Postgres => "(release_date - manufacturing_end)",
            _ => "CAST(julianday(release_date) - julianday(manufacturing_end) AS INTEGER)",
        };
        let (within, values) = range("");
        for row in self
            .db
            .query_all_raw(query(
                &format!(
                    "SELECT lab_code, {days} AS days, COUNT(*) AS n FROM batches \
                     WHERE status = 'released' AND release_date IS NOT NULL \
                     AND manufacturing_end IS NOT NULL AND {within} \
                     GROUP BY lab_code, {days}"
                ),
                values,
            ))
            .await?
        {
            let lab_code: String = row.try_get("", "lab_code")?;
            let d: i64 = match backend {
                DbBackend::Postgres => i64::from(row.try_get::<i32>("", "days")?),
                _ => row.try_get("", "days")?,
            };
            let n: i64 = row.try_get("", "n")?;
            *counts
                .lab_days
                .entry(lab_code)
                .or_default()
                .entry(d)
                .or_insert(0) += n;
        }

        let (within, values) = range("b.");
        for row in self
            .db
            .query_all_raw(query(
                &format!(
                    "SELECT b.lab_code AS lab_code, COUNT(*) AS n, \
                     SUM(CASE WHEN q.outcome = 'fail' THEN 1 ELSE 0 END) AS failed \
                     FROM qc_results q JOIN batches b ON b.id = q.batch_id \
                     WHERE {within} GROUP BY b.lab_code"
                ),
                values,
            ))
            .await?
        {
            let e = counts
                .qc
                .entry(row.try_get("", "lab_code")?)
                .or_insert((0, 0));
            e.0 += row.try_get::<i64>("", "n")?;
            e.1 += row.try_get::<i64>("", "failed")?;
        }
        Ok(())
    }

    /// The dashboard from its counts: what the actor's scope covers, with this month's
    /// batches started (from the rollup: a whole month) against each laboratory's capacity.
    async fn assemble(&self, actor: &Actor, counts: Counts) -> Result<Dashboard, StoreError> {
        let scope = actor.scope();
        let backend = self.db.get_database_backend();
        let by_status = counts
            .by_status
            .into_iter()
            .filter(|((lab, _, _), n)| *n != 0 && scope.includes_code(lab))
            .map(|((lab_code, product_code, status), batches)| StatusCount {
                lab_code,
                product_code,
                status,
                batches,
            })
            .collect();
        let mut network_days = BTreeMap::new();
        for (lab, days) in &counts.lab_days {
            if scope.includes_code(lab) {
                for (d, n) in days {
                    *network_days.entry(*d).or_insert(0) += n;
                }
            }
        }

        let today = Utc::now().date_naive();
        let (first, _, month) = traza_domain::batch::capacity_month(today);
        let mut started: BTreeMap<String, i64> = BTreeMap::new();
        for row in self
            .db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                numbered(
                    backend,
                    "SELECT lab_code, CAST(SUM(batches) AS BIGINT) AS n FROM batch_rollup \
                     WHERE month = ? GROUP BY lab_code",
                ),
                vec![first.into()],
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
            let (qc_results, qc_failed) = counts.qc.get(&code).copied().unwrap_or((0, 0));
            labs.push(LabFigures {
                lead_time: counts
                    .lab_days
                    .get(&code)
                    .map(lead_time)
                    .unwrap_or_default(),
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
