//! The master batch records (SPEC §8): one row per version of the record of a product at a
//! laboratory. Only drafts change; approval fills in who, when, from which date and the hash
//! of what was approved. Which version guides a batch is kept beside the batch, written once
//! when the batch is made (`batch_guides`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MasterRecords {
    Table,
    Id,
    ProductCode,
    LabCode,
    Version,
    Steps,
    Author,
    CreatedAt,
    UpdatedAt,
    ApprovedBy,
    ApprovedAt,
    EffectiveFrom,
    ApprovalHash,
}

#[derive(DeriveIden)]
enum BatchGuides {
    Table,
    Id,
    BatchId,
    MbrId,
}

#[derive(DeriveIden)]
enum Batches {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(MasterRecords::Table)
                .col(
                    ColumnDef::new(MasterRecords::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(MasterRecords::ProductCode)
                        .string_len(40)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(MasterRecords::LabCode)
                        .string_len(40)
                        .not_null(),
                )
                .col(ColumnDef::new(MasterRecords::Version).integer().not_null())
                .col(ColumnDef::new(MasterRecords::Steps).text().not_null())
                .col(
                    ColumnDef::new(MasterRecords::Author)
                        .string_len(32)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(MasterRecords::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(MasterRecords::UpdatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(MasterRecords::ApprovedBy)
                        .string_len(32)
                        .null(),
                )
                .col(
                    ColumnDef::new(MasterRecords::ApprovedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(ColumnDef::new(MasterRecords::EffectiveFrom).date().null())
                .col(
                    ColumnDef::new(MasterRecords::ApprovalHash)
                        .string_len(64)
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_master_records_version")
                .table(MasterRecords::Table)
                .col(MasterRecords::ProductCode)
                .col(MasterRecords::LabCode)
                .col(MasterRecords::Version)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(BatchGuides::Table)
                .col(
                    ColumnDef::new(BatchGuides::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(BatchGuides::BatchId)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(BatchGuides::MbrId).big_integer().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from(BatchGuides::Table, BatchGuides::BatchId)
                        .to(Batches::Table, Batches::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(BatchGuides::Table, BatchGuides::MbrId)
                        .to(MasterRecords::Table, MasterRecords::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_batch_guides_batch")
                .table(BatchGuides::Table)
                .col(BatchGuides::BatchId)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(BatchGuides::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(MasterRecords::Table).to_owned())
            .await
    }
}
