//! `audit verify` over the materials tables: the catalogue, the lots and their signatures
//! against the state their events give.

use std::collections::HashSet;

use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};
use serde_json::Value;
use traza_domain::reconcile::{Mismatch, Reconciler, Table};

use crate::entity::{lot_signatures, material_lots, materials};
use crate::error::StoreError;
use crate::materials::{lot_from, material_from};
use crate::write::json_of;

pub(crate) fn unreadable(table: Table, key: String, e: &StoreError) -> Mismatch {
    Mismatch {
        table: table.as_str(),
        key,
        column: None,
        problem: format!("the row does not read back ({e}): changed outside Traza"),
    }
}

/// The catalogue, the lots and their signatures against the state their events give; the
/// first difference.
pub(crate) async fn reconcile(
    db: &impl ConnectionTrait,
    rows: &Reconciler,
) -> Result<Option<Mismatch>, StoreError> {
    let mut seen = HashSet::new();
    for m in materials::Entity::find().all(db).await? {
        let key = m.code.clone();
        let material = match material_from(m) {
            Ok(v) => v,
            Err(e) => return Ok(Some(unreadable(Table::Materials, key, &e))),
        };
        if let Err(e) = rows.check(Table::Materials, &key, &json_of(&material)) {
            return Ok(Some(e));
        }
        seen.insert(key);
    }
    if let Some(gone) = rows.first_missing(Table::Materials, &seen) {
        return Ok(Some(gone));
    }
    let mut seen = HashSet::new();
    for m in material_lots::Entity::find()
        .order_by_asc(material_lots::Column::LotId)
        .all(db)
        .await?
    {
        let key = m.lot_id.clone();
        let lot = match lot_from(&m) {
            Ok(v) => v,
            Err(e) => return Ok(Some(unreadable(Table::MaterialLots, key, &e))),
        };
        if let Err(e) = rows.check(Table::MaterialLots, &key, &json_of(&lot)) {
            return Ok(Some(e));
        }
        seen.insert(key);
    }
    if let Some(gone) = rows.first_missing(Table::MaterialLots, &seen) {
        return Ok(Some(gone));
    }
    let mut seen = HashSet::new();
    for row in lot_signatures::Entity::find()
        .order_by_asc(lot_signatures::Column::Id)
        .into_json()
        .all(db)
        .await?
    {
        let key = row
            .get("id")
            .and_then(Value::as_i64)
            .unwrap_or_default()
            .to_string();
        if let Err(e) = rows.check(Table::LotSignatures, &key, &row) {
            return Ok(Some(e));
        }
        seen.insert(key);
    }
    Ok(rows.first_missing(Table::LotSignatures, &seen))
}
