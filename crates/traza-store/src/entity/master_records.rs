use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "master_records")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub product_code: String,
    pub lab_code: String,
    pub version: i32,
    /// The steps as the domain's JSON (`Vec<MbrStep>`).
    pub steps: String,
    pub author: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTimeUtc>,
    pub effective_from: Option<Date>,
    pub approval_hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
