//! Adverse reactions reported against administrations (SPEC §6, biovigilance). A report is
//! never deleted: closing it fills in the conclusion, who closed it and when.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Reactions {
    Table,
    Id,
    BatchId,
    AdministrationId,
    ReportedOn,
    Severity,
    Imputability,
    Description,
    Status,
    ReportedBy,
    ReportedAt,
    Conclusion,
    ClosedBy,
    ClosedAt,
}

#[derive(DeriveIden)]
enum Batches {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Administrations {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Reactions::Table)
                .col(
                    ColumnDef::new(Reactions::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(Reactions::BatchId).big_integer().not_null())
                .col(
                    ColumnDef::new(Reactions::AdministrationId)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(Reactions::ReportedOn).date().not_null())
                .col(
                    ColumnDef::new(Reactions::Severity)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Reactions::Imputability)
                        .string_len(16)
                        .not_null(),
                )
                .col(ColumnDef::new(Reactions::Description).text().not_null())
                .col(ColumnDef::new(Reactions::Status).string_len(8).not_null())
                .col(
                    ColumnDef::new(Reactions::ReportedBy)
                        .string_len(32)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Reactions::ReportedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(ColumnDef::new(Reactions::Conclusion).text().null())
                .col(ColumnDef::new(Reactions::ClosedBy).string_len(32).null())
                .col(
                    ColumnDef::new(Reactions::ClosedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Reactions::Table, Reactions::BatchId)
                        .to(Batches::Table, Batches::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Reactions::Table, Reactions::AdministrationId)
                        .to(Administrations::Table, Administrations::Id),
                )
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("ix_reactions_batch", vec![Reactions::BatchId]),
            (
                "ix_reactions_administration",
                vec![Reactions::AdministrationId],
            ),
            // The work list: open reports, newest first.
            (
                "ix_reactions_status_id",
                vec![Reactions::Status, Reactions::Id],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Reactions::Table);
            for c in cols {
                index.col(c);
            }
            m.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Reactions::Table).to_owned())
            .await
    }
}
