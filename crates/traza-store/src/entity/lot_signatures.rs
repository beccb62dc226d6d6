use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lot_signatures")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub lot_id: String,
    pub signer: String,
    pub signer_full_name: String,
    pub meaning: String,
    pub signed_at: DateTimeUtc,
    pub record_hash: String,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The lot whose disposition this signature is.
    #[sea_orm(
        belongs_to = "super::material_lots::Entity",
        from = "Column::LotId",
        to = "super::material_lots::Column::LotId"
    )]
    Lot,
}

impl Related<super::material_lots::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Lot.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
