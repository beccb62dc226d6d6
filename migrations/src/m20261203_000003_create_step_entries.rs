//! The execution of guided batches (SPEC §8): one row per step entry (a correction is a new
//! row naming the one it corrects), and the exceptions entries raise, open until QA resolves
//! them. Nothing is deleted; a verification and a resolution fill in who, when and why.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StepEntries {
    Table,
    Id,
    BatchId,
    StepCode,
    PerformedAt,
    RecordedAt,
    PerformedBy,
    RoomId,
    EquipmentIds,
    Parameters,
    Materials,
    Note,
    Corrects,
    Reason,
    VerifiedBy,
    VerifiedAt,
}

#[derive(DeriveIden)]
enum BatchExceptions {
    Table,
    Id,
    BatchId,
    EntryId,
    Kind,
    Severity,
    StepCode,
    Message,
    Status,
    DeviationId,
    ResolvedBy,
    ResolvedAt,
    Resolution,
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
                .table(StepEntries::Table)
                .col(
                    ColumnDef::new(StepEntries::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(StepEntries::BatchId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(StepEntries::StepCode)
                        .string_len(40)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(StepEntries::PerformedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(StepEntries::RecordedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(StepEntries::PerformedBy)
                        .string_len(32)
                        .not_null(),
                )
                .col(ColumnDef::new(StepEntries::RoomId).string_len(40).null())
                .col(ColumnDef::new(StepEntries::EquipmentIds).text().not_null())
                .col(ColumnDef::new(StepEntries::Parameters).text().not_null())
                .col(ColumnDef::new(StepEntries::Materials).text().not_null())
                .col(ColumnDef::new(StepEntries::Note).text().null())
                .col(ColumnDef::new(StepEntries::Corrects).big_integer().null())
                .col(ColumnDef::new(StepEntries::Reason).text().null())
                .col(
                    ColumnDef::new(StepEntries::VerifiedBy)
                        .string_len(32)
                        .null(),
                )
                .col(
                    ColumnDef::new(StepEntries::VerifiedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(StepEntries::Table, StepEntries::BatchId)
                        .to(Batches::Table, Batches::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_step_entries_batch")
                .table(StepEntries::Table)
                .col(StepEntries::BatchId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(BatchExceptions::Table)
                .col(
                    ColumnDef::new(BatchExceptions::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(BatchExceptions::BatchId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(BatchExceptions::EntryId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(BatchExceptions::Kind)
                        .string_len(32)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(BatchExceptions::Severity)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(BatchExceptions::StepCode)
                        .string_len(40)
                        .not_null(),
                )
                .col(ColumnDef::new(BatchExceptions::Message).text().not_null())
                .col(
                    ColumnDef::new(BatchExceptions::Status)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(BatchExceptions::DeviationId)
                        .big_integer()
                        .null(),
                )
                .col(
                    ColumnDef::new(BatchExceptions::ResolvedBy)
                        .string_len(32)
                        .null(),
                )
                .col(
                    ColumnDef::new(BatchExceptions::ResolvedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(ColumnDef::new(BatchExceptions::Resolution).text().null())
                .foreign_key(
                    ForeignKey::create()
                        .from(BatchExceptions::Table, BatchExceptions::BatchId)
                        .to(Batches::Table, Batches::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_batch_exceptions_batch")
                .table(BatchExceptions::Table)
                .col(BatchExceptions::BatchId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(BatchExceptions::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(StepEntries::Table).to_owned())
            .await
    }
}
