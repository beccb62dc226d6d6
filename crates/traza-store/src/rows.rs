//! The `batches` row and the domain's [`Batch`]: reading one into the other, writing the stated
//! fields back with the version check, and a row read on a raw sqlx connection (the import's).
//! A leaf: it uses no feature module.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use sqlx::Row;
use traza_domain::batch::Batch;
use traza_domain::codes::{BatchNumber, DonorCode, LabCode, PatientCode, ProductCode, TrialId};

use crate::entity::batches;
use crate::error::{StoreError, stored};
use crate::write::Write;

fn dec(what: &str, s: &Option<String>) -> Result<Option<Decimal>, StoreError> {
    s.as_deref()
        .map(|v| stored(what, Decimal::from_str(v)))
        .transpose()
}

pub(crate) fn dec_text(d: Option<Decimal>) -> Option<String> {
    d.map(|d| d.normalize().to_string())
}

pub(crate) fn batch_from(m: &batches::Model) -> Result<Batch, StoreError> {
    Ok(Batch {
        batch_number: stored("batch number", BatchNumber::parse(&m.batch_number))?,
        product_code: stored("product code", ProductCode::parse(&m.product_code))?,
        lab_code: stored("lab code", LabCode::parse(&m.lab_code))?,
        origin: stored("origin", m.origin.parse())?,
        access_route: stored("access route", m.access_route.parse())?,
        trial_id: m
            .trial_id
            .as_deref()
            .map(|t| stored("trial id", TrialId::parse(t)))
            .transpose()?,
        donor_code: stored("donor code", DonorCode::parse(&m.donor_code))?,
        patient_code: m
            .patient_code
            .as_deref()
            .map(|p| stored("patient code", PatientCode::parse(p)))
            .transpose()?,
        collection_date: m.collection_date,
        manufacturing_start: m.manufacturing_start,
        manufacturing_end: m.manufacturing_end,
        expiry_date: m.expiry_date,
        cell_count: dec("cell count", &m.cell_count)?,
        viability_percent: dec("viability", &m.viability_percent)?,
        volume_ml: dec("volume", &m.volume_ml)?,
        doses: u32::try_from(m.doses).unwrap_or(0),
        status: stored("status", m.status.parse())?,
        released_by: m.released_by.clone(),
        release_date: m.release_date,
        notes: m.notes.clone(),
        version: m.version,
        source: stored("source", m.source.parse())?,
        import_id: m.import_id,
        import_line: m.import_line.and_then(|l| u64::try_from(l).ok()),
        on_hold: false,
    })
}

/// Writes the stated fields of `b` into an active model.
pub(crate) fn set_fields(m: &mut batches::ActiveModel, b: &Batch) {
    m.access_route = Set(b.access_route.as_str().to_owned());
    m.trial_id = Set(b.trial_id.as_ref().map(|t| t.as_str().to_owned()));
    m.donor_code = Set(b.donor_code.as_str().to_owned());
    m.patient_code = Set(b.patient_code.as_ref().map(|p| p.as_str().to_owned()));
    m.collection_date = Set(b.collection_date);
    m.manufacturing_start = Set(b.manufacturing_start);
    m.manufacturing_end = Set(b.manufacturing_end);
    m.expiry_date = Set(b.expiry_date);
    m.cell_count = Set(dec_text(b.cell_count));
    m.viability_percent = Set(dec_text(b.viability_percent));
    m.volume_ml = Set(dec_text(b.volume_ml));
    m.doses = Set(i32::try_from(b.doses).unwrap_or(i32::MAX));
    m.status = Set(b.status.as_str().to_owned());
    m.released_by = Set(b.released_by.clone());
    m.release_date = Set(b.release_date);
    m.notes = Set(b.notes.clone());
}

/// Saves a changed batch with its version bumped, but only if nobody changed it since it was
/// read: the conditional update makes a stale write fail instead of overwriting.
///
/// Only the columns that differ from `read` (the batch as loaded) are written: most writes
/// (a step, a QC result, a hold) change no column of the batch but its version, and a column
/// named in an UPDATE makes SQLite rewrite the entries of every index over it (the batch
/// number, donor, patient and laboratory indexes of a million-row table).
pub(crate) async fn save_batch(
    w: &Write,
    id: i64,
    read_version: i64,
    read: &Batch,
    b: &mut Batch,
) -> Result<(), StoreError> {
    use sea_orm::{ActiveModelTrait, Iterable};
    let mut before = <batches::ActiveModel as Default>::default();
    set_fields(&mut before, read);
    let mut m = <batches::ActiveModel as Default>::default();
    set_fields(&mut m, b);
    for column in batches::Column::iter() {
        if m.get(column) == before.get(column) {
            m.not_set(column);
        }
    }
    m.version = Set(read_version + 1);
    m.updated_at = Set(w.now());
    let result = batches::Entity::update_many()
        .set(m)
        .filter(batches::Column::Id.eq(id))
        .filter(batches::Column::Version.eq(read_version))
        .exec(&w.tx)
        .await?;
    if result.rows_affected != 1 {
        return Err(StoreError::VersionMismatch {
            current: read_version + 1,
        });
    }
    b.version = read_version + 1;
    Ok(())
}

/// A stored batch, read on the import's own connection.
pub(crate) fn model_from_row<R: Row>(r: &R) -> Result<batches::Model, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> NaiveDate: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<NaiveDate>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i32: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> DateTime<Utc>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(batches::Model {
        id: r.try_get("id")?,
        batch_number: r.try_get("batch_number")?,
        product_code: r.try_get("product_code")?,
        lab_code: r.try_get("lab_code")?,
        origin: r.try_get("origin")?,
        access_route: r.try_get("access_route")?,
        trial_id: r.try_get("trial_id")?,
        donor_code: r.try_get("donor_code")?,
        patient_code: r.try_get("patient_code")?,
        collection_date: r.try_get("collection_date")?,
        manufacturing_start: r.try_get("manufacturing_start")?,
        manufacturing_end: r.try_get("manufacturing_end")?,
        expiry_date: r.try_get("expiry_date")?,
        cell_count: r.try_get("cell_count")?,
        viability_percent: r.try_get("viability_percent")?,
        volume_ml: r.try_get("volume_ml")?,
        doses: r.try_get("doses")?,
        status: r.try_get("status")?,
        released_by: r.try_get("released_by")?,
        release_date: r.try_get("release_date")?,
        notes: r.try_get("notes")?,
        version: r.try_get("version")?,
        source: r.try_get("source")?,
        import_id: r.try_get("import_id")?,
        import_line: r.try_get("import_line")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}
