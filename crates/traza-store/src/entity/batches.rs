use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "batches")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub batch_number: String,
    pub product_code: String,
    pub lab_code: String,
    pub origin: String,
    pub access_route: String,
    pub trial_id: Option<String>,
    pub donor_code: String,
    pub patient_code: Option<String>,
    pub collection_date: Option<Date>,
    pub manufacturing_start: Date,
    pub manufacturing_end: Option<Date>,
    pub expiry_date: Option<Date>,
    pub cell_count: Option<String>,
    pub viability_percent: Option<String>,
    pub volume_ml: Option<String>,
    pub doses: i32,
    pub status: String,
    pub released_by: Option<String>,
    pub release_date: Option<Date>,
    pub notes: Option<String>,
    pub version: i64,
    pub source: String,
    pub import_id: Option<i64>,
    pub import_line: Option<i64>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::qc_results::Entity")]
    QcResults,
    #[sea_orm(has_many = "super::batch_events::Entity")]
    BatchEvents,
    #[sea_orm(has_many = "super::deviations::Entity")]
    Deviations,
    #[sea_orm(has_many = "super::signatures::Entity")]
    Signatures,
    #[sea_orm(has_many = "super::administrations::Entity")]
    Administrations,
    #[sea_orm(has_many = "super::holds::Entity")]
    Holds,
    #[sea_orm(has_many = "super::reactions::Entity")]
    Reactions,
}

impl Related<super::qc_results::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::QcResults.def()
    }
}

impl Related<super::batch_events::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::BatchEvents.def()
    }
}

impl Related<super::deviations::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Deviations.def()
    }
}

impl Related<super::signatures::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Signatures.def()
    }
}

impl Related<super::administrations::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Administrations.def()
    }
}

impl Related<super::holds::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Holds.def()
    }
}

impl Related<super::reactions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Reactions.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
