//! End-to-end tests of the HTTP API (SPEC §3): the real router, in process, against a real
//! database. Each test body runs on SQLite and, when `TRAZA_TEST_POSTGRES_URL` is set, on
//! PostgreSQL too (see `support`).

mod auth;
mod authz;
mod concurrency;
mod daily;
mod equipment_pages;
mod errors;
mod imports;
mod integrity;
mod lists;
mod lot_pages;
mod master_records;
mod materials;
mod mbr_pages;
mod network;
mod network_pages;
mod pages;
mod record_pdf;
mod registry;
mod security;
mod steps;
mod steps_pages;
mod stories;
mod support;
mod users_pages;
mod vigilance;
