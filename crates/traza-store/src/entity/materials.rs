use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "materials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name: String,
    pub kind: String,
    pub unit: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The lots received of this material.
    #[sea_orm(has_many = "super::material_lots::Entity")]
    Lots,
}

impl Related<super::material_lots::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Lots.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
