use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reactions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub batch_id: i64,
    pub administration_id: i64,
    pub reported_on: Date,
    pub severity: String,
    pub imputability: String,
    pub description: String,
    pub status: String,
    pub reported_by: String,
    pub reported_at: DateTimeUtc,
    pub conclusion: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The batch whose record this row is part of.
    #[sea_orm(
        belongs_to = "super::batches::Entity",
        from = "Column::BatchId",
        to = "super::batches::Column::Id"
    )]
    Batch,
    /// The administration the reaction followed.
    #[sea_orm(
        belongs_to = "super::administrations::Entity",
        from = "Column::AdministrationId",
        to = "super::administrations::Column::Id"
    )]
    Administration,
}

impl Related<super::batches::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Batch.def()
    }
}

impl Related<super::administrations::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Administration.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
