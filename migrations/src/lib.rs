//! Traza's schema. The same migrations run on SQLite and PostgreSQL; sea-query writes the
//! dialect. Decimals are stored as canonical TEXT (exact on both backends: sea-orm would store
//! a `Decimal` on SQLite as a float). Nothing in the schema cascades a delete: GMP records are
//! never deleted.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_create_network;
mod m20261125_000002_create_batches;
mod m20261125_000003_create_audit_trail;
mod m20261201_000001_merge_lab_indexes;
mod m20261202_000001_batch_parents_guarded;
mod m20261202_000002_create_reactions;
mod m20261202_000003_create_holds;
mod m20261202_000004_trail_append_only;
mod m20261202_000005_create_auth_counters;
mod m20261202_000006_keyed_audit_head;
mod m20261202_000007_product_registry_words;
mod m20261203_000001_create_materials_and_equipment;
mod m20261203_000002_create_master_records;
mod m20261203_000003_create_step_entries;
mod m20261204_000001_dashboard_rollup;
mod m20261205_000001_batch_stamp;
mod m20261205_000002_master_record_stamp;

pub struct Migrator;

/// Runs the SQL a migration wrote for each database: PostgreSQL's, or SQLite's (triggers and
/// their functions differ between the two, so some migrations carry both texts).
async fn execute_for_backend(
    m: &SchemaManager<'_>,
    postgres: &str,
    sqlite: &str,
) -> Result<(), DbErr> {
    use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};
    let sql = match m.get_database_backend() {
        DbBackend::Postgres => postgres,
        _ => sqlite,
    };
    m.get_connection().execute_unprepared(sql).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_network::Migration),
            Box::new(m20261125_000002_create_batches::Migration),
            Box::new(m20261125_000003_create_audit_trail::Migration),
            Box::new(m20261201_000001_merge_lab_indexes::Migration),
            Box::new(m20261202_000001_batch_parents_guarded::Migration),
            Box::new(m20261202_000002_create_reactions::Migration),
            Box::new(m20261202_000003_create_holds::Migration),
            Box::new(m20261202_000004_trail_append_only::Migration),
            Box::new(m20261202_000005_create_auth_counters::Migration),
            Box::new(m20261202_000006_keyed_audit_head::Migration),
            Box::new(m20261202_000007_product_registry_words::Migration),
            Box::new(m20261203_000001_create_materials_and_equipment::Migration),
            Box::new(m20261203_000002_create_master_records::Migration),
            Box::new(m20261203_000003_create_step_entries::Migration),
            Box::new(m20261204_000001_dashboard_rollup::Migration),
            Box::new(m20261205_000001_batch_stamp::Migration),
            Box::new(m20261205_000002_master_record_stamp::Migration),
        ]
    }
}
