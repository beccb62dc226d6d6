use sea_orm::entity::prelude::*;

/// An exception a step entry raised; open until QA resolves it (SPEC §8).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "batch_exceptions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub batch_id: i64,
    pub entry_id: i64,
    pub kind: String,
    pub severity: String,
    pub step_code: String,
    pub message: String,
    pub status: String,
    pub deviation_id: Option<i64>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolution: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
