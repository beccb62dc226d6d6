//! Integration tests of `traza-store`: each test body runs on SQLite and, when
//! `TRAZA_TEST_POSTGRES_URL` is set, on PostgreSQL too (see `support`).

mod audit;
mod auth;
mod batches;
mod cached_view;
mod concurrency;
mod dashboard_rollup;
mod group_commit;
mod import_speed;
mod keyed;
mod lifecycle;
mod master_records;
mod materials;
mod network;
mod scope;
mod steps;
mod support;
mod tamper;
mod trace;
mod users;
