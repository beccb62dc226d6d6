//! One index for the laboratory's batches by date instead of two: `(lab_code,
//! manufacturing_start, status)` serves the monthly capacity count (lab and a date range) and
//! the lists by lab, status and dates (lab and date range, status read from the index). Every
//! index is paid on every batch written, and a million-row import writes a million.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Batches {
    Table,
    LabCode,
    Status,
    ManufacturingStart,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("ix_batches_lab_start_status")
                .table(Batches::Table)
                .col(Batches::LabCode)
                .col(Batches::ManufacturingStart)
                .col(Batches::Status)
                .to_owned(),
        )
        .await?;
        for old in ["ix_batches_lab_status_start", "ix_batches_lab_start"] {
            m.drop_index(Index::drop().name(old).table(Batches::Table).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("ix_batches_lab_status_start")
                .table(Batches::Table)
                .col(Batches::LabCode)
                .col(Batches::Status)
                .col(Batches::ManufacturingStart)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_batches_lab_start")
                .table(Batches::Table)
                .col(Batches::LabCode)
                .col(Batches::ManufacturingStart)
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("ix_batches_lab_start_status")
                .table(Batches::Table)
                .to_owned(),
        )
        .await
    }
}
