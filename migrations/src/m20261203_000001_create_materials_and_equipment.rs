//! SPEC §8: the network's catalogue of materials, each laboratory's material lots and the
//! signatures that release or reject them, and each laboratory's equipment and rooms.
//!
//! Quantities are canonical decimal TEXT like every decimal of the schema. A lot carries a
//! `version`, moved by every change of its row: a consumption is a conditional UPDATE on the
//! version it read, so two steps racing for the last units cannot both take them even on a
//! connection that skipped the audit head's lock. On PostgreSQL the lot signatures are
//! append-only, like the batch signatures (trigger function of migration 000004).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Materials {
    Table,
    Code,
    Name,
    Kind,
    Unit,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MaterialLots {
    Table,
    LotId,
    LabCode,
    MaterialCode,
    Supplier,
    SupplierLot,
    ReceivedOn,
    ExpiryDate,
    QuantityReceived,
    QuantityConsumed,
    Status,
    Version,
    ReceivedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LotSignatures {
    Table,
    Id,
    LotId,
    Signer,
    SignerFullName,
    Meaning,
    SignedAt,
    RecordHash,
    Reason,
}

#[derive(DeriveIden)]
enum Equipment {
    Table,
    LabCode,
    Id,
    Class,
    Status,
    CalibrationDue,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Rooms {
    Table,
    LabCode,
    Id,
    Grade,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Labs {
    Table,
    Code,
}

const PG_UP: &str = r#"
CREATE TRIGGER lot_signatures_append_only BEFORE UPDATE OR DELETE ON lot_signatures
    FOR EACH ROW EXECUTE FUNCTION traza_append_only();
CREATE TRIGGER lot_signatures_no_truncate BEFORE TRUNCATE ON lot_signatures
    FOR EACH STATEMENT EXECUTE FUNCTION traza_append_only();
"#;

const PG_DOWN: &str = r#"
DROP TRIGGER IF EXISTS lot_signatures_append_only ON lot_signatures;
DROP TRIGGER IF EXISTS lot_signatures_no_truncate ON lot_signatures;
"#;

fn created_at<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Materials::Table)
                .col(
                    ColumnDef::new(Materials::Code)
                        .string_len(24)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Materials::Name).text().not_null())
                .col(ColumnDef::new(Materials::Kind).string_len(32).not_null())
                .col(ColumnDef::new(Materials::Unit).string_len(20).not_null())
                .col(created_at(Materials::CreatedAt))
                .col(created_at(Materials::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(MaterialLots::Table)
                .col(
                    ColumnDef::new(MaterialLots::LotId)
                        .string_len(40)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(MaterialLots::LabCode)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(MaterialLots::MaterialCode)
                        .string_len(24)
                        .not_null(),
                )
                .col(ColumnDef::new(MaterialLots::Supplier).text().not_null())
                .col(ColumnDef::new(MaterialLots::SupplierLot).text().not_null())
                .col(ColumnDef::new(MaterialLots::ReceivedOn).date().not_null())
                .col(ColumnDef::new(MaterialLots::ExpiryDate).date().not_null())
                .col(
                    ColumnDef::new(MaterialLots::QuantityReceived)
                        .text()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(MaterialLots::QuantityConsumed)
                        .text()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(MaterialLots::Status)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(MaterialLots::Version)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(MaterialLots::ReceivedBy)
                        .string_len(32)
                        .not_null(),
                )
                .col(created_at(MaterialLots::CreatedAt))
                .col(created_at(MaterialLots::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(MaterialLots::Table, MaterialLots::LabCode)
                        .to(Labs::Table, Labs::Code),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(MaterialLots::Table, MaterialLots::MaterialCode)
                        .to(Materials::Table, Materials::Code),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_material_lots_lab_status")
                .table(MaterialLots::Table)
                .col(MaterialLots::LabCode)
                .col(MaterialLots::Status)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_material_lots_material")
                .table(MaterialLots::Table)
                .col(MaterialLots::MaterialCode)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(LotSignatures::Table)
                .col(
                    ColumnDef::new(LotSignatures::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(LotSignatures::LotId)
                        .string_len(40)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(LotSignatures::Signer)
                        .string_len(32)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(LotSignatures::SignerFullName)
                        .text()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(LotSignatures::Meaning)
                        .string_len(40)
                        .not_null(),
                )
                .col(created_at(LotSignatures::SignedAt))
                .col(
                    ColumnDef::new(LotSignatures::RecordHash)
                        .string_len(64)
                        .not_null(),
                )
                .col(ColumnDef::new(LotSignatures::Reason).text())
                .foreign_key(
                    ForeignKey::create()
                        .from(LotSignatures::Table, LotSignatures::LotId)
                        .to(MaterialLots::Table, MaterialLots::LotId),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_lot_signatures_lot")
                .table(LotSignatures::Table)
                .col(LotSignatures::LotId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Equipment::Table)
                .col(ColumnDef::new(Equipment::LabCode).string_len(16).not_null())
                .col(ColumnDef::new(Equipment::Id).string_len(32).not_null())
                .col(ColumnDef::new(Equipment::Class).string_len(40).not_null())
                .col(ColumnDef::new(Equipment::Status).string_len(16).not_null())
                .col(ColumnDef::new(Equipment::CalibrationDue).date().not_null())
                .col(created_at(Equipment::CreatedAt))
                .col(created_at(Equipment::UpdatedAt))
                .primary_key(Index::create().col(Equipment::LabCode).col(Equipment::Id))
                .foreign_key(
                    ForeignKey::create()
                        .from(Equipment::Table, Equipment::LabCode)
                        .to(Labs::Table, Labs::Code),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Rooms::Table)
                .col(ColumnDef::new(Rooms::LabCode).string_len(16).not_null())
                .col(ColumnDef::new(Rooms::Id).string_len(32).not_null())
                .col(ColumnDef::new(Rooms::Grade).string_len(1).not_null())
                .col(created_at(Rooms::CreatedAt))
                .primary_key(Index::create().col(Rooms::LabCode).col(Rooms::Id))
                .foreign_key(
                    ForeignKey::create()
                        .from(Rooms::Table, Rooms::LabCode)
                        .to(Labs::Table, Labs::Code),
                )
                .to_owned(),
        )
        .await?;

        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection().execute_unprepared(PG_UP).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection().execute_unprepared(PG_DOWN).await?;
        }
        for table in [
            Rooms::Table.into_iden(),
            Equipment::Table.into_iden(),
            LotSignatures::Table.into_iden(),
            MaterialLots::Table.into_iden(),
            Materials::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
