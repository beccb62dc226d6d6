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
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
