//! Traza's benchmarks (SPEC §7) and the data they run on.
//!
//! The benchmarks themselves are scripts beside this crate (`bench/import.sh`,
//! `bench/http.sh`); what lives here is what they need that no public tool provides:
//! [`history`] writes historical batch files of any size that the real importer accepts row
//! for row, from the network in [`network`], and the `bare-read` binary is the HTTP read
//! yardstick.

pub mod history;
pub mod network;
