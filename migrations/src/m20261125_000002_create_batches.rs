//! Batches and everything recorded on them: events, QC results, deviations, signatures,
//! administrations; imports of historical records; per-laboratory batch-number sequences.

use sea_orm_migration::prelude::*;

use crate::m20261125_000001_create_network::{Labs, Products, Users};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Imports {
    Table,
    Id,
    FileName,
    Sha256,
    Encoding,
    Delimiter,
    Rows,
    Created,
    Unchanged,
    Warnings,
    ImportedBy,
    Source,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Batches {
    Table,
    Id,
    BatchNumber,
    ProductCode,
    LabCode,
    Origin,
    AccessRoute,
    TrialId,
    DonorCode,
    PatientCode,
    CollectionDate,
    ManufacturingStart,
    ManufacturingEnd,
    ExpiryDate,
    CellCount,
    ViabilityPercent,
    VolumeMl,
    Doses,
    Status,
    ReleasedBy,
    ReleaseDate,
    Notes,
    Version,
    Source,
    ImportId,
    ImportLine,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum BatchNumberSequences {
    Table,
    LabCode,
    Year,
    LastNumber,
}

#[derive(DeriveIden)]
enum BatchEvents {
    Table,
    Id,
    BatchId,
    Step,
    PerformedAt,
    Note,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
enum QcResults {
    Table,
    Id,
    BatchId,
    Test,
    Value,
    Unit,
    Outcome,
    SpecVersion,
    Supersedes,
    Reason,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
enum Deviations {
    Table,
    Id,
    BatchId,
    Description,
    Severity,
    Status,
    OpenedBy,
    OpenedAt,
    Resolution,
    ClosedBy,
    ClosedAt,
}

#[derive(DeriveIden)]
enum Signatures {
    Table,
    Id,
    BatchId,
    Signer,
    SignerFullName,
    Meaning,
    SignedAt,
    RecordHash,
    Reason,
}

#[derive(DeriveIden)]
enum Administrations {
    Table,
    Id,
    BatchId,
    PatientCode,
    AdministeredOn,
    Hospital,
    RecordedBy,
    RecordedAt,
}

fn id(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn batch_fk(table: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, Alias::new("batch_id"))
        .to(Batches::Table, Batches::Id)
        .to_owned()
}

fn index(name: &str, table: impl IntoIden) -> IndexCreateStatement {
    Index::create().name(name).table(table).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Imports::Table)
                .col(id(Imports::Id))
                .col(ColumnDef::new(Imports::FileName).string().not_null())
                .col(ColumnDef::new(Imports::Sha256).string_len(64).not_null())
                .col(ColumnDef::new(Imports::Encoding).string_len(16).not_null())
                .col(ColumnDef::new(Imports::Delimiter).string_len(4).not_null())
                .col(ColumnDef::new(Imports::Rows).big_integer().not_null())
                .col(ColumnDef::new(Imports::Created).big_integer().not_null())
                .col(ColumnDef::new(Imports::Unchanged).big_integer().not_null())
                .col(ColumnDef::new(Imports::Warnings).big_integer().not_null())
                .col(
                    ColumnDef::new(Imports::ImportedBy)
                        .string_len(32)
                        .not_null(),
                )
                .col(ColumnDef::new(Imports::Source).string_len(16).not_null())
                .col(
                    ColumnDef::new(Imports::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Imports::Table, Imports::ImportedBy)
                        .to(Users::Table, Users::Username),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Batches::Table)
                .col(id(Batches::Id))
                .col(
                    ColumnDef::new(Batches::BatchNumber)
                        .string_len(40)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Batches::ProductCode)
                        .string_len(24)
                        .not_null(),
                )
                .col(ColumnDef::new(Batches::LabCode).string_len(16).not_null())
                .col(ColumnDef::new(Batches::Origin).string_len(16).not_null())
                .col(
                    ColumnDef::new(Batches::AccessRoute)
                        .string_len(32)
                        .not_null(),
                )
                .col(ColumnDef::new(Batches::TrialId).string_len(20))
                .col(ColumnDef::new(Batches::DonorCode).string_len(40).not_null())
                .col(ColumnDef::new(Batches::PatientCode).string_len(40))
                .col(ColumnDef::new(Batches::CollectionDate).date())
                .col(
                    ColumnDef::new(Batches::ManufacturingStart)
                        .date()
                        .not_null(),
                )
                .col(ColumnDef::new(Batches::ManufacturingEnd).date())
                .col(ColumnDef::new(Batches::ExpiryDate).date())
                .col(ColumnDef::new(Batches::CellCount).text())
                .col(ColumnDef::new(Batches::ViabilityPercent).text())
                .col(ColumnDef::new(Batches::VolumeMl).text())
                .col(ColumnDef::new(Batches::Doses).integer().not_null())
                .col(ColumnDef::new(Batches::Status).string_len(16).not_null())
                .col(ColumnDef::new(Batches::ReleasedBy).string())
                .col(ColumnDef::new(Batches::ReleaseDate).date())
                .col(ColumnDef::new(Batches::Notes).text())
                .col(ColumnDef::new(Batches::Version).big_integer().not_null())
                .col(ColumnDef::new(Batches::Source).string_len(16).not_null())
                .col(ColumnDef::new(Batches::ImportId).big_integer())
                .col(ColumnDef::new(Batches::ImportLine).big_integer())
                .col(ColumnDef::new(Batches::CreatedBy).string_len(32).not_null())
                .col(
                    ColumnDef::new(Batches::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Batches::UpdatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Batches::Table, Batches::ProductCode)
                        .to(Products::Table, Products::Code),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Batches::Table, Batches::LabCode)
                        .to(Labs::Table, Labs::Code),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Batches::Table, Batches::ImportId)
                        .to(Imports::Table, Imports::Id),
                )
                .to_owned(),
        )
        .await?;
        // The lookups of SPEC §2/§3: by number, by donor, by patient, by lab + status + date,
        // and by lab + date for the monthly capacity.
        m.create_index(
            index("ux_batches_batch_number", Batches::Table)
                .col(Batches::BatchNumber)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ix_batches_donor_code", Batches::Table)
                .col(Batches::DonorCode)
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ix_batches_patient_code", Batches::Table)
                .col(Batches::PatientCode)
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ix_batches_lab_status_start", Batches::Table)
                .col(Batches::LabCode)
                .col(Batches::Status)
                .col(Batches::ManufacturingStart)
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ix_batches_lab_start", Batches::Table)
                .col(Batches::LabCode)
                .col(Batches::ManufacturingStart)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(BatchNumberSequences::Table)
                .col(
                    ColumnDef::new(BatchNumberSequences::LabCode)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(BatchNumberSequences::Year)
                        .integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(BatchNumberSequences::LastNumber)
                        .big_integer()
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .col(BatchNumberSequences::LabCode)
                        .col(BatchNumberSequences::Year),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(BatchEvents::Table)
                .col(id(BatchEvents::Id))
                .col(
                    ColumnDef::new(BatchEvents::BatchId)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(BatchEvents::Step).string().not_null())
                .col(
                    ColumnDef::new(BatchEvents::PerformedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(ColumnDef::new(BatchEvents::Note).text())
                .col(
                    ColumnDef::new(BatchEvents::RecordedBy)
                        .string_len(32)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(BatchEvents::RecordedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .foreign_key(&mut batch_fk(BatchEvents::Table))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ix_batch_events_batch", BatchEvents::Table)
                .col(BatchEvents::BatchId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(QcResults::Table)
                .col(id(QcResults::Id))
                .col(ColumnDef::new(QcResults::BatchId).big_integer().not_null())
                .col(ColumnDef::new(QcResults::Test).string_len(40).not_null())
                .col(ColumnDef::new(QcResults::Value).string().not_null())
                .col(ColumnDef::new(QcResults::Unit).string_len(30).not_null())
                .col(ColumnDef::new(QcResults::Outcome).string_len(8).not_null())
                .col(ColumnDef::new(QcResults::SpecVersion).integer().not_null())
                .col(ColumnDef::new(QcResults::Supersedes).big_integer())
                .col(ColumnDef::new(QcResults::Reason).text())
                .col(
                    ColumnDef::new(QcResults::RecordedBy)
                        .string_len(32)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(QcResults::RecordedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .foreign_key(&mut batch_fk(QcResults::Table))
                .foreign_key(
                    ForeignKey::create()
                        .from(QcResults::Table, QcResults::Supersedes)
                        .to(QcResults::Table, QcResults::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ix_qc_results_batch", QcResults::Table)
                .col(QcResults::BatchId)
                .to_owned(),
        )
        .await?;
        // A result is superseded at most once: two concurrent retests of one result cannot both land.
        m.create_index(
            index("ux_qc_results_supersedes", QcResults::Table)
                .col(QcResults::Supersedes)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Deviations::Table)
                .col(id(Deviations::Id))
                .col(ColumnDef::new(Deviations::BatchId).big_integer().not_null())
                .col(ColumnDef::new(Deviations::Description).text().not_null())
                .col(
                    ColumnDef::new(Deviations::Severity)
                        .string_len(16)
                        .not_null(),
                )
                .col(ColumnDef::new(Deviations::Status).string_len(16).not_null())
                .col(
                    ColumnDef::new(Deviations::OpenedBy)
                        .string_len(32)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Deviations::OpenedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(ColumnDef::new(Deviations::Resolution).text())
                .col(ColumnDef::new(Deviations::ClosedBy).string_len(32))
                .col(ColumnDef::new(Deviations::ClosedAt).timestamp_with_time_zone())
                .foreign_key(&mut batch_fk(Deviations::Table))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ix_deviations_batch", Deviations::Table)
                .col(Deviations::BatchId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Signatures::Table)
                .col(id(Signatures::Id))
                .col(ColumnDef::new(Signatures::BatchId).big_integer().not_null())
                .col(ColumnDef::new(Signatures::Signer).string_len(32).not_null())
                .col(
                    ColumnDef::new(Signatures::SignerFullName)
                        .string()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Signatures::Meaning)
                        .string_len(32)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Signatures::SignedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Signatures::RecordHash)
                        .string_len(64)
                        .not_null(),
                )
                .col(ColumnDef::new(Signatures::Reason).text())
                .foreign_key(&mut batch_fk(Signatures::Table))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ix_signatures_batch", Signatures::Table)
                .col(Signatures::BatchId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Administrations::Table)
                .col(id(Administrations::Id))
                .col(
                    ColumnDef::new(Administrations::BatchId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Administrations::PatientCode)
                        .string_len(40)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Administrations::AdministeredOn)
                        .date()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Administrations::Hospital)
                        .string()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Administrations::RecordedBy)
                        .string_len(32)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Administrations::RecordedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .foreign_key(&mut batch_fk(Administrations::Table))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ix_administrations_batch", Administrations::Table)
                .col(Administrations::BatchId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ix_administrations_patient", Administrations::Table)
                .col(Administrations::PatientCode)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
