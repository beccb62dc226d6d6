//! PostgreSQL only: the batch's references to its product, laboratory and import are kept by
//! guards on the referenced rows instead of foreign keys on every batch.
//!
//! A foreign key on `batches` costs a lookup and a row lock in the referenced table for every
//! batch written, and a million-row historical import writes a million: measured at 200,000
//! rows, `COPY` into `batches` took 9.3 s with the three keys and 6.1 s without (the SPEC §7
//! yardstick: 4.6 s). What the keys protected is kept another way:
//!
//! - the referenced rows can never disappear or change key: a trigger refuses any `DELETE`
//!   of a product, laboratory or import, and any change of a product's or laboratory's code
//!   (Traza deletes nothing GMP anyway; this holds against hand-written SQL too);
//! - every batch is written by the store after it has checked, in the same transaction, that
//!   its product and laboratory exist (creation: the product's assignment to the laboratory;
//!   import: each row against the network) and its import row was written by that import.
//!
//! SQLite keeps its foreign keys: there they cost little, and it cannot drop a constraint
//! without rebuilding the table.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE batches
    DROP CONSTRAINT IF EXISTS batches_product_code_fkey,
    DROP CONSTRAINT IF EXISTS batches_lab_code_fkey,
    DROP CONSTRAINT IF EXISTS batches_import_id_fkey;

CREATE FUNCTION traza_keep_batch_parent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a row of % is referenced by batches: it is never deleted and its key never changes', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER products_kept BEFORE DELETE ON products
    FOR EACH ROW EXECUTE FUNCTION traza_keep_batch_parent();
CREATE TRIGGER products_code_kept BEFORE UPDATE ON products
    FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION traza_keep_batch_parent();
CREATE TRIGGER labs_kept BEFORE DELETE ON labs
    FOR EACH ROW EXECUTE FUNCTION traza_keep_batch_parent();
CREATE TRIGGER labs_code_kept BEFORE UPDATE ON labs
    FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION traza_keep_batch_parent();
CREATE TRIGGER imports_kept BEFORE DELETE ON imports
    FOR EACH ROW EXECUTE FUNCTION traza_keep_batch_parent();
CREATE TRIGGER imports_id_kept BEFORE UPDATE ON imports
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION traza_keep_batch_parent();
"#;

const DOWN: &str = r#"
DROP TRIGGER IF EXISTS products_kept ON products;
DROP TRIGGER IF EXISTS products_code_kept ON products;
DROP TRIGGER IF EXISTS labs_kept ON labs;
DROP TRIGGER IF EXISTS labs_code_kept ON labs;
DROP TRIGGER IF EXISTS imports_kept ON imports;
DROP TRIGGER IF EXISTS imports_id_kept ON imports;
DROP FUNCTION IF EXISTS traza_keep_batch_parent();
ALTER TABLE batches
    ADD CONSTRAINT batches_product_code_fkey FOREIGN KEY (product_code) REFERENCES products (code),
    ADD CONSTRAINT batches_lab_code_fkey FOREIGN KEY (lab_code) REFERENCES labs (code),
    ADD CONSTRAINT batches_import_id_fkey FOREIGN KEY (import_id) REFERENCES imports (id);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection().execute_unprepared(UP).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection().execute_unprepared(DOWN).await?;
        }
        Ok(())
    }
}
