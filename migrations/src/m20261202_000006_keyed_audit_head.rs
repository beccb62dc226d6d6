//! The audit chain's key (SPEC §2 "Audit trail"): the head records which key signs it and
//! from which event the trail is keyed. The key itself never enters the database; these two
//! columns only let a writer without the key refuse to start, and `verify` say what it needs.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditHead {
    Table,
    /// The fingerprint of the key that signs the next event (null: a plain chain).
    KeyFingerprint,
    /// The first keyed event (null: a plain chain).
    KeyedFrom,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        m.alter_table(
            Table::alter()
                .table(AuditHead::Table)
                .add_column(
                    ColumnDef::new(AuditHead::KeyFingerprint)
                        .string_len(16)
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(AuditHead::Table)
                .add_column(ColumnDef::new(AuditHead::KeyedFrom).big_integer().null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the audit chain's key record is not removed: keyed events would no longer be recognised"
                .into(),
        ))
    }
}
