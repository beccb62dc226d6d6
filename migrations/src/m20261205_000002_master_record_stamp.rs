//! The batch view shows the version of the master record that guides the batch: a master
//! record's `version` changed, or the record deleted, outside Traza moves the stamp of every
//! batch it guides (see `m20261205_000001_batch_stamp`), so that no cached view keeps the old
//! number. Traza itself never changes a master record's version nor deletes one: the trigger
//! fires only on edits made outside it, which `audit verify` names.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: &str = r#"
CREATE TRIGGER master_records_stamp_version AFTER UPDATE OF version ON master_records
    WHEN NEW.version IS NOT OLD.version
BEGIN
    UPDATE batches SET stamp = stamp + 1
        WHERE id IN (SELECT batch_id FROM batch_guides WHERE mbr_id = NEW.id);
END;
CREATE TRIGGER master_records_stamp_delete AFTER DELETE ON master_records
BEGIN
    UPDATE batches SET stamp = stamp + 1
        WHERE id IN (SELECT batch_id FROM batch_guides WHERE mbr_id = OLD.id);
END;
"#;

const SQLITE_DOWN: &str = r#"
DROP TRIGGER IF EXISTS master_records_stamp_version;
DROP TRIGGER IF EXISTS master_records_stamp_delete;
"#;

const PG_UP: &str = r#"
CREATE FUNCTION traza_stamp_guided() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE batches SET stamp = stamp + 1
        WHERE id IN (SELECT batch_id FROM batch_guides WHERE mbr_id = OLD.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER master_records_stamp_version AFTER UPDATE OF version ON master_records
    FOR EACH ROW WHEN (NEW.version IS DISTINCT FROM OLD.version)
    EXECUTE FUNCTION traza_stamp_guided();
CREATE TRIGGER master_records_stamp_delete AFTER DELETE ON master_records
    FOR EACH ROW EXECUTE FUNCTION traza_stamp_guided();
"#;

const PG_DOWN: &str = r#"
DROP TRIGGER IF EXISTS master_records_stamp_version ON master_records;
DROP TRIGGER IF EXISTS master_records_stamp_delete ON master_records;
DROP FUNCTION IF EXISTS traza_stamp_guided();
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::execute_for_backend(m, PG_UP, SQLITE_UP).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::execute_for_backend(m, PG_DOWN, SQLITE_DOWN).await
    }
}
