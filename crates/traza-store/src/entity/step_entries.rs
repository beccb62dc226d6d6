use sea_orm::entity::prelude::*;

/// One entry of a step of a guided batch (SPEC §8).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "step_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub batch_id: i64,
    pub step_code: String,
    pub performed_at: DateTimeUtc,
    pub recorded_at: DateTimeUtc,
    pub performed_by: String,
    pub room_id: Option<String>,
    /// JSON array of equipment ids.
    pub equipment_ids: String,
    /// JSON array of `{name, value}`.
    pub parameters: String,
    /// JSON array of `{lot_id, quantity}`.
    pub materials: String,
    pub note: Option<String>,
    pub corrects: Option<i64>,
    pub reason: Option<String>,
    pub verified_by: Option<String>,
    pub verified_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
