//! `batches.stamp`: a counter of every change to a batch's row or to the records its view
//! holds, kept by triggers, whoever writes: Traza, or SQL typed straight into the database.
//!
//! The batch view cache (`traza_store::view_cache`) serves a view only for the (version,
//! stamp) it was read at. Traza bumps `version` on each of its writes; the stamp also moves
//! when a row changes outside Traza without its version (an edit by hand, a forged record),
//! so that the API and the pages show what the database holds, never a view cached before
//! the edit. `traza audit verify` is what names such an edit; the stamp only keeps the cache
//! from hiding it. The stamp is not a GMP column: it has no audit event and verify ignores it.
//!
//! - the batch row: any UPDATE that leaves `version` as it was moves the stamp;
//! - the records of the view (events, QC results, deviations, signatures, administrations,
//!   reactions, holds, the master record guide): any INSERT, UPDATE or DELETE moves the
//!   stamp of its batch (of both batches, if an UPDATE moves a record between them).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables whose rows make up a batch's cached view, beside the batch row.
const RECORD_TABLES: [&str; 8] = [
    "batch_events",
    "qc_results",
    "deviations",
    "signatures",
    "administrations",
    "reactions",
    "holds",
    "batch_guides",
];

fn sqlite_up() -> String {
    let mut sql = String::from(
        "ALTER TABLE batches ADD COLUMN stamp INTEGER NOT NULL DEFAULT 0;\n\
         CREATE TRIGGER batches_stamp_row AFTER UPDATE ON batches \
         WHEN NEW.version IS OLD.version AND NEW.stamp IS OLD.stamp \
         BEGIN UPDATE batches SET stamp = stamp + 1 WHERE id = NEW.id; END;\n",
    );
    for t in RECORD_TABLES {
        sql.push_str(&format!(
            "CREATE TRIGGER {t}_stamp_insert AFTER INSERT ON {t} \
             BEGIN UPDATE batches SET stamp = stamp + 1 WHERE id = NEW.batch_id; END;\n\
             CREATE TRIGGER {t}_stamp_update AFTER UPDATE ON {t} \
             BEGIN UPDATE batches SET stamp = stamp + 1 WHERE id IN (OLD.batch_id, NEW.batch_id); END;\n\
             CREATE TRIGGER {t}_stamp_delete AFTER DELETE ON {t} \
             BEGIN UPDATE batches SET stamp = stamp + 1 WHERE id = OLD.batch_id; END;\n"
        ));
    }
    sql
}

fn sqlite_down() -> String {
    let mut sql = String::from("DROP TRIGGER IF EXISTS batches_stamp_row;\n");
    for t in RECORD_TABLES {
        for op in ["insert", "update", "delete"] {
            sql.push_str(&format!("DROP TRIGGER IF EXISTS {t}_stamp_{op};\n"));
        }
    }
    sql.push_str("ALTER TABLE batches DROP COLUMN stamp;\n");
    sql
}

const PG_FUNCTIONS: &str = r#"
ALTER TABLE batches ADD COLUMN stamp BIGINT NOT NULL DEFAULT 0;

-- The row itself changed without its version: the stamp moves in the same row write.
CREATE FUNCTION traza_stamp_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.stamp := OLD.stamp + 1;
    RETURN NEW;
END
$$;

-- A record of the view added, changed or removed: its batch's stamp moves.
CREATE FUNCTION traza_stamp_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE batches SET stamp = stamp + 1 WHERE id = NEW.batch_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE batches SET stamp = stamp + 1 WHERE id = OLD.batch_id;
    ELSE
        UPDATE batches SET stamp = stamp + 1 WHERE id IN (OLD.batch_id, NEW.batch_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER batches_stamp_row BEFORE UPDATE ON batches FOR EACH ROW
    WHEN (NEW.version IS NOT DISTINCT FROM OLD.version AND NEW.stamp IS NOT DISTINCT FROM OLD.stamp)
    EXECUTE FUNCTION traza_stamp_row();
"#;

fn pg_up() -> String {
    let mut sql = String::from(PG_FUNCTIONS);
    for t in RECORD_TABLES {
        sql.push_str(&format!(
            "CREATE TRIGGER {t}_stamp AFTER INSERT OR UPDATE OR DELETE ON {t} \
             FOR EACH ROW EXECUTE FUNCTION traza_stamp_record();\n"
        ));
    }
    sql
}

fn pg_down() -> String {
    let mut sql = String::from("DROP TRIGGER IF EXISTS batches_stamp_row ON batches;\n");
    for t in RECORD_TABLES {
        sql.push_str(&format!("DROP TRIGGER IF EXISTS {t}_stamp ON {t};\n"));
    }
    sql.push_str(
        "DROP FUNCTION IF EXISTS traza_stamp_record();\n\
         DROP FUNCTION IF EXISTS traza_stamp_row();\n\
         ALTER TABLE batches DROP COLUMN stamp;\n",
    );
    sql
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::execute_for_backend(m, &pg_up(), &sqlite_up()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::execute_for_backend(m, &pg_down(), &sqlite_down()).await
    }
}
