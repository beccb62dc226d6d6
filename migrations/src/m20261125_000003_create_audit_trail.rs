//! The append-only, hash-chained audit trail and its chain head.
//!
//! Every write transaction locks the single `audit_head` row first, so appends are serialised
//! across transactions and processes: ids are gapless and in chain order.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    At,
    Actor,
    Action,
    EntityType,
    EntityKey,
    Before,
    After,
    Reason,
    Source,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum AuditHead {
    Table,
    Id,
    LastId,
    LastHash,
}

const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AuditEvents::Table)
                // Assigned from the chain head, not by a sequence: gapless and in chain order.
                .col(
                    ColumnDef::new(AuditEvents::Id)
                        .big_integer()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(AuditEvents::At)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(ColumnDef::new(AuditEvents::Actor).string_len(32).not_null())
                .col(
                    ColumnDef::new(AuditEvents::Action)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(AuditEvents::EntityType)
                        .string_len(32)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(AuditEvents::EntityKey)
                        .string_len(64)
                        .not_null(),
                )
                .col(ColumnDef::new(AuditEvents::Before).text())
                .col(ColumnDef::new(AuditEvents::After).text())
                .col(ColumnDef::new(AuditEvents::Reason).text())
                .col(
                    ColumnDef::new(AuditEvents::Source)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(AuditEvents::PrevHash)
                        .string_len(64)
                        .not_null(),
                )
                .col(ColumnDef::new(AuditEvents::Hash).string_len(64).not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_audit_events_entity")
                .table(AuditEvents::Table)
                .col(AuditEvents::EntityType)
                .col(AuditEvents::EntityKey)
                .col(AuditEvents::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuditHead::Table)
                .col(
                    ColumnDef::new(AuditHead::Id)
                        .integer()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(AuditHead::LastId).big_integer().not_null())
                .col(
                    ColumnDef::new(AuditHead::LastHash)
                        .string_len(64)
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(AuditHead::Table)
                .columns([AuditHead::Id, AuditHead::LastId, AuditHead::LastHash])
                .values_panic([1.into(), 0i64.into(), GENESIS_HASH.into()])
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
