//! Test hooks of `materials`: the step execution's consumption, reachable from the store's
//! integration tests. Compiled only with the `test-hooks` feature, which `traza-testkit`
//! turns on.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use traza_domain::access::Actor;
use traza_domain::codes::{LabCode, LotId};
use traza_domain::materials::MaterialLot;

use crate::Store;
use crate::error::StoreError;
use crate::materials::{LotTake, check_lots, consume, give_back};

impl Store {
    /// [`consume`] in a write transaction of its own, as a step would.
    pub async fn test_consume_lot(
        &self,
        actor: &Actor,
        lot_id: &LotId,
        quantity: Decimal,
        batch_number: &str,
    ) -> Result<MaterialLot, StoreError> {
        let mut w = self
            .begin_write(actor.username.as_str(), self.source)
            .await?;
        let lot = consume(&mut w, lot_id, quantity, batch_number).await?;
        w.commit().await?;
        Ok(lot)
    }

    /// [`give_back`] in a write transaction of its own.
    pub async fn test_give_back_lot(
        &self,
        actor: &Actor,
        lot_id: &LotId,
        quantity: Decimal,
        batch_number: &str,
    ) -> Result<MaterialLot, StoreError> {
        let mut w = self
            .begin_write(actor.username.as_str(), self.source)
            .await?;
        let lot = give_back(&mut w, lot_id, quantity, batch_number).await?;
        w.commit().await?;
        Ok(lot)
    }

    /// [`check_lots`], read-only: the lots it found usable.
    pub async fn test_check_lots(
        &self,
        lab: &LabCode,
        materials: &[&str],
        takes: &[(LotId, Decimal)],
        day: NaiveDate,
    ) -> Result<Vec<LotId>, StoreError> {
        let takes: Vec<LotTake> = takes
            .iter()
            .map(|(lot_id, quantity)| LotTake {
                lot_id: lot_id.clone(),
                quantity: *quantity,
            })
            .collect();
        let lots = check_lots(&self.db, lab, materials, &takes, day).await?;
        Ok(lots.into_iter().map(|l| l.lot_id).collect())
    }
}
