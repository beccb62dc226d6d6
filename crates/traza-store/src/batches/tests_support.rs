//! A batch view made in memory, for the unit tests of the store's caches.

use chrono::{NaiveDate, TimeZone, Utc};
use traza_domain::batch::Batch;
use traza_domain::codes::{BatchNumber, DonorCode, LabCode, ProductCode};
use traza_domain::vocab::{AccessRoute, BatchStatus, Origin, Source};

use super::BatchView;

pub(crate) fn sample_view(notes: &str) -> BatchView {
    let lab = LabCode::parse("GRA-UPCIT").expect("a lab code");
    let day = NaiveDate::from_ymd_opt(2026, 3, 2).expect("a day");
    BatchView {
        batch: Batch {
            batch_number: BatchNumber::generated(&lab, 2026, 1),
            product_code: ProductCode::parse("UGRSKIN").expect("a product code"),
            lab_code: lab,
            origin: Origin::Allogeneic,
            access_route: AccessRoute::HospitalExemption,
            trial_id: None,
            donor_code: DonorCode::parse("D-0001").expect("a donor code"),
            patient_code: None,
            collection_date: Some(day),
            manufacturing_start: day,
            manufacturing_end: None,
            expiry_date: None,
            cell_count: None,
            viability_percent: None,
            volume_ml: None,
            doses: 3,
            status: BatchStatus::InProduction,
            released_by: None,
            release_date: None,
            notes: Some(notes.to_owned()),
            version: 1,
            source: Source::Api,
            import_id: None,
            import_line: None,
            on_hold: false,
        },
        created_by: "marta.jimenez".to_owned(),
        created_at: Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
        events: Vec::new(),
        qc_results: Vec::new(),
        deviations: Vec::new(),
        signatures: Vec::new(),
        administrations: Vec::new(),
        reactions: Vec::new(),
        holds: Vec::new(),
        mbr_id: None,
        mbr_version: None,
    }
}
