//! The dashboard's counts kept as they change, so that a view reads a few thousand rows
//! instead of grouping a million batches (issue 16: 8.2 s at 1,000,000 batches).
//!
//! - `batch_rollup`: batches by laboratory, product, status, month of manufacturing start
//!   (its first day) and, for released batches with both dates, the days from the end of
//!   manufacture to release (`timed` 1, `lead_days`); other batches have `timed` 0.
//! - `qc_rollup`: QC results (and of them `fail`) by the batch's laboratory and month.
//! - the index `(lab_code, manufacturing_start, status)` gains `product_code`: a list by
//!   laboratory and product, and the days of a partial month, are read from the index.
//!
//! Kept by triggers in the transaction of every write that changes a batch's laboratory,
//! product, status, dates, or adds a QC result, whichever code path writes it. On SQLite a
//! trigger costs microseconds per row, which a million-row import would feel: there the bulk
//! import sets `rollup_paused` in its transaction and adds its rows to the rollup in one
//! aggregate before it commits (`traza_store::rollup`). On PostgreSQL a `COPY` fires the
//! insert trigger once, over the whole statement's rows (a transition table).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The key of a batch's rollup row, from `R` (NEW or OLD), as SQLite expressions.
macro_rules! sqlite_key {
    ($r:literal) => {
        concat!(
            $r,
            ".lab_code, ",
            $r,
            ".product_code, ",
            $r,
            ".status, substr(",
            $r,
            ".manufacturing_start, 1, 7) || '-01', CASE WHEN ",
            $r,
            ".status = 'released' AND ",
            $r,
            ".release_date IS NOT NULL AND ",
            $r,
            ".manufacturing_end IS NOT NULL THEN 1 ELSE 0 END, \
            CASE WHEN ",
            $r,
            ".status = 'released' AND ",
            $r,
            ".release_date IS NOT NULL AND ",
            $r,
            ".manufacturing_end IS NOT NULL THEN CAST(julianday(",
            $r,
            ".release_date) - julianday(",
            $r,
            ".manufacturing_end) AS INTEGER) ELSE 0 END"
        )
    };
}

const SQLITE_TABLES: &str = r#"
CREATE TABLE batch_rollup (
    lab_code TEXT NOT NULL, product_code TEXT NOT NULL, status TEXT NOT NULL,
    month date_text NOT NULL, timed INTEGER NOT NULL, lead_days INTEGER NOT NULL,
    batches INTEGER NOT NULL,
    PRIMARY KEY (month, lab_code, product_code, status, timed, lead_days)
) WITHOUT ROWID;
CREATE TABLE qc_rollup (
    lab_code TEXT NOT NULL, month date_text NOT NULL,
    results INTEGER NOT NULL, failed INTEGER NOT NULL,
    PRIMARY KEY (month, lab_code)
) WITHOUT ROWID;
CREATE TABLE rollup_paused (id INTEGER PRIMARY KEY);

-- The laboratory's batches by date, now with the product: lists filtered by laboratory and
-- product (the dashboard's links) and the dashboard's partial months read the index alone.
-- It replaces the index without the product (one index still, paid once per batch written).
CREATE INDEX ix_batches_lab_start_status_product ON batches (lab_code, manufacturing_start, status, product_code);
DROP INDEX IF EXISTS ix_batches_lab_start_status;
"#;

/// Each batch's rollup key, for the import's aggregate (`traza_store::rollup`).
const SQLITE_KEYS_VIEW: &str = concat!(
    "CREATE VIEW batch_rollup_keys (id, lab_code, product_code, status, month, timed, lead_days) AS SELECT b.id, ",
    sqlite_key!("b"),
    " FROM batches b;"
);

const SQLITE_BACKFILL: &str = concat!(
    "INSERT INTO batch_rollup (lab_code, product_code, status, month, timed, lead_days, batches) \
     SELECT ",
    sqlite_key!("b"),
    ", COUNT(*) FROM batches b WHERE true GROUP BY 1, 2, 3, 4, 5, 6;"
);

fn sqlite_up() -> String {
    let new_key = sqlite_key!("NEW");
    let old_key = sqlite_key!("OLD");
    let add = |key: &str, n: i32| {
        format!(
            "INSERT INTO batch_rollup (lab_code, product_code, status, month, timed, lead_days, batches) \
             VALUES ({key}, {n}) ON CONFLICT (month, lab_code, product_code, status, timed, lead_days) \
             DO UPDATE SET batches = batches + excluded.batches;"
        )
    };
    let month = |r: &str| format!("substr({r}.manufacturing_start, 1, 7) || '-01'");
    // A batch's QC results moved to (sign 1) or from (-1) its laboratory and month.
    let move_qc = |r: &str, sign: i32| {
        format!(
            "INSERT INTO qc_rollup (lab_code, month, results, failed) \
             SELECT {r}.lab_code, {m}, {sign} * COUNT(*), {sign} * COALESCE(SUM(CASE WHEN q.outcome = 'fail' THEN 1 ELSE 0 END), 0) \
             FROM qc_results q WHERE q.batch_id = {r}.id \
             ON CONFLICT (month, lab_code) DO UPDATE SET results = results + excluded.results, failed = failed + excluded.failed;",
            m = month(r)
        )
    };
    let paused = "NOT EXISTS (SELECT 1 FROM rollup_paused)";
    let changed = "OLD.lab_code IS NOT NEW.lab_code OR OLD.product_code IS NOT NEW.product_code \
                   OR OLD.status IS NOT NEW.status OR OLD.manufacturing_start IS NOT NEW.manufacturing_start \
                   OR OLD.manufacturing_end IS NOT NEW.manufacturing_end OR OLD.release_date IS NOT NEW.release_date";
    let qc_place_changed = "OLD.lab_code IS NOT NEW.lab_code OR OLD.manufacturing_start IS NOT NEW.manufacturing_start";
    let qc = |r: &str, sign: i32| {
        format!(
            "INSERT INTO qc_rollup (lab_code, month, results, failed) \
             SELECT b.lab_code, {m}, {sign}, {sign} * (CASE WHEN {r}.outcome = 'fail' THEN 1 ELSE 0 END) \
             FROM batches b WHERE b.id = {r}.batch_id \
             ON CONFLICT (month, lab_code) DO UPDATE SET results = results + excluded.results, failed = failed + excluded.failed;",
            m = month("b")
        )
    };
    format!(
        "{tables}\n{SQLITE_KEYS_VIEW}\n{backfill}\n\
         INSERT INTO qc_rollup (lab_code, month, results, failed) \
           SELECT b.lab_code, {bm}, COUNT(*), SUM(CASE WHEN q.outcome = 'fail' THEN 1 ELSE 0 END) \
           FROM qc_results q JOIN batches b ON b.id = q.batch_id GROUP BY 1, 2;\n\
         CREATE TRIGGER batches_rollup_insert AFTER INSERT ON batches WHEN {paused} BEGIN {add_new} END;\n\
         CREATE TRIGGER batches_rollup_update AFTER UPDATE ON batches WHEN ({changed}) BEGIN {sub_old} {add_new} END;\n\
         CREATE TRIGGER batches_rollup_qc_move AFTER UPDATE ON batches WHEN ({qc_place_changed}) BEGIN {qc_out} {qc_in} END;\n\
         CREATE TRIGGER batches_rollup_delete AFTER DELETE ON batches BEGIN {sub_old} {qc_out} END;\n\
         CREATE TRIGGER qc_results_rollup_insert AFTER INSERT ON qc_results WHEN {paused} BEGIN {qc_new} END;\n\
         CREATE TRIGGER qc_results_rollup_update AFTER UPDATE OF batch_id, outcome ON qc_results BEGIN {qc_old} {qc_new} END;\n\
         CREATE TRIGGER qc_results_rollup_delete AFTER DELETE ON qc_results BEGIN {qc_old} END;\n",
        tables = SQLITE_TABLES,
        backfill = SQLITE_BACKFILL,
        bm = month("b"),
        add_new = add(new_key, 1),
        sub_old = add(old_key, -1),
        qc_out = move_qc("OLD", -1),
        qc_in = move_qc("NEW", 1),
        qc_new = qc("NEW", 1),
        qc_old = qc("OLD", -1),
    )
}

const PG_UP: &str = r#"
CREATE TABLE batch_rollup (
    lab_code TEXT NOT NULL, product_code TEXT NOT NULL, status TEXT NOT NULL,
    month DATE NOT NULL, timed SMALLINT NOT NULL, lead_days INTEGER NOT NULL,
    batches BIGINT NOT NULL,
    PRIMARY KEY (month, lab_code, product_code, status, timed, lead_days)
);
CREATE TABLE qc_rollup (
    lab_code TEXT NOT NULL, month DATE NOT NULL,
    results BIGINT NOT NULL, failed BIGINT NOT NULL,
    PRIMARY KEY (month, lab_code)
);
CREATE TABLE rollup_paused (id INTEGER PRIMARY KEY);

-- The laboratory's batches by date, now with the product: lists filtered by laboratory and
-- product (the dashboard's links) and the dashboard's partial months read the index alone.
-- It replaces the index without the product (one index still, paid once per batch written).
CREATE INDEX ix_batches_lab_start_status_product ON batches (lab_code, manufacturing_start, status, product_code);
DROP INDEX IF EXISTS ix_batches_lab_start_status;

-- The rollup key of batch rows: used by every function below, so they always agree.
CREATE FUNCTION traza_rollup_timed(status TEXT, release_date DATE, manufacturing_end DATE)
    RETURNS SMALLINT LANGUAGE sql IMMUTABLE AS
    $$ SELECT CASE WHEN status = 'released' AND release_date IS NOT NULL
                    AND manufacturing_end IS NOT NULL THEN 1 ELSE 0 END::SMALLINT $$;
CREATE FUNCTION traza_rollup_days(status TEXT, release_date DATE, manufacturing_end DATE)
    RETURNS INTEGER LANGUAGE sql IMMUTABLE AS
    $$ SELECT CASE WHEN status = 'released' AND release_date IS NOT NULL
                    AND manufacturing_end IS NOT NULL THEN release_date - manufacturing_end ELSE 0 END $$;

INSERT INTO batch_rollup
    SELECT lab_code, product_code, status, date_trunc('month', manufacturing_start)::date,
           traza_rollup_timed(status, release_date, manufacturing_end),
           traza_rollup_days(status, release_date, manufacturing_end), COUNT(*)
    FROM batches GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO qc_rollup
    SELECT b.lab_code, date_trunc('month', b.manufacturing_start)::date, COUNT(*),
           SUM(CASE WHEN q.outcome = 'fail' THEN 1 ELSE 0 END)
    FROM qc_results q JOIN batches b ON b.id = q.batch_id GROUP BY 1, 2;

-- Inserted batches, a whole statement's at once (a COPY of a million rows: one aggregate).
CREATE FUNCTION traza_rollup_batches_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO batch_rollup AS r
        SELECT lab_code, product_code, status, date_trunc('month', manufacturing_start)::date,
               traza_rollup_timed(status, release_date, manufacturing_end),
               traza_rollup_days(status, release_date, manufacturing_end), COUNT(*)
        FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6
        ORDER BY 4, 1, 2, 3, 5, 6
    ON CONFLICT (month, lab_code, product_code, status, timed, lead_days)
        DO UPDATE SET batches = r.batches + excluded.batches;
    RETURN NULL;
END
$$;

-- One batch's row of the rollup moved by N.
CREATE FUNCTION traza_rollup_add(b batches, n INTEGER) RETURNS void LANGUAGE sql AS $$
    INSERT INTO batch_rollup AS r VALUES (b.lab_code, b.product_code, b.status,
        date_trunc('month', b.manufacturing_start)::date,
        traza_rollup_timed(b.status, b.release_date, b.manufacturing_end),
        traza_rollup_days(b.status, b.release_date, b.manufacturing_end), n)
    ON CONFLICT (month, lab_code, product_code, status, timed, lead_days)
        DO UPDATE SET batches = r.batches + excluded.batches
$$;

-- One batch's QC results moved by SIGN to or from its laboratory and month.
CREATE FUNCTION traza_rollup_qc_of(b batches, sign INTEGER) RETURNS void LANGUAGE sql AS $$
    INSERT INTO qc_rollup AS r
        SELECT b.lab_code, date_trunc('month', b.manufacturing_start)::date, sign * COUNT(*),
               sign * COALESCE(SUM(CASE WHEN q.outcome = 'fail' THEN 1 ELSE 0 END), 0)
        FROM qc_results q WHERE q.batch_id = b.id
    ON CONFLICT (month, lab_code)
        DO UPDATE SET results = r.results + excluded.results, failed = r.failed + excluded.failed
$$;

-- A batch changed (or deleted): out of its old place, into its new one; the two rollup rows
-- are locked in key order, so that two writers moving batches both ways cannot deadlock.
CREATE FUNCTION traza_rollup_batch_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM traza_rollup_add(OLD, -1);
        PERFORM traza_rollup_qc_of(OLD, -1);
        RETURN NULL;
    END IF;
    -- In the primary key's order, as the insert trigger's aggregate takes them.
    IF (date_trunc('month', OLD.manufacturing_start)::date, OLD.lab_code::text, OLD.product_code::text,
        OLD.status::text, traza_rollup_timed(OLD.status, OLD.release_date, OLD.manufacturing_end),
        traza_rollup_days(OLD.status, OLD.release_date, OLD.manufacturing_end))
     < (date_trunc('month', NEW.manufacturing_start)::date, NEW.lab_code::text, NEW.product_code::text,
        NEW.status::text, traza_rollup_timed(NEW.status, NEW.release_date, NEW.manufacturing_end),
        traza_rollup_days(NEW.status, NEW.release_date, NEW.manufacturing_end)) THEN
        PERFORM traza_rollup_add(OLD, -1);
        PERFORM traza_rollup_add(NEW, 1);
    ELSE
        PERFORM traza_rollup_add(NEW, 1);
        PERFORM traza_rollup_add(OLD, -1);
    END IF;
    IF OLD.lab_code IS DISTINCT FROM NEW.lab_code
       OR date_trunc('month', OLD.manufacturing_start) IS DISTINCT FROM date_trunc('month', NEW.manufacturing_start) THEN
        PERFORM traza_rollup_qc_of(OLD, -1);
        PERFORM traza_rollup_qc_of(NEW, 1);
    END IF;
    RETURN NULL;
END
$$;

-- A QC result added, changed or removed: its batch's laboratory and month.
CREATE FUNCTION traza_rollup_qc_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO qc_rollup AS r
            SELECT b.lab_code, date_trunc('month', b.manufacturing_start)::date, -1,
                   CASE WHEN OLD.outcome = 'fail' THEN -1 ELSE 0 END
            FROM batches b WHERE b.id = OLD.batch_id
        ON CONFLICT (month, lab_code)
            DO UPDATE SET results = r.results + excluded.results, failed = r.failed + excluded.failed;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO qc_rollup AS r
            SELECT b.lab_code, date_trunc('month', b.manufacturing_start)::date, 1,
                   CASE WHEN NEW.outcome = 'fail' THEN 1 ELSE 0 END
            FROM batches b WHERE b.id = NEW.batch_id
        ON CONFLICT (month, lab_code)
            DO UPDATE SET results = r.results + excluded.results, failed = r.failed + excluded.failed;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER batches_rollup_insert AFTER INSERT ON batches
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION traza_rollup_batches_inserted();
CREATE TRIGGER batches_rollup_update AFTER UPDATE OF lab_code, product_code, status, manufacturing_start,
    manufacturing_end, release_date ON batches FOR EACH ROW
    WHEN (OLD.lab_code IS DISTINCT FROM NEW.lab_code OR OLD.product_code IS DISTINCT FROM NEW.product_code
          OR OLD.status IS DISTINCT FROM NEW.status OR OLD.manufacturing_start IS DISTINCT FROM NEW.manufacturing_start
          OR OLD.manufacturing_end IS DISTINCT FROM NEW.manufacturing_end OR OLD.release_date IS DISTINCT FROM NEW.release_date)
    EXECUTE FUNCTION traza_rollup_batch_changed();
CREATE TRIGGER batches_rollup_delete AFTER DELETE ON batches
    FOR EACH ROW EXECUTE FUNCTION traza_rollup_batch_changed();
CREATE TRIGGER qc_results_rollup_insert AFTER INSERT ON qc_results
    FOR EACH ROW EXECUTE FUNCTION traza_rollup_qc_changed();
CREATE TRIGGER qc_results_rollup_update AFTER UPDATE OF batch_id, outcome ON qc_results
    FOR EACH ROW EXECUTE FUNCTION traza_rollup_qc_changed();
CREATE TRIGGER qc_results_rollup_delete AFTER DELETE ON qc_results
    FOR EACH ROW EXECUTE FUNCTION traza_rollup_qc_changed();
"#;

const SQLITE_DOWN: &str = r#"
DROP TRIGGER IF EXISTS batches_rollup_insert;
DROP TRIGGER IF EXISTS batches_rollup_update;
DROP TRIGGER IF EXISTS batches_rollup_qc_move;
DROP TRIGGER IF EXISTS batches_rollup_delete;
DROP TRIGGER IF EXISTS qc_results_rollup_insert;
DROP TRIGGER IF EXISTS qc_results_rollup_update;
DROP TRIGGER IF EXISTS qc_results_rollup_delete;
CREATE INDEX IF NOT EXISTS ix_batches_lab_start_status ON batches (lab_code, manufacturing_start, status);
DROP INDEX IF EXISTS ix_batches_lab_start_status_product;
DROP VIEW IF EXISTS batch_rollup_keys;
DROP TABLE IF EXISTS rollup_paused;
DROP TABLE IF EXISTS qc_rollup;
DROP TABLE IF EXISTS batch_rollup;
"#;

const PG_DOWN: &str = r#"
DROP TRIGGER IF EXISTS batches_rollup_insert ON batches;
DROP TRIGGER IF EXISTS batches_rollup_update ON batches;
DROP TRIGGER IF EXISTS batches_rollup_delete ON batches;
DROP TRIGGER IF EXISTS qc_results_rollup_insert ON qc_results;
DROP TRIGGER IF EXISTS qc_results_rollup_update ON qc_results;
DROP TRIGGER IF EXISTS qc_results_rollup_delete ON qc_results;
CREATE INDEX IF NOT EXISTS ix_batches_lab_start_status ON batches (lab_code, manufacturing_start, status);
DROP INDEX IF EXISTS ix_batches_lab_start_status_product;
DROP FUNCTION IF EXISTS traza_rollup_qc_changed();
DROP FUNCTION IF EXISTS traza_rollup_batch_changed();
DROP FUNCTION IF EXISTS traza_rollup_qc_of(batches, INTEGER);
DROP FUNCTION IF EXISTS traza_rollup_add(batches, INTEGER);
DROP FUNCTION IF EXISTS traza_rollup_batches_inserted();
DROP FUNCTION IF EXISTS traza_rollup_days(TEXT, DATE, DATE);
DROP FUNCTION IF EXISTS traza_rollup_timed(TEXT, DATE, DATE);
DROP TABLE IF EXISTS rollup_paused;
DROP TABLE IF EXISTS qc_rollup;
DROP TABLE IF EXISTS batch_rollup;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::execute_for_backend(m, PG_UP, &sqlite_up()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::execute_for_backend(m, PG_DOWN, SQLITE_DOWN).await
    }
}
