//! Any bytes as the JSON body of every write the API takes: deserialising may refuse, never
//! panic (the handlers' own checks are exercised end to end by the API tests and
//! schemathesis).
#![no_main]

use libfuzzer_sys::fuzz_target;
use traza_http::api::{assignments, auth, batches, network, users};

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<batches::CreateBatchRequest>(data);
    let _ = serde_json::from_slice::<batches::CorrectBatchRequest>(data);
    let _ = serde_json::from_slice::<batches::EventRequest>(data);
    let _ = serde_json::from_slice::<batches::QcRequest>(data);
    let _ = serde_json::from_slice::<batches::DeviationRequest>(data);
    let _ = serde_json::from_slice::<batches::ReleaseRequest>(data);
    let _ = serde_json::from_slice::<batches::AdministrationRequest>(data);
    let _ = serde_json::from_slice::<assignments::AssignmentRequest>(data);
    let _ = serde_json::from_slice::<auth::LoginRequest>(data);
    let _ = serde_json::from_slice::<users::CreateUserRequest>(data);
    let _ = serde_json::from_slice::<network::LabPatch>(data);
    let _ = serde_json::from_slice::<traza_domain::network::Laboratory>(data);
    let _ = serde_json::from_slice::<traza_domain::network::Product>(data);
});
