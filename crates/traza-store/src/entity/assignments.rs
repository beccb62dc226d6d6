use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assignments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub product_code: String,
    pub lab_code: String,
    pub access_route: String,
    pub authorisation_ref: Option<String>,
    pub valid_from: Date,
    pub valid_until: Option<Date>,
    pub reason: String,
    pub assigned_by: String,
    pub created_at: DateTimeUtc,
    pub ended_by: Option<String>,
    pub ended_at: Option<DateTimeUtc>,
    pub end_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
