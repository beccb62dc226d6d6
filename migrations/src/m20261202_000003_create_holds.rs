//! Holds on batches, the deviation investigating an OOS retest, and the flag on an
//! administration given before a hold that now stands (SPEC §2 "Batch": results and hold).
//! Nothing is deleted: lifting a hold fills in who, when and why.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Holds {
    Table,
    Id,
    BatchId,
    Reason,
    PlacedBy,
    PlacedAt,
    ReactionId,
    LiftedBy,
    LiftedAt,
    LiftReason,
}

#[derive(DeriveIden)]
enum Batches {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Reactions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum QcResults {
    Table,
    DeviationId,
}

#[derive(DeriveIden)]
enum Administrations {
    Table,
    BeforeHold,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Holds::Table)
                .col(
                    ColumnDef::new(Holds::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(Holds::BatchId).big_integer().not_null())
                .col(ColumnDef::new(Holds::Reason).text().not_null())
                .col(ColumnDef::new(Holds::PlacedBy).string_len(32).not_null())
                .col(
                    ColumnDef::new(Holds::PlacedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(ColumnDef::new(Holds::ReactionId).big_integer().null())
                .col(ColumnDef::new(Holds::LiftedBy).string_len(32).null())
                .col(
                    ColumnDef::new(Holds::LiftedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(ColumnDef::new(Holds::LiftReason).text().null())
                .foreign_key(
                    ForeignKey::create()
                        .from(Holds::Table, Holds::BatchId)
                        .to(Batches::Table, Batches::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Holds::Table, Holds::ReactionId)
                        .to(Reactions::Table, Reactions::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_holds_batch")
                .table(Holds::Table)
                .col(Holds::BatchId)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(QcResults::Table)
                .add_column(ColumnDef::new(QcResults::DeviationId).big_integer().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Administrations::Table)
                .add_column(
                    ColumnDef::new(Administrations::BeforeHold)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Administrations::Table)
                .drop_column(Administrations::BeforeHold)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(QcResults::Table)
                .drop_column(QcResults::DeviationId)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(Holds::Table).to_owned())
            .await
    }
}
