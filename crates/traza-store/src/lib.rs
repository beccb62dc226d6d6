//! Traza's persistence on sea-orm 2: SQLite (embedded default) and PostgreSQL (production).
//!
//! Callers see intention-named methods (`store.release_batch(..)`), each one transaction:
//! load, ask the domain, write, append the audit event, commit. Laboratory scope is applied in
//! the queries themselves. sea-orm types never leave this crate.

mod attached;
mod audit;
mod audit_key;
mod auth;
mod batches;
mod dashboard;
mod entity;
mod equipment;
mod error;
mod fixtures;
mod holds;
mod import;
mod master_records;
mod materials;
mod materials_audit;
#[cfg(feature = "test-hooks")]
mod materials_hooks;
mod network;
mod registry;
mod rollup;
mod rows;
mod sql;
mod sqlite_bulk;
mod token_cache;
mod users;
mod view_cache;
mod vigilance;
mod write;

use std::str::FromStr;
use std::time::Duration;

use sea_orm::{DatabaseConnection, DbBackend, SqlxPostgresConnector, SqlxSqliteConnector};
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use traza_domain::vocab::Source;
use traza_migrations::MigratorTrait;

pub use attached::ReactionView;
pub use audit::{AuditPage, AuditQuery, StoredAuditEvent, VerifyReport};
pub use audit_key::{AuditKeyStatus, default_audit_key_path};
pub use batches::*;
pub use dashboard::{Dashboard, LabFigures, LeadTime, StatusCount};
pub use equipment::EquipmentUpdate;
pub use error::{ErrorCode, RuleDetail, StoreError};
pub use fixtures::{FixtureReport, NetworkFixture};
pub use import::{
    ImportRecord, ImportReport, ImportRequest, MAX_LISTED, Progress, write_refused_rows,
};
pub use master_records::MbrView;
pub use materials::{LotQuery, LotSignatureView, LotView, MaterialUpdate};
pub use network::*;
pub use registry::{PublicRegistry, PublicSite, PublicTherapy, Published, fold};
pub use sql::Page;
pub use users::*;
pub use vigilance::{NewReaction, ReactionReport};

/// The default database: a SQLite file in the working folder, created if missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://traza.db?mode=rwc";

/// Handle to Traza's database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// Recorded on every audit event this handle writes.
    source: Source,
    /// Shared by every clone of this handle (see `token_cache`).
    tokens: std::sync::Arc<token_cache::TokenCache>,
    /// Shared by every clone of this handle (see `view_cache`).
    views: std::sync::Arc<view_cache::ViewCache<batches::BatchView>>,
    /// Shared by every clone of this handle (see `registry`).
    registry: std::sync::Arc<registry::RegistryCache>,
    /// Lockout counts and windows (see `auth`).
    lockout: std::sync::Arc<traza_domain::auth::LockoutPolicy>,
    /// The audit chain's key ring (see `audit_key`).
    audit_keys: std::sync::Arc<audit_key::AuditKeys>,
    /// Writes take turns (see `write::Writers`); shared by every clone of this handle.
    writers: std::sync::Arc<write::Writers>,
}

impl Store {
    /// Opens a pool on `url` (`sqlite://…` or `postgres://…`). Statement logging is off: SQL
    /// text and bound values (donor and patient codes) must never reach the logs.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let db = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::Config(format!("invalid SQLite URL: {e}")))?
                .journal_mode(SqliteJournalMode::Wal)
                // WAL + NORMAL is durable across application crashes; an OS crash may lose
                // the last transactions but never corrupts the database.
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30))
                // 8 MiB of page cache per pooled connection (8 of them): the index pages a
                // read needs stay cached, and the process stays within its memory target
                // (at 64 MiB each, 8 connections held 500 MB after a benchmark; at 16 MiB,
                // 283 MB). Pages beyond it come from the operating system's file cache.
                .pragma("cache_size", "-8192")
                // Statement journals (a multi-row INSERT keeps one to undo itself) stay in
                // memory instead of temporary files.
                .pragma("temp_store", "memory")
                .disable_statement_logging();
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await
                .map_err(|e| {
                    StoreError::Database(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(
                        e.into(),
                    )))
                })?;
            SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::Config(format!("invalid PostgreSQL URL: {e}")))?
                .disable_statement_logging();
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await
                .map_err(|e| {
                    StoreError::Database(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(
                        e.into(),
                    )))
                })?;
            SqlxPostgresConnector::from_sqlx_postgres_pool(pool)
        } else {
            return Err(StoreError::Config(format!(
                "unsupported database URL '{}': use sqlite://… or postgres://…",
                url.split(':').next().unwrap_or_default()
            )));
        };
        Ok(Store {
            db,
            source: Source::Api,
            tokens: Default::default(),
            views: Default::default(),
            registry: Default::default(),
            lockout: Default::default(),
            audit_keys: Default::default(),
            writers: Default::default(),
        })
    }

    /// The same store, recording writes as coming from `source` (`cli` for the command line).
    pub fn with_source(&self, source: Source) -> Store {
        Store {
            db: self.db.clone(),
            source,
            tokens: self.tokens.clone(),
            views: self.views.clone(),
            registry: self.registry.clone(),
            lockout: self.lockout.clone(),
            audit_keys: self.audit_keys.clone(),
            writers: self.writers.clone(),
        }
    }

    /// Brings the schema up to date.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        traza_migrations::Migrator::up(&self.db, None).await?;
        Ok(())
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await?;
        Ok(())
    }

    pub fn backend(&self) -> &'static str {
        match self.db.get_database_backend() {
            DbBackend::Postgres => "postgres",
            DbBackend::Sqlite => "sqlite",
            _ => "other",
        }
    }

    /// Writes a consistent copy of a SQLite database to `out` (which must not exist) while
    /// it is in use: `VACUUM INTO` reads one snapshot, so writers carry on and the copy holds
    /// every transaction committed before it started, none after. PostgreSQL is backed up
    /// with its own tools (`pg_dump`).
    pub async fn backup_sqlite(&self, out: &std::path::Path) -> Result<(), StoreError> {
        use sea_orm::{ConnectionTrait, Statement};
        if self.db.get_database_backend() != DbBackend::Sqlite {
            return Err(StoreError::invalid(
                "database",
                "traza backup copies SQLite databases; back PostgreSQL up with pg_dump",
            ));
        }
        if out.exists() {
            return Err(StoreError::invalid(
                "out",
                format!(
                    "{} exists already; a backup never overwrites a file",
                    out.display()
                ),
            ));
        }
        let target = out
            .to_str()
            .ok_or_else(|| StoreError::invalid("out", "the path is not valid UTF-8"))?;
        self.db
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "VACUUM INTO ?",
                [target.into()],
            ))
            .await?;
        Ok(())
    }

    pub async fn close(self) -> Result<(), StoreError> {
        self.db.close().await?;
        Ok(())
    }
}
