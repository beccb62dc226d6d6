//! Decoding speed of historical batch files: how many rows per second `HistoryReader` reads
//! and checks, without a database. The import's yardsticks (SPEC §7) are bulk loaders
//! running at 46-181 k rows/s, so decoding must stay far above them.
//!
//! ```text
//! cargo run --release -p traza-domain --example history_decode             # 1,000,000 generated rows
//! cargo run --release -p traza-domain --example history_decode -- 200000    # another count
//! cargo run --release -p traza-domain --example history_decode -- FILE.csv  # a real file
//! ```
//!
//! The generated file is the export of realistic batches (DINs, Spanish names, one note in
//! five with a delimiter, quotes and a line break), held in memory so that only decoding is
//! measured.

use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use traza_domain::batch::Batch;
use traza_domain::codes::{BatchNumber, DonorCode, LabCode, PatientCode, ProductCode};
use traza_domain::history::{
    HistoryReader, detect_encoding, export_writer, write_export_header, write_export_row,
};
use traza_domain::vocab::{AccessRoute, BatchStatus, Origin, Source};

const DINS: [&str; 4] = [
    "G123498654321",
    "A999926000001",
    "A999926000123",
    "G151797123456",
];

fn batch(i: u32, lab: &LabCode, product: &ProductCode, start: NaiveDate) -> Batch {
    let autologous = !i.is_multiple_of(4);
    let donor = DonorCode::parse(DINS[i as usize % DINS.len()]).expect("a valid DIN");
    let start = start + Days::new(u64::from(i % 9000));
    let end = start + Days::new(18);
    Batch {
        batch_number: BatchNumber::generated(lab, 2000 + (i % 25) as i32, i),
        product_code: product.clone(),
        lab_code: lab.clone(),
        origin: if autologous {
            Origin::Autologous
        } else {
            Origin::Allogeneic
        },
        access_route: AccessRoute::HospitalExemption,
        trial_id: None,
        patient_code: autologous.then(|| PatientCode::parse(donor.as_str()).expect("a valid DIN")),
        donor_code: donor,
        collection_date: Some(start - Days::new(1)),
        manufacturing_start: start,
        manufacturing_end: Some(end),
        expiry_date: Some(end + Days::new(3)),
        cell_count: Some(Decimal::new(1_500_000 + i64::from(i), 0)),
        viability_percent: Some(Decimal::new(900 + i64::from(i % 100), 1)),
        volume_ml: Some(Decimal::new(105, 1)),
        doses: 1,
        status: BatchStatus::Released,
        released_by: Some("Dra. Isabel Morales Vílchez".into()),
        release_date: Some(end + Days::new(1)),
        notes: i
            .is_multiple_of(5)
            .then(|| format!("Gran quemado; injerto {i}\n\"revisado\"")),
        version: 1,
        source: Source::Api,
        import_id: None,
        import_line: None,
        on_hold: false,
    }
}

fn generated(rows: u32) -> Vec<u8> {
    let lab = LabCode::parse("GRA-UPCIT").expect("a valid code");
    let product = ProductCode::parse("UGRSKIN").expect("a valid code");
    let start = NaiveDate::from_ymd_opt(2000, 1, 3).expect("a valid date");
    let mut w = export_writer(Vec::new());
    write_export_header(&mut w).expect("writing to memory");
    for i in 0..rows {
        write_export_row(&mut w, &batch(i, &lab, &product, start)).expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

fn per_second(count: u64, elapsed: Duration) -> u128 {
    u128::from(count) * 1_000_000_000 / elapsed.as_nanos().max(1)
}

fn main() {
    let arg = std::env::args().nth(1);
    let bytes = match arg.as_deref().map(str::parse::<u32>) {
        None => generated(1_000_000),
        Some(Ok(rows)) => generated(rows),
        Some(Err(_)) => {
            let path = arg.unwrap_or_default();
            std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
        }
    };
    let encoding = detect_encoding(bytes.as_slice()).expect("reading from memory");
    for run in 1..=3 {
        let started = Instant::now();
        let mut reader = match HistoryReader::new(bytes.as_slice(), encoding) {
            Ok(reader) => reader,
            Err(errors) => {
                for e in errors {
                    eprintln!("{e}");
                }
                std::process::exit(1);
            }
        };
        let (mut rows, mut refused) = (0u64, 0u64);
        while let Some(result) = reader.next_row() {
            rows += 1;
            if let Err(errors) = result.outcome {
                if refused < 5 {
                    for e in &errors {
                        eprintln!("{e}");
                    }
                }
                refused += 1;
            }
        }
        let elapsed = started.elapsed();
        println!(
            "run {run}: {rows} rows ({refused} refused), {} MB, {encoding}, in {elapsed:?}: {} rows/s, {} MB/s",
            bytes.len() / 1_000_000,
            per_second(rows, elapsed),
            per_second(bytes.len() as u64, elapsed) / 1_000_000,
        );
    }
}
