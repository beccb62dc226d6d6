//! SQL helpers shared by every feature: the page of a list, the laboratory scope as a raw
//! SQL condition, placeholders per backend, and sqlx errors as store errors. A leaf: it uses
//! no feature module.

use sea_orm::DbBackend;
use serde::Serialize;
use traza_domain::access::LabScope;

use crate::error::StoreError;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The laboratory scope as a condition of raw SQL on `column`, its codes appended to
/// `values`; `None` for the whole network. No laboratories at all matches nothing.
pub(crate) fn scope_clause(
    scope: &LabScope,
    column: &str,
    values: &mut Vec<sea_orm::Value>,
) -> Option<String> {
    let LabScope::Labs(labs) = scope else {
        return None;
    };
    if labs.is_empty() {
        return Some("1 = 0".to_owned());
    }
    values.extend(labs.iter().map(|l| sea_orm::Value::from(l.as_str())));
    Some(format!(
        "{column} IN ({})",
        vec!["?"; labs.len()].join(", ")
    ))
}

/// PostgreSQL numbers its placeholders (`$1`); SQLite takes `?`.
pub(crate) fn numbered(backend: DbBackend, sql: &str) -> String {
    if backend != DbBackend::Postgres {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) fn db(e: sqlx::Error) -> StoreError {
    StoreError::Database(sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(
        e.into(),
    )))
}
