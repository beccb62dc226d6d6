//! Laboratories, products with versioned specifications, assignments, users and tokens.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Labs {
    Table,
    Code,
    Name,
    City,
    Province,
    Institution,
    AuthorisationNumber,
    GmpCertificateValidUntil,
    Status,
    TrainingOnly,
    Specialisations,
    CapacityPerMonth,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum Products {
    Table,
    Code,
    Name,
    AtmpClass,
    Origin,
    AccessRoutes,
    ShelfLifeDays,
    Status,
    SpecVersion,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProductSpecifications {
    Table,
    ProductCode,
    Version,
    Tests,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Assignments {
    Table,
    Id,
    ProductCode,
    LabCode,
    AccessRoute,
    AuthorisationRef,
    ValidFrom,
    ValidUntil,
    Reason,
    AssignedBy,
    CreatedAt,
    EndedBy,
    EndedAt,
    EndReason,
}

#[derive(DeriveIden)]
pub(crate) enum Users {
    Table,
    Username,
    FullName,
    Role,
    PasswordHash,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum UserLabs {
    Table,
    Username,
    LabCode,
}

#[derive(DeriveIden)]
enum Tokens {
    Table,
    TokenHash,
    Username,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Labs::Table)
                .col(
                    ColumnDef::new(Labs::Code)
                        .string_len(16)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Labs::Name).string().not_null())
                .col(ColumnDef::new(Labs::City).string().not_null())
                .col(ColumnDef::new(Labs::Province).string().not_null())
                .col(ColumnDef::new(Labs::Institution).string().not_null())
                .col(ColumnDef::new(Labs::AuthorisationNumber).string())
                .col(ColumnDef::new(Labs::GmpCertificateValidUntil).date())
                .col(ColumnDef::new(Labs::Status).string_len(16).not_null())
                .col(ColumnDef::new(Labs::TrainingOnly).boolean().not_null())
                .col(ColumnDef::new(Labs::Specialisations).text().not_null())
                .col(ColumnDef::new(Labs::CapacityPerMonth).integer())
                .col(
                    ColumnDef::new(Labs::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Labs::UpdatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Products::Table)
                .col(
                    ColumnDef::new(Products::Code)
                        .string_len(24)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Products::Name).string().not_null())
                .col(
                    ColumnDef::new(Products::AtmpClass)
                        .string_len(32)
                        .not_null(),
                )
                .col(ColumnDef::new(Products::Origin).string_len(16).not_null())
                .col(ColumnDef::new(Products::AccessRoutes).text().not_null())
                .col(ColumnDef::new(Products::ShelfLifeDays).integer().not_null())
                .col(ColumnDef::new(Products::Status).string_len(16).not_null())
                .col(ColumnDef::new(Products::SpecVersion).integer().not_null())
                .col(
                    ColumnDef::new(Products::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Products::UpdatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ProductSpecifications::Table)
                .col(
                    ColumnDef::new(ProductSpecifications::ProductCode)
                        .string_len(24)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ProductSpecifications::Version)
                        .integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ProductSpecifications::Tests)
                        .text()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ProductSpecifications::CreatedBy)
                        .string()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ProductSpecifications::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .col(ProductSpecifications::ProductCode)
                        .col(ProductSpecifications::Version),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            ProductSpecifications::Table,
                            ProductSpecifications::ProductCode,
                        )
                        .to(Products::Table, Products::Code),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Assignments::Table)
                .col(
                    ColumnDef::new(Assignments::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(Assignments::ProductCode)
                        .string_len(24)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Assignments::LabCode)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Assignments::AccessRoute)
                        .string_len(32)
                        .not_null(),
                )
                .col(ColumnDef::new(Assignments::AuthorisationRef).string())
                .col(ColumnDef::new(Assignments::ValidFrom).date().not_null())
                .col(ColumnDef::new(Assignments::ValidUntil).date())
                .col(ColumnDef::new(Assignments::Reason).text().not_null())
                .col(ColumnDef::new(Assignments::AssignedBy).string().not_null())
                .col(
                    ColumnDef::new(Assignments::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(ColumnDef::new(Assignments::EndedBy).string())
                .col(ColumnDef::new(Assignments::EndedAt).timestamp_with_time_zone())
                .col(ColumnDef::new(Assignments::EndReason).text())
                .foreign_key(
                    ForeignKey::create()
                        .from(Assignments::Table, Assignments::ProductCode)
                        .to(Products::Table, Products::Code),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Assignments::Table, Assignments::LabCode)
                        .to(Labs::Table, Labs::Code),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_assignments_product_lab")
                .table(Assignments::Table)
                .col(Assignments::ProductCode)
                .col(Assignments::LabCode)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(
                    ColumnDef::new(Users::Username)
                        .string_len(32)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Users::FullName).string().not_null())
                .col(ColumnDef::new(Users::Role).string_len(16).not_null())
                .col(ColumnDef::new(Users::PasswordHash).string().not_null())
                .col(ColumnDef::new(Users::Active).boolean().not_null())
                .col(
                    ColumnDef::new(Users::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Users::UpdatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(UserLabs::Table)
                .col(ColumnDef::new(UserLabs::Username).string_len(32).not_null())
                .col(ColumnDef::new(UserLabs::LabCode).string_len(16).not_null())
                .primary_key(
                    Index::create()
                        .col(UserLabs::Username)
                        .col(UserLabs::LabCode),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(UserLabs::Table, UserLabs::Username)
                        .to(Users::Table, Users::Username),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(UserLabs::Table, UserLabs::LabCode)
                        .to(Labs::Table, Labs::Code),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Tokens::Table)
                .col(
                    ColumnDef::new(Tokens::TokenHash)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Tokens::Username).string_len(32).not_null())
                .col(
                    ColumnDef::new(Tokens::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Tokens::ExpiresAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(ColumnDef::new(Tokens::RevokedAt).timestamp_with_time_zone())
                .foreign_key(
                    ForeignKey::create()
                        .from(Tokens::Table, Tokens::Username)
                        .to(Users::Table, Users::Username),
                )
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
