//! Lockout and throttling counters, and the last use of a web session (SPEC §2 "Users":
//! authentication). They live in the
//! database so that every `traza serve` behind one PostgreSQL sees them; they are not GMP
//! rows (a lock and an unlock are audit events, each failure a warning in the log).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AccountLocks {
    Table,
    Username,
    Failures,
    LockedUntil,
}

#[derive(DeriveIden)]
enum AddressFailures {
    Table,
    Address,
    Minute,
    Failures,
}

/// A web session ends after 30 minutes without a request: its token's last use.
#[derive(DeriveIden)]
enum Tokens {
    Table,
    LastSeenAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Tokens::Table)
                .add_column(
                    ColumnDef::new(Tokens::LastSeenAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AccountLocks::Table)
                .col(
                    ColumnDef::new(AccountLocks::Username)
                        .string_len(32)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(AccountLocks::Failures)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new(AccountLocks::LockedUntil)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AddressFailures::Table)
                .col(
                    ColumnDef::new(AddressFailures::Address)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(AddressFailures::Minute)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(AddressFailures::Failures)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .primary_key(
                    Index::create()
                        .col(AddressFailures::Address)
                        .col(AddressFailures::Minute),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Tokens::Table)
                .drop_column(Tokens::LastSeenAt)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(AddressFailures::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(AccountLocks::Table).to_owned())
            .await
    }
}
