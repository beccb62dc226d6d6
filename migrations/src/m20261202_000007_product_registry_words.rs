//! The words patients use to find a therapy in the public registry (SPEC §6): each product's
//! `indications` (conditions treated) and `keywords`, kept by the coordination unit, stored as
//! JSON lists of text (`[]` for the products made before).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Products {
    Table,
    Indications,
    Keywords,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for column in [Products::Indications, Products::Keywords] {
            m.alter_table(
                Table::alter()
                    .table(Products::Table)
                    .add_column(ColumnDef::new(column).text().not_null().default("[]"))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [Products::Indications, Products::Keywords] {
            m.alter_table(
                Table::alter()
                    .table(Products::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
