//! `bare-read`: the yardstick of SPEC §7's read target, "a bare axum + sqlx endpoint reading
//! the same row by its unique key from the same database". One route, no authentication, no
//! middleware:
//!
//! ```text
//! bare-read --database-url sqlite:///tmp/traza.db?mode=ro --bind 127.0.0.1:8091
//! GET /batches/{number}   the `batches` row whose batch_number is {number}, as JSON; 404 if none
//! ```
//!
//! Every column of the row is decoded into its typed form (dates and timestamps with chrono,
//! integers, text) and serialised with serde, as a hand-written endpoint would: the ceiling a
//! real API can approach, not a byte copy. `bench/http.sh` runs it against Traza's own
//! database.

use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use clap::Parser;
use serde::Serialize;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow};
use sqlx::{ConnectOptions, PgPool, Row, SqlitePool};

/// Serve one batch row by its number, with nothing in between.
#[derive(Parser)]
#[command(name = "bare-read")]
struct Args {
    /// `sqlite://FILE[?mode=ro]` or `postgres://…`: Traza's database.
    #[arg(long)]
    database_url: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8091")]
    bind: String,
}

#[derive(Clone)]
enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Every column of `batches`, typed.
#[derive(Serialize)]
struct Batch {
    id: i64,
    batch_number: String,
    product_code: String,
    lab_code: String,
    origin: String,
    access_route: String,
    trial_id: Option<String>,
    donor_code: String,
    patient_code: Option<String>,
    collection_date: Option<NaiveDate>,
    manufacturing_start: NaiveDate,
    manufacturing_end: Option<NaiveDate>,
    expiry_date: Option<NaiveDate>,
    cell_count: Option<String>,
    viability_percent: Option<String>,
    volume_ml: Option<String>,
    doses: i32,
    status: String,
    released_by: Option<String>,
    release_date: Option<NaiveDate>,
    notes: Option<String>,
    version: i64,
    source: String,
    import_id: Option<i64>,
    import_line: Option<i64>,
    created_by: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// Every column of `batches`, in `Batch`'s order.
macro_rules! columns {
    () => {
        "id, batch_number, product_code, lab_code, origin, access_route, trial_id, \
    donor_code, patient_code, collection_date, manufacturing_start, manufacturing_end, \
    expiry_date, cell_count, viability_percent, volume_ml, doses, status, released_by, \
    release_date, notes, version, source, import_id, import_line, created_by, created_at, \
    updated_at"
    };
}

const SQLITE_QUERY: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM batches WHERE batch_number = ?"
);
const POSTGRES_QUERY: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM batches WHERE batch_number = $1"
);

/// The same decoding for both backends' rows.
macro_rules! batch_from_row {
    ($row:expr) => {{
        let r = $row;
        Batch {
            id: r.try_get("id")?,
            batch_number: r.try_get("batch_number")?,
            product_code: r.try_get("product_code")?,
            lab_code: r.try_get("lab_code")?,
            origin: r.try_get("origin")?,
            access_route: r.try_get("access_route")?,
            trial_id: r.try_get("trial_id")?,
            donor_code: r.try_get("donor_code")?,
            patient_code: r.try_get("patient_code")?,
            collection_date: r.try_get("collection_date")?,
            manufacturing_start: r.try_get("manufacturing_start")?,
            manufacturing_end: r.try_get("manufacturing_end")?,
            expiry_date: r.try_get("expiry_date")?,
            cell_count: r.try_get("cell_count")?,
            viability_percent: r.try_get("viability_percent")?,
            volume_ml: r.try_get("volume_ml")?,
            doses: r.try_get("doses")?,
            status: r.try_get("status")?,
            released_by: r.try_get("released_by")?,
            release_date: r.try_get("release_date")?,
            notes: r.try_get("notes")?,
            version: r.try_get("version")?,
            source: r.try_get("source")?,
            import_id: r.try_get("import_id")?,
            import_line: r.try_get("import_line")?,
            created_by: r.try_get("created_by")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        }
    }};
}

fn from_sqlite(r: &SqliteRow) -> Result<Batch, sqlx::Error> {
    Ok(batch_from_row!(r))
}

fn from_postgres(r: &PgRow) -> Result<Batch, sqlx::Error> {
    Ok(batch_from_row!(r))
}

impl Db {
    async fn connect(url: &str) -> Result<Db> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .context("invalid SQLite URL")?
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(30))
                // The page cache Traza's own connections have: the comparison is of the
                // servers, not of their caches.
                .pragma("cache_size", "-65536")
                .disable_statement_logging();
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .context("opening the SQLite database")?;
            Ok(Db::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)
                .context("invalid PostgreSQL URL")?
                .disable_statement_logging();
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .connect_with(options)
                .await
                .context("connecting to PostgreSQL")?;
            Ok(Db::Postgres(pool))
        } else {
            bail!("unsupported database URL: use sqlite://… or postgres://…")
        }
    }

    async fn batch(&self, number: &str) -> Result<Option<Batch>, sqlx::Error> {
        match self {
            Db::Sqlite(pool) => {
                let row = sqlx::query(SQLITE_QUERY)
                    .bind(number)
                    .fetch_optional(pool)
                    .await?;
                row.as_ref().map(from_sqlite).transpose()
            }
            Db::Postgres(pool) => {
                let row = sqlx::query(POSTGRES_QUERY)
                    .bind(number)
                    .fetch_optional(pool)
                    .await?;
                row.as_ref().map(from_postgres).transpose()
            }
        }
    }
}

async fn get_batch(State(db): State<Db>, Path(number): Path<String>) -> Response {
    match db.batch(&number).await {
        Ok(Some(batch)) => axum::Json(batch).into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let db = Db::connect(&args.database_url).await?;
    let app = Router::new()
        .route("/batches/{number}", get(get_batch))
        .with_state(db);
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .with_context(|| format!("binding {}", args.bind))?;
    eprintln!("bare-read listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
