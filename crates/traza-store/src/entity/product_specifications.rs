use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "product_specifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i32,
    pub tests: String,
    pub created_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
