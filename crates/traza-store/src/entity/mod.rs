//! sea-orm entities: the rows as stored. Callers of the store never see them.

pub mod administrations;
pub mod assignments;
pub mod audit_events;
pub mod audit_head;
pub mod batch_events;
pub mod batch_number_sequences;
pub mod batches;
pub mod deviations;
pub mod holds;
pub mod labs;
pub mod product_specifications;
pub mod products;
pub mod qc_results;
pub mod reactions;
pub mod signatures;
pub mod tokens;
pub mod user_labs;
pub mod users;
