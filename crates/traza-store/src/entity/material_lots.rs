use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "material_lots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub lot_id: String,
    pub lab_code: String,
    pub material_code: String,
    pub supplier: String,
    pub supplier_lot: String,
    pub received_on: Date,
    pub expiry_date: Date,
    /// Canonical decimal text.
    pub quantity_received: String,
    /// Canonical decimal text.
    pub quantity_consumed: String,
    pub status: String,
    /// Moved by every change of the row: the compare-and-set of a consumption.
    pub version: i64,
    pub received_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The catalogue's material of the lot.
    #[sea_orm(
        belongs_to = "super::materials::Entity",
        from = "Column::MaterialCode",
        to = "super::materials::Column::Code"
    )]
    Material,
    /// The signature that released or rejected it.
    #[sea_orm(has_many = "super::lot_signatures::Entity")]
    Signatures,
}

impl Related<super::materials::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Material.def()
    }
}

impl Related<super::lot_signatures::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Signatures.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
