use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name: String,
    pub atmp_class: String,
    pub origin: String,
    pub access_routes: String,
    pub shelf_life_days: i32,
    pub status: String,
    pub spec_version: i32,
    /// JSON list of words.
    pub indications: String,
    /// JSON list of words.
    pub keywords: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
