//! Tests of the historical-file generator.

use std::collections::HashSet;

use traza_domain::codes::Din;
use traza_domain::history::{HistoryReader, IssueCode, TextEncoding, check_against_network};
use traza_domain::network::{Assignment, Period};

use super::*;

fn options(rows: u64, spanish: bool) -> Options {
    Options {
        rows,
        seed: 7,
        delimiter: if spanish { b';' } else { b',' },
        spanish,
        today: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        shape: Shape::Spread,
    }
}

fn generated(options: &Options) -> (Vec<u8>, Summary) {
    let network = Network::built_in().unwrap();
    let mut out = Vec::new();
    let summary = write_history(&network, options, &mut out).unwrap();
    (out, summary)
}

fn assignments(network: &Network) -> Vec<Assignment> {
    network
        .assignments
        .iter()
        .enumerate()
        .map(|(i, a)| Assignment {
            id: i as i64 + 1,
            product_code: a.product_code.clone(),
            lab_code: a.lab_code.clone(),
            access_route: a.access_route,
            authorisation_ref: a.authorisation_ref.clone(),
            period: Period {
                valid_from: a.valid_from,
                valid_until: a.valid_until,
            },
            reason: String::new(),
            assigned_by: String::new(),
        })
        .collect()
}

/// Reads a generated file the way the importer does, row by row, and checks every row
/// against the network; the database-only checks (duplicates) are redone with a set.
fn import_checks(bytes: &[u8], summary: &Summary) -> u64 {
    let network = Network::built_in().unwrap();
    let assignments = assignments(&network);
    let mut reader = HistoryReader::new(bytes, TextEncoding::Utf8).unwrap();
    let mut numbers = HashSet::new();
    let mut rows = 0;
    let mut warnings = 0;
    let mut dins = 0;
    while let Some(result) = reader.next_row() {
        rows += 1;
        let row = result
            .outcome
            .unwrap_or_else(|e| panic!("line {}: {e:?}", result.line));
        let product = network.product(&row.product_code);
        let lab = network.lab(&row.lab_code).map(|(_, l)| l);
        let pair: Vec<Assignment> = assignments
            .iter()
            .filter(|a| a.product_code == row.product_code && a.lab_code == row.lab_code)
            .cloned()
            .collect();
        assert!(!pair.is_empty(), "line {}: no assignment", result.line);
        let (errors, found) = check_against_network(&row, result.line, product, lab, &pair);
        assert!(errors.is_empty(), "line {}: {errors:?}", result.line);
        assert!(found.iter().all(|w| w.code == IssueCode::NoAssignment));
        warnings += found.len() as u64;
        assert!(
            numbers.insert(row.batch_number.clone()),
            "{}",
            row.batch_number
        );
        if Din::parse(row.donor_code.as_str()).is_ok() {
            dins += 1;
        }
    }
    assert_eq!(rows, summary.rows);
    assert_eq!(warnings, summary.without_assignment);
    dins
}

#[test]
fn every_row_passes_the_importers_checks() {
    let options = options(20_000, false);
    let (bytes, summary) = generated(&options);
    let dins = import_checks(&bytes, &summary);
    assert!(
        dins * 10 > summary.rows * 7,
        "{dins} DINs in {} rows",
        summary.rows
    );
    // About 2% start before their assignment.
    let early = summary.without_assignment as f64 / summary.rows as f64;
    assert!((0.01..0.03).contains(&early), "{early}");
    // Every status occurs.
    assert!(
        summary.by_status.iter().all(|&n| n > 0),
        "{:?}",
        summary.by_status
    );
    // Allogeneic donors recur.
    assert!(summary.donors < summary.rows);
}

#[test]
fn spanish_files_pass_too() {
    let options = options(20_000, true);
    let (bytes, summary) = generated(&options);
    assert!(bytes.starts_with(b"\xEF\xBB\xBFbatch_number;product_code;"));
    let text = String::from_utf8(bytes.clone()).unwrap();
    for needle in ["autólogo", "alogénico", "administrado", ",", "E+0", "\r\n"] {
        assert!(text.contains(needle), "{needle}");
    }
    import_checks(&bytes, &summary);
}

#[test]
fn compact_files_pass_too_one_laboratory_short_codes_in_order() {
    let mut options = options(20_000, false);
    options.shape = Shape::Compact;
    let (bytes, summary) = generated(&options);
    import_checks(&bytes, &summary);
    assert!(summary.by_status.iter().all(|&n| n > 0));
    assert!(summary.donors < summary.rows);
    let mut reader = csv::Reader::from_reader(&bytes[..]);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let labs: HashSet<&str> = records.iter().map(|r| &r[2]).collect();
    assert_eq!(labs.len(), 1, "{labs:?}");
    for r in &records {
        assert!(r[0].len() <= 9 && r[4].len() <= 8, "{:?}", r);
    }
    // In the laboratory's order: within a year, numbers ascend row after row.
    let ascending = records
        .windows(2)
        .filter(|w| w[0][0][..3] != w[1][0][..3] || w[0][0] < w[1][0])
        .count();
    assert_eq!(ascending, records.len() - 1);
    // Rows much shorter than the spread shape's.
    let (spread, _) = generated(&self::options(20_000, false));
    assert!(
        bytes.len() * 100 < spread.len() * 85,
        "{} vs {}",
        bytes.len(),
        spread.len()
    );
}

#[test]
fn the_header_is_the_specs_and_values_look_real() {
    let (bytes, _) = generated(&options(2_000, false));
    let text = String::from_utf8(bytes).unwrap();
    let header = text.lines().next().unwrap();
    assert_eq!(
        header,
        "batch_number,product_code,lab_code,origin,donor_code,patient_code,collection_date,\
         manufacturing_start,manufacturing_end,expiry_date,status,cell_count,\
         viability_percent,volume_ml,doses,released_by,release_date,access_route,trial_id,notes"
    );
    assert!(text.contains("E+0"), "scientific cell counts");
    assert!(
        text.contains("\"Micoplasma \"\"negativo\"\""),
        "quoted quotes"
    );
    assert!(
        text.contains("\"Observaciones del QP:\nrevisado"),
        "line breaks"
    );
    assert!(
        text.contains("2015-001726-39"),
        "the assignment's EudraCT number"
    );
}

#[test]
fn a_seed_names_one_file() {
    let (a, _) = generated(&options(3_000, false));
    let (b, _) = generated(&options(3_000, false));
    assert_eq!(a, b);
    let mut other = options(3_000, false);
    other.seed = 8;
    assert_ne!(generated(&other).0, a);
}

#[test]
fn batch_numbers_are_not_written_in_order() {
    let (bytes, _) = generated(&options(1_000, false));
    let text = String::from_utf8(bytes).unwrap();
    let numbers: Vec<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .filter(|n| n.contains("-20"))
        .collect();
    let ascending = numbers.windows(2).filter(|w| w[0] < w[1]).count();
    assert!(
        ascending < numbers.len() * 3 / 4,
        "{ascending} of {}",
        numbers.len()
    );
}

#[test]
fn cell_counts_in_every_form_read_back_exactly() {
    use traza_domain::history::values::parse_decimal;
    let cases = [
        (125, 8, true, false, false, "1.25E+08"),
        (125, 8, true, true, false, "1,25E+08"),
        (125, 8, false, false, false, "125000000"),
        (125, 8, false, true, true, "125.000.000"),
        (250, 6, false, true, true, "2.500.000"),
        (100, 6, false, false, false, "1000000"),
    ];
    for (mantissa, exponent, scientific, spanish, grouped, text) in cases {
        let mut out = String::new();
        push_cell_count(&mut out, mantissa, exponent, scientific, spanish, grouped);
        assert_eq!(out, text);
        let value = parse_decimal(&out).unwrap().unwrap();
        assert_eq!(
            value.to_string(),
            format!("{}", u64::from(mantissa) * 10u64.pow(exponent - 2))
        );
    }
}
