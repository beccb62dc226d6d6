//! Traza's domain: the vocabulary of ATMP manufacturing in a GMP laboratory network and every
//! rule of the specification, as functions over plain values. No I/O, no async, no database.

pub mod access;
pub mod audit;
pub mod audit_key;
pub mod auth;
pub mod batch;
mod batch_problems;
pub mod clock;
pub mod codes;
pub mod equipment;
pub mod error_code;
pub mod history;
pub mod hold;
pub mod materials;
pub mod mbr;
pub mod network;
pub mod problem;
pub mod reconcile;
pub mod records;
#[cfg(feature = "openapi")]
mod schema;
pub mod signing;
pub mod spec;
pub mod validation;
pub mod vigilance;
pub mod vocab;
