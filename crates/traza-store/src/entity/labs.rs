use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "labs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name: String,
    pub city: String,
    pub province: String,
    pub institution: String,
    pub authorisation_number: Option<String>,
    pub gmp_certificate_valid_until: Option<Date>,
    pub status: String,
    pub training_only: bool,
    pub specialisations: String,
    pub capacity_per_month: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
