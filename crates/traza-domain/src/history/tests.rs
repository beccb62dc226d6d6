//! Tests of reading whole files, the network checks, conversion, comparison and the export
//! round trip. Values and encodings are tested beside their parsers.

use std::io::{self, Read};

use chrono::NaiveDate;
use proptest::prelude::*;
use rust_decimal::{Decimal, dec};

use super::*;
use crate::batch::Batch;
use crate::codes::{BatchNumber, DonorCode, LabCode, PatientCode, ProductCode, TrialId};
use crate::network::tests::{accepted, day, lab, product, proposal};
use crate::network::{Assignment, Laboratory, Product};
use crate::vocab::{AccessRoute, BatchStatus, Origin, ProductStatus, Source};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

type Row = [&'static str; COLUMN_COUNT];

/// An autologous UGRSKIN batch of GRA-UPCIT, released; the donor's DIN is typed with its check
/// character, the patient's without.
fn ugrskin_released() -> Row {
    [
        "GRA-UPCIT-2019-00042",
        "UGRSKIN",
        "GRA-UPCIT",
        "autologous",
        "G123498654321H",
        "G123498654321",
        "2019-03-01",
        "2019-03-02",
        "2019-03-20",
        "2019-03-23",
        "released",
        "1500000",
        "92.5",
        "10",
        "1",
        "Dra. Ana Pérez",
        "2019-03-21",
        "hospital_exemption",
        "",
        "",
    ]
}

/// An allogeneic MSC-AD-ALO batch of SEV-UPRC in quarantine, made for a clinical trial.
fn msc_quarantine() -> Row {
    [
        "SEV-UPRC-2021-00007",
        "MSC-AD-ALO",
        "SEV-UPRC",
        "allogeneic",
        "A999926000001",
        "",
        "2021-05-03",
        "2021-05-04",
        "2021-05-20",
        "2022-05-20",
        "quarantine",
        "125000000",
        "95.5",
        "20",
        "4",
        "",
        "",
        "clinical_trial",
        "2015-001726-39",
        "Lote de referencia",
    ]
}

fn with(mut row: Row, column: Column, value: &'static str) -> Row {
    row[column.index()] = value;
    row
}

/// A field as a spreadsheet would write it: quoted when it must be.
fn quoted(field: &str, delimiter: char) -> String {
    if field.contains([delimiter, '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// A file with the full header and `rows`.
fn file(rows: &[Row], delimiter: char, eol: &str) -> String {
    let mut text = EXPORT_COLUMNS.join(&delimiter.to_string());
    text.push_str(eol);
    for row in rows {
        let fields: Vec<String> = row.iter().map(|f| quoted(f, delimiter)).collect();
        text.push_str(&fields.join(&delimiter.to_string()));
        text.push_str(eol);
    }
    text
}

fn read(bytes: &[u8], encoding: TextEncoding) -> Vec<RowResult> {
    match HistoryReader::new(bytes, encoding) {
        Ok(reader) => reader.collect(),
        Err(errors) => panic!("header refused: {errors:#?}"),
    }
}

fn read_utf8(text: &str) -> Vec<RowResult> {
    read(text.as_bytes(), TextEncoding::Utf8)
}

/// The rows of a file that must be free of errors, with their lines.
fn good_rows(results: Vec<RowResult>) -> Vec<(u64, HistoricalRow)> {
    results
        .into_iter()
        .map(|r| match r.outcome {
            Ok(row) => (r.line, row),
            Err(errors) => panic!("line {} refused: {errors:#?}", r.line),
        })
        .collect()
}

fn only_row(text: &str) -> HistoricalRow {
    let mut rows = good_rows(read_utf8(text));
    assert_eq!(rows.len(), 1);
    rows.remove(0).1
}

/// The `(column, code)` of each error of a refused row.
fn issues(result: &RowResult) -> Vec<(Option<&str>, IssueCode)> {
    match &result.outcome {
        Ok(row) => panic!("line {} should be refused: {row:?}", result.line),
        Err(errors) => errors
            .iter()
            .map(|e| {
                assert_eq!(e.line, result.line);
                (e.column.as_deref(), e.code)
            })
            .collect(),
    }
}

fn refused_row(row: Row) -> Vec<(Option<&'static str>, IssueCode)> {
    let results = read_utf8(&file(&[row], ',', "\n"));
    assert_eq!(results.len(), 1);
    issues(&results[0])
        .into_iter()
        .map(|(column, code)| {
            let column = column.map(|c| Column::from_header(c).map_or("?", Column::as_str));
            (column, code)
        })
        .collect()
}

fn header_errors(text: &[u8]) -> Vec<(Option<String>, IssueCode)> {
    match HistoryReader::new(text, TextEncoding::Utf8) {
        Ok(_) => panic!("the header should be refused"),
        Err(errors) => errors
            .into_iter()
            .map(|e| {
                assert_eq!(e.line, 1, "{e}");
                (e.column, e.code)
            })
            .collect(),
    }
}

fn product_like(
    code: &str,
    origin: Origin,
    routes: &[AccessRoute],
    shelf_life_days: u32,
) -> Product {
    Product {
        code: ProductCode::parse(code).unwrap(),
        origin,
        access_routes: routes.iter().copied().collect(),
        shelf_life_days,
        ..product(origin)
    }
}

fn ugrskin() -> Product {
    product(Origin::Autologous)
}

fn msc_ad_alo() -> Product {
    product_like(
        "MSC-AD-ALO",
        Origin::Allogeneic,
        &[AccessRoute::ClinicalTrial, AccessRoute::CompassionateUse],
        365,
    )
}

fn sev_uprc() -> Laboratory {
    Laboratory {
        code: LabCode::parse("SEV-UPRC").unwrap(),
        ..lab()
    }
}

/// UGRSKIN by hospital exemption at GRA-UPCIT, open-ended from 2016-02-01.
fn ugrskin_assignment() -> Assignment {
    accepted(1, proposal("2016-02-01", None))
}

// ---------------------------------------------------------------------------------------------
// Reading files as laboratories have them
// ---------------------------------------------------------------------------------------------

#[test]
fn a_row_is_read_into_typed_values() {
    let row = only_row(&file(&[ugrskin_released()], ',', "\n"));
    assert_eq!(row.batch_number.as_str(), "GRA-UPCIT-2019-00042");
    assert_eq!(row.product_code.as_str(), "UGRSKIN");
    assert_eq!(row.lab_code.as_str(), "GRA-UPCIT");
    assert_eq!(row.origin, Origin::Autologous);
    // The DIN's check character is verified and dropped: donor and patient are one code.
    assert_eq!(row.donor_code.as_str(), "G123498654321");
    assert_eq!(
        row.patient_code.as_ref().map(|p| p.as_str()),
        Some("G123498654321")
    );
    assert_eq!(row.collection_date, Some(day("2019-03-01")));
    assert_eq!(row.manufacturing_start, day("2019-03-02"));
    assert_eq!(row.manufacturing_end, Some(day("2019-03-20")));
    assert_eq!(row.expiry_date, Some(day("2019-03-23")));
    assert_eq!(row.status, BatchStatus::Released);
    assert_eq!(row.cell_count, Some(dec!(1500000)));
    assert_eq!(row.viability_percent, Some(dec!(92.5)));
    assert_eq!(row.volume_ml, Some(dec!(10)));
    assert_eq!(row.doses, 1);
    assert_eq!(row.released_by.as_deref(), Some("Dra. Ana Pérez"));
    assert_eq!(row.release_date, Some(day("2019-03-21")));
    assert_eq!(row.access_route, Some(AccessRoute::HospitalExemption));
    assert_eq!(row.trial_id, None);
    assert_eq!(row.notes, None);
}

#[test]
fn a_utf8_byte_order_mark_is_skipped() {
    let text = file(&[ugrskin_released()], ',', "\n");
    let with_bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
    assert_eq!(
        detect_encoding(with_bom.as_slice()).unwrap(),
        TextEncoding::Utf8
    );
    let from_bom = good_rows(read(&with_bom, TextEncoding::Utf8));
    let without = good_rows(read(text.as_bytes(), TextEncoding::Utf8));
    assert_eq!(from_bom, without);
    assert_eq!(from_bom[0].0, 2);
    // The byte count includes the mark, so a progress bar reaches the file's size.
    let mut reader = HistoryReader::new(with_bom.as_slice(), TextEncoding::Utf8).unwrap();
    while reader.next_row().is_some() {}
    assert_eq!(reader.position_bytes(), with_bom.len() as u64);
}

#[test]
fn windows_1252_files_are_detected_and_decoded() {
    // As Excel saves it on a Spanish Windows: `;`, CRLF, decimal commas, day-first dates,
    // and 0xF3 for ó.
    let bytes: &[u8] = b"batch_number;product_code;lab_code;origin;donor_code;patient_code;manufacturing_start;status;notes\r\n\
        GRA-UPCIT-2018-00003;UGRSKIN;GRA-UPCIT;aut\xF3logo;PAC-0042;PAC-0042;02/03/2018;en producci\xF3n;Piel para paciente de C\xF3rdoba\r\n";
    let encoding = detect_encoding(bytes).unwrap();
    assert_eq!(encoding, TextEncoding::Windows1252);
    let rows = good_rows(read(bytes, encoding));
    let row = &rows[0].1;
    assert_eq!(row.origin, Origin::Autologous);
    assert_eq!(row.status, BatchStatus::InProduction);
    assert_eq!(row.manufacturing_start, day("2018-03-02"));
    assert_eq!(row.notes.as_deref(), Some("Piel para paciente de Córdoba"));
}

#[test]
fn windows_1252_read_as_utf8_is_an_encoding_error_not_a_guess() {
    let bytes: &[u8] = b"batch_number,product_code,lab_code,origin,donor_code,patient_code,manufacturing_start,status,notes\n\
        GRA-UPCIT-2018-00003,UGRSKIN,GRA-UPCIT,aut\xF3logo,PAC-0042,PAC-0042,2018-03-02,in_production,C\xF3rdoba\n";
    let results = read(bytes, TextEncoding::Utf8);
    // One error per undecodable field, and no second error about the same field's value.
    assert_eq!(
        issues(&results[0]),
        [
            (Some("origin"), IssueCode::InvalidEncoding),
            (Some("notes"), IssueCode::InvalidEncoding)
        ]
    );
}

#[test]
fn semicolon_tab_and_comma_files_read_alike() {
    let rows = [ugrskin_released(), msc_quarantine()];
    let by_comma = good_rows(read_utf8(&file(&rows, ',', "\n")));
    for delimiter in [';', '\t'] {
        let text = file(&rows, delimiter, "\n");
        let reader = HistoryReader::new(text.as_bytes(), TextEncoding::Utf8).unwrap();
        assert_eq!(reader.delimiter(), delimiter as u8);
        assert_eq!(good_rows(reader.collect()), by_comma, "{delimiter:?}");
    }
    assert_eq!(by_comma.len(), 2);
}

#[test]
fn crlf_and_lf_give_the_same_rows_and_lines() {
    let rows = [ugrskin_released(), msc_quarantine(), ugrskin_released()];
    let rows = [
        rows[0],
        rows[1],
        with(rows[2], Column::BatchNumber, "GRA-UPCIT-2019-00043"),
    ];
    let lf = good_rows(read_utf8(&file(&rows, ';', "\n")));
    let crlf = good_rows(read_utf8(&file(&rows, ';', "\r\n")));
    assert_eq!(lf, crlf);
    assert_eq!(
        lf.iter().map(|(line, _)| *line).collect::<Vec<_>>(),
        [2, 3, 4]
    );
}

#[test]
fn quoted_fields_keep_delimiters_quotes_and_line_breaks_without_shifting_lines() {
    for eol in ["\n", "\r\n"] {
        let notes = format!("Lote 1; lavado \"extra\",{eol}ver hoja 2{eol}{eol}firmado");
        let header = EXPORT_COLUMNS.join(";");
        let first = ugrskin_released().map(|f| quoted(f, ';')).join(";");
        let noted = msc_quarantine()[..19]
            .iter()
            .map(|f| quoted(f, ';'))
            .collect::<Vec<_>>();
        let second = format!("{};{}", noted.join(";"), quoted(&notes, ';'));
        let third = with(msc_quarantine(), Column::BatchNumber, "SEV-UPRC-2021-00008")
            .map(|f| quoted(f, ';'))
            .join(";");
        // Line 1 header, 2 first, 3-6 second (its note has three line breaks), 7 blank,
        // 8 third.
        let text = format!("{header}{eol}{first}{eol}{second}{eol}{eol}{third}{eol}");
        let rows = good_rows(read_utf8(&text));
        assert_eq!(
            rows.iter().map(|(line, _)| *line).collect::<Vec<_>>(),
            [2, 3, 8],
            "{eol:?}"
        );
        assert_eq!(rows[1].1.notes.as_deref(), Some(notes.as_str()));
    }
}

#[test]
fn line_numbers_stay_right_after_errors_blank_lines_and_a_missing_final_line_end() {
    let good = file(&[ugrskin_released()], ',', "\r\n");
    let bad_row = with(msc_quarantine(), Column::Status, "perdido")
        .map(|f| quoted(f, ','))
        .join(",");
    let text = format!("{good}\r\n\r\n{bad_row}\r\n\"GRA-UPCIT-X\nY\",UGRSKIN\r\n{bad_row}");
    let results = read_utf8(&text);
    let lines: Vec<u64> = results.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 5, 6, 8]);
    assert_eq!(
        issues(&results[1]),
        [(Some("status"), IssueCode::InvalidValue)]
    );
    assert_eq!(issues(&results[2]), [(None, IssueCode::WrongFieldCount)]);
    assert_eq!(
        issues(&results[3]),
        [(Some("status"), IssueCode::InvalidValue)]
    );
}

#[test]
fn header_names_ignore_case_padding_and_order() {
    let text = " Status ;MANUFACTURING_START;Donor_Code;origin;lab_code;product_code;batch_number\n\
                en producción;2021-05-04;A999926000002;alogénico;SEV-UPRC;MSC-AD-ALO;SEV-UPRC-2021-00009\n";
    let row = only_row(text);
    assert_eq!(row.batch_number.as_str(), "SEV-UPRC-2021-00009");
    assert_eq!(row.status, BatchStatus::InProduction);
    assert_eq!(row.origin, Origin::Allogeneic);
    assert_eq!(row.manufacturing_start, day("2021-05-04"));
    // Columns a file leaves out are empty: doses default to one.
    assert_eq!(row.doses, 1);
    assert_eq!(row.access_route, None);
}

#[test]
fn spanish_headers_and_a_percent_sign_read_as_the_english_ones() {
    let text = "Número de lote;Producto;Laboratorio;Origen;Donante;Inicio de fabricación;Estado;Viabilidad (%)\n\
                SEV-UPRC-2021-00009;MSC-AD-ALO;SEV-UPRC;alogénico;A999926000002;04/05/2021;en producción;95,5 %\n";
    let row = only_row(text);
    assert_eq!(row.batch_number.as_str(), "SEV-UPRC-2021-00009");
    assert_eq!(row.viability_percent, Some("95.5".parse().unwrap()));
}

#[test]
fn unknown_duplicate_and_missing_columns_are_reported_together() {
    // (`producto` is the Spanish name of product_code: a typo of it is unknown.)
    let errors = header_errors(b"batch_number;produkto;lab_code;origin;Origin;fecha;status;\n");
    assert_eq!(
        errors,
        [
            (Some("produkto".to_owned()), IssueCode::UnknownColumn),
            (Some("origin".to_owned()), IssueCode::DuplicateColumn),
            (Some("fecha".to_owned()), IssueCode::UnknownColumn),
            (None, IssueCode::UnknownColumn),
            (Some("product_code".to_owned()), IssueCode::MissingColumn),
            (Some("donor_code".to_owned()), IssueCode::MissingColumn),
            (
                Some("manufacturing_start".to_owned()),
                IssueCode::MissingColumn
            ),
        ]
    );
}

#[test]
fn an_empty_file_is_refused() {
    for text in [&b""[..], b"\xEF\xBB\xBF", b"\n\r\n  \n", b";;;\r\n;;;\r\n"] {
        assert_eq!(
            header_errors(text),
            [(None, IssueCode::EmptyFile)],
            "{text:?}"
        );
    }
}

#[test]
fn a_header_without_rows_is_a_file_of_no_rows() {
    let header = EXPORT_COLUMNS.join(",");
    assert!(read_utf8(&header).is_empty());
    assert!(read_utf8(&format!("{header}\n\n")).is_empty());
}

#[test]
fn rows_of_bare_delimiters_that_spreadsheets_leave_are_skipped() {
    let mut text = file(&[ugrskin_released()], ';', "\r\n");
    text.push_str(&";".repeat(COLUMN_COUNT - 1));
    text.push_str("\r\n ;  ;\r\n\r\n");
    let rows = good_rows(read_utf8(&text));
    assert_eq!(rows.len(), 1);
}

#[test]
fn a_record_with_the_wrong_number_of_fields_is_an_error() {
    let text = file(&[ugrskin_released()], ',', "\n");
    let short = format!("{text}SEV-UPRC-2021-00010,MSC-AD-ALO\n");
    let results = read_utf8(&short);
    assert!(results[0].outcome.is_ok());
    let Err(errors) = &results[1].outcome else {
        panic!("a short record must be refused")
    };
    assert_eq!(errors[0].code, IssueCode::WrongFieldCount);
    assert_eq!(
        errors[0].message,
        "the record has 2 fields, but the header has 20"
    );
    let long = format!("{text}{},extra\n", ugrskin_released().join(","));
    assert_eq!(
        issues(&read_utf8(&long)[1]),
        [(None, IssueCode::WrongFieldCount)]
    );
}

#[test]
fn a_quote_never_closed_is_malformed_csv_not_a_swallowed_file() {
    // Without the check, the note would silently take in every later row.
    let text = file(&[ugrskin_released()], ',', "\n");
    let open = format!(
        "{text}{},\"Nota sin cerrar\n{}\n",
        msc_quarantine()[..19].join(","),
        msc_quarantine().join(",")
    );
    let results = read_utf8(&open);
    assert_eq!(results.len(), 2);
    assert_eq!(results[1].line, 3);
    assert_eq!(issues(&results[1]), [(None, IssueCode::MalformedCsv)]);
}

#[test]
fn an_unclosed_quote_in_a_large_file_is_stopped_early() {
    // Reading the swallowed rest of the file into one field would grow with the file.
    let mut text = file(&[ugrskin_released()], ',', "\n");
    text.push_str(&msc_quarantine()[..19].join(","));
    text.push_str(",\"Nota sin cerrar\n");
    let row = msc_quarantine().join(",");
    while text.len() < 3 * 1024 * 1024 {
        text.push_str(&row);
        text.push('\n');
    }
    let results = read_utf8(&text);
    assert_eq!(results.len(), 2);
    assert!(results[0].outcome.is_ok());
    assert_eq!(results[1].line, 3);
    let Err(errors) = &results[1].outcome else {
        panic!("must be refused")
    };
    assert_eq!(errors[0].code, IssueCode::MalformedCsv);
    assert!(errors[0].message.contains("1 MiB"), "{}", errors[0].message);
}

#[test]
fn a_read_failure_is_reported_and_ends_the_file() {
    /// A file on a stick pulled out after its first bytes.
    struct Unplugged(io::Cursor<Vec<u8>>);
    impl Read for Unplugged {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.read(buf)? {
                0 => Err(io::Error::other("the USB stick was removed")),
                n => Ok(n),
            }
        }
    }
    let text = format!("{}GRA-UPCIT-20", file(&[ugrskin_released()], ',', "\n"));
    let stick = Unplugged(io::Cursor::new(text.into_bytes()));
    let results: Vec<_> = HistoryReader::new(stick, TextEncoding::Utf8)
        .unwrap()
        .collect();
    assert_eq!(results.len(), 2);
    assert!(results[0].outcome.is_ok());
    let Err(errors) = &results[1].outcome else {
        panic!("the failure must be reported")
    };
    assert_eq!(errors[0].code, IssueCode::ReadFailed);
    assert!(errors[0].message.contains("USB stick"));
}

#[test]
fn spanish_values_decimal_commas_and_day_first_dates() {
    let row = [
        "SEV-UPRC-2021-00011",
        "MSC-AD-ALO",
        "SEV-UPRC",
        "Alogénico",
        "A999926000002",
        "",
        "3/5/2021",
        "04/05/2021",
        "20/05/2021",
        "",
        "Liberado",
        "1,25E+08",
        "95,5",
        "1.250,75",
        "4",
        "José Núñez",
        "21/05/2021",
        "Ensayo clínico",
        "2015-001726-39",
        "",
    ];
    let read = only_row(&file(&[row], ';', "\r\n"));
    assert_eq!(read.origin, Origin::Allogeneic);
    assert_eq!(read.status, BatchStatus::Released);
    assert_eq!(read.access_route, Some(AccessRoute::ClinicalTrial));
    assert_eq!(read.collection_date, Some(day("2021-05-03")));
    assert_eq!(read.manufacturing_end, Some(day("2021-05-20")));
    assert_eq!(read.cell_count, Some(dec!(125000000)));
    assert_eq!(read.viability_percent, Some(dec!(95.5)));
    assert_eq!(read.volume_ml, Some(dec!(1250.75)));
}

// ---------------------------------------------------------------------------------------------
// Rules of a row on its own
// ---------------------------------------------------------------------------------------------

#[test]
fn every_error_of_a_row_is_reported_at_once() {
    let row = [
        "GRA UPCIT 1",
        "ugrskin",
        "GRA-UPCIT",
        "propio",
        "G123498654321X",
        "",
        "31/02/2019",
        "2019-13-02",
        "ayer",
        "",
        "released",
        "1,2,3",
        "150",
        "0",
        "dos",
        "",
        "",
        "por avión",
        "2015-3421-27",
        "",
    ];
    assert_eq!(
        refused_row(row),
        [
            (Some("batch_number"), IssueCode::InvalidValue),
            (Some("product_code"), IssueCode::InvalidValue),
            (Some("origin"), IssueCode::InvalidValue),
            (Some("donor_code"), IssueCode::InvalidValue),
            (Some("collection_date"), IssueCode::InvalidValue),
            (Some("manufacturing_start"), IssueCode::InvalidValue),
            (Some("manufacturing_end"), IssueCode::InvalidValue),
            (Some("cell_count"), IssueCode::InvalidValue),
            (Some("doses"), IssueCode::InvalidValue),
            (Some("access_route"), IssueCode::InvalidValue),
            (Some("trial_id"), IssueCode::InvalidValue),
            (Some("released_by"), IssueCode::MissingValue),
            (Some("release_date"), IssueCode::MissingValue),
            (Some("viability_percent"), IssueCode::InvalidValue),
            (Some("volume_ml"), IssueCode::InvalidValue),
        ]
    );
}

#[test]
fn an_unreadable_start_hides_no_other_finding_and_invents_none() {
    let row = with(
        with(ugrskin_released(), Column::ManufacturingStart, "02/03/19"),
        Column::ViabilityPercent,
        "101",
    );
    // Collected 2019-03-01 cannot be judged against an unknown start, but 101 % is wrong
    // whatever the start.
    assert_eq!(
        refused_row(row),
        [
            (Some("manufacturing_start"), IssueCode::InvalidValue),
            (Some("viability_percent"), IssueCode::InvalidValue)
        ]
    );
}

#[test]
fn messages_name_the_column_and_the_value() {
    let results = read_utf8(&file(
        &[with(
            with(ugrskin_released(), Column::Doses, "0"),
            Column::CellCount,
            "12,",
        )],
        ',',
        "\n",
    ));
    let Err(errors) = &results[0].outcome else {
        panic!("must be refused")
    };
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "'12,' needs digits on both sides of its decimal separator",
            "doses must be at least 1"
        ]
    );
}

#[test]
fn required_values_must_be_there() {
    let mut row = ugrskin_released();
    for column in Column::ALL.iter().filter(|c| c.is_required()) {
        row[column.index()] = "  ";
    }
    let found = refused_row(row);
    for column in [
        "batch_number",
        "product_code",
        "lab_code",
        "origin",
        "donor_code",
        "manufacturing_start",
        "status",
    ] {
        assert!(
            found.contains(&(Some(column), IssueCode::MissingValue)),
            "{column}: {found:?}"
        );
    }
}

#[test]
fn what_a_status_requires_and_forbids() {
    let unfinished = with(msc_quarantine(), Column::ManufacturingEnd, "");
    assert_eq!(
        refused_row(unfinished),
        [(Some("manufacturing_end"), IssueCode::MissingValue)]
    );
    let unsigned = with(
        with(ugrskin_released(), Column::ReleasedBy, ""),
        Column::ReleaseDate,
        "",
    );
    assert_eq!(
        refused_row(with(unsigned, Column::Status, "administrado")),
        [
            (Some("released_by"), IssueCode::MissingValue),
            (Some("release_date"), IssueCode::MissingValue)
        ]
    );
    // A release on a batch that was never released would read as a QP certification.
    for status in ["in_production", "quarantine", "rejected"] {
        assert_eq!(
            refused_row(with(ugrskin_released(), Column::Status, status)),
            [
                (Some("released_by"), IssueCode::InvalidValue),
                (Some("release_date"), IssueCode::InvalidValue)
            ],
            "{status}"
        );
    }
    // In production or rejected during production, a batch needs no end of manufacture.
    for status in ["in_production", "rejected"] {
        let row = with(
            with(
                with(unsigned, Column::ManufacturingEnd, ""),
                Column::ExpiryDate,
                "",
            ),
            Column::Status,
            status,
        );
        assert!(
            only_row(&file(&[row], ',', "\n"))
                .manufacturing_end
                .is_none()
        );
    }
}

#[test]
fn the_release_cannot_precede_the_end_of_manufacture() {
    let early = with(ugrskin_released(), Column::ReleaseDate, "2019-03-19");
    let results = read_utf8(&file(&[early], ',', "\n"));
    let Err(errors) = &results[0].outcome else {
        panic!("must be refused")
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].column.as_deref(), Some("release_date"));
    assert_eq!(
        errors[0].message,
        "release_date (2019-03-19) must not be before manufacturing_end (2019-03-20)"
    );
    let same_day = with(ugrskin_released(), Column::ReleaseDate, "2019-03-20");
    only_row(&file(&[same_day], ',', "\n"));
}

#[test]
fn the_batch_rules_are_applied_to_rows() {
    // Each is a finding of BatchFields::field_errors, reported against its column.
    let bad = with(
        with(
            with(msc_quarantine(), Column::CollectionDate, "2021-05-05"),
            Column::ExpiryDate,
            "2021-05-19",
        ),
        Column::TrialId,
        "",
    );
    assert_eq!(
        refused_row(bad),
        [
            (Some("collection_date"), IssueCode::InvalidValue),
            (Some("expiry_date"), IssueCode::InvalidValue),
            (Some("trial_id"), IssueCode::MissingValue)
        ]
    );
    let backwards = with(msc_quarantine(), Column::ManufacturingEnd, "2021-05-03");
    assert_eq!(
        refused_row(backwards),
        [(Some("manufacturing_end"), IssueCode::InvalidValue)]
    );
}

#[test]
fn an_autologous_batch_needs_its_donor_as_its_patient() {
    assert_eq!(
        refused_row(with(ugrskin_released(), Column::PatientCode, "")),
        [(Some("patient_code"), IssueCode::MissingValue)]
    );
    let other = with(ugrskin_released(), Column::PatientCode, "G123417654321");
    assert_eq!(
        refused_row(other),
        [(Some("patient_code"), IssueCode::ChainOfIdentity)]
    );
    // The message repeats neither code: a pseudonym column may hold a name by mistake.
    let results = read_utf8(&file(&[other], ',', "\n"));
    let Err(errors) = &results[0].outcome else {
        panic!("must be refused")
    };
    assert!(!errors[0].message.contains("G123"), "{}", errors[0].message);
    // The same DIN spelt with its check character is the same person.
    let spelt = with(ugrskin_released(), Column::PatientCode, "G123498654321H");
    only_row(&file(&[spelt], ',', "\n"));
    // An allogeneic batch may name a patient who is not the donor, or none.
    only_row(&file(
        &[with(msc_quarantine(), Column::PatientCode, "PAC-0042")],
        ',',
        "\n",
    ));
}

// ---------------------------------------------------------------------------------------------
// Against the network
// ---------------------------------------------------------------------------------------------

fn decoded(row: Row) -> HistoricalRow {
    only_row(&file(&[row], ',', "\n"))
}

fn network_issues(
    row: &HistoricalRow,
    product: Option<&Product>,
    lab: Option<&Laboratory>,
    assignments: &[Assignment],
) -> (Vec<(Option<String>, IssueCode)>, Vec<IssueCode>) {
    let (errors, warnings) = check_against_network(row, 9, product, lab, assignments);
    assert!(errors.iter().all(|e| e.line == 9) && warnings.iter().all(|w| w.line == 9));
    (
        errors.into_iter().map(|e| (e.column, e.code)).collect(),
        warnings.into_iter().map(|w| w.code).collect(),
    )
}

#[test]
fn a_row_of_an_assigned_product_passes() {
    let row = decoded(ugrskin_released());
    let (errors, warnings) = network_issues(
        &row,
        Some(&ugrskin()),
        Some(&lab()),
        &[ugrskin_assignment()],
    );
    assert!(
        errors.is_empty() && warnings.is_empty(),
        "{errors:?} {warnings:?}"
    );
}

#[test]
fn unknown_product_and_laboratory_are_errors() {
    let row = decoded(ugrskin_released());
    let (errors, _) = network_issues(&row, None, None, &[]);
    assert_eq!(
        errors,
        [
            (Some("lab_code".to_owned()), IssueCode::UnknownLab),
            (Some("product_code".to_owned()), IssueCode::UnknownProduct)
        ]
    );
}

#[test]
fn the_origin_must_be_the_products() {
    let row = decoded(with(
        with(ugrskin_released(), Column::Origin, "alogénico"),
        Column::PatientCode,
        "",
    ));
    let (errors, _) = network_issues(
        &row,
        Some(&ugrskin()),
        Some(&lab()),
        &[ugrskin_assignment()],
    );
    assert_eq!(
        errors,
        [(Some("origin".to_owned()), IssueCode::OriginMismatch)]
    );
    let (all, _) = check_against_network(&row, 9, Some(&ugrskin()), Some(&lab()), &[]);
    assert_eq!(
        all[0].message,
        "UGRSKIN is autologous, but the row says allogeneic"
    );
}

#[test]
fn a_missing_route_is_the_products_only_route() {
    let condro = product_like(
        "CONDRO-AUT",
        Origin::Autologous,
        &[AccessRoute::HospitalExemption],
        2,
    );
    let row = decoded(with(
        with(ugrskin_released(), Column::ProductCode, "CONDRO-AUT"),
        Column::AccessRoute,
        "",
    ));
    assert_eq!(
        resolved_route(&row, &condro),
        Some(AccessRoute::HospitalExemption)
    );
    // UGRSKIN has two routes: the file must say which.
    assert_eq!(resolved_route(&row, &ugrskin()), None);
    let (errors, _) = network_issues(&row, Some(&ugrskin()), Some(&lab()), &[]);
    assert_eq!(
        errors,
        [(Some("access_route".to_owned()), IssueCode::MissingValue)]
    );
}

#[test]
fn a_route_taken_from_the_product_still_needs_its_trial_id() {
    let cart_bcma = product_like(
        "CART-BCMA",
        Origin::Autologous,
        &[AccessRoute::ClinicalTrial],
        365,
    );
    let row = decoded(with(
        with(ugrskin_released(), Column::ProductCode, "CART-BCMA"),
        Column::AccessRoute,
        "",
    ));
    let (errors, _) = network_issues(&row, Some(&cart_bcma), Some(&lab()), &[]);
    assert_eq!(
        errors,
        [(Some("trial_id".to_owned()), IssueCode::MissingValue)]
    );
}

#[test]
fn the_route_must_be_one_the_product_offers() {
    let row = decoded(with(
        msc_quarantine(),
        Column::AccessRoute,
        "exención hospitalaria",
    ));
    let (errors, _) = network_issues(&row, Some(&msc_ad_alo()), Some(&sev_uprc()), &[]);
    assert_eq!(
        errors,
        [(Some("access_route".to_owned()), IssueCode::RouteNotOffered)]
    );
}

#[test]
fn history_without_an_assignment_is_a_warning_and_withdrawal_does_not_matter() {
    let row = decoded(ugrskin_released());
    let mut withdrawn = ugrskin();
    withdrawn.status = ProductStatus::Withdrawn;
    // The assignment starts after the batch was made (2019-03-02).
    let later = accepted(2, proposal("2020-01-01", None));
    let (errors, warnings) = network_issues(&row, Some(&withdrawn), Some(&lab()), &[later]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(warnings, [IssueCode::NoAssignment]);
    let (_, warnings) = check_against_network(&row, 9, Some(&withdrawn), Some(&lab()), &[]);
    assert_eq!(warnings[0].column.as_deref(), Some("manufacturing_start"));
    assert!(
        warnings[0].message.contains("2019-03-02"),
        "{}",
        warnings[0].message
    );
}

// ---------------------------------------------------------------------------------------------
// Conversion and comparison with stored batches
// ---------------------------------------------------------------------------------------------

#[test]
fn a_row_becomes_an_imported_batch() {
    let row = decoded(ugrskin_released());
    let batch = row.to_batch(&ugrskin(), AccessRoute::HospitalExemption, 31, 2);
    assert_eq!(batch.version, 1);
    assert_eq!(batch.source, Source::Import);
    assert_eq!((batch.import_id, batch.import_line), (Some(31), Some(2)));
    assert_eq!(batch.expiry_date, Some(day("2019-03-23")));
    assert_eq!(batch.donor_code.as_str(), "G123498654321");
    assert!(differing_columns(&row, &batch).is_empty());
}

#[test]
fn an_empty_expiry_is_the_shelf_life_and_reimports_unchanged() {
    let row = decoded(with(ugrskin_released(), Column::ExpiryDate, ""));
    // UGRSKIN keeps 3 days.
    let stored = row.to_batch(&ugrskin(), AccessRoute::HospitalExemption, 31, 2);
    assert_eq!(stored.expiry_date, Some(day("2019-03-23")));
    assert!(differing_columns(&row, &stored).is_empty());
    // Still unchanged if the shelf life changed after the first import.
    let mut longer = ugrskin();
    longer.shelf_life_days = 5;
    assert_eq!(
        row.to_batch(&longer, AccessRoute::HospitalExemption, 32, 2)
            .expiry_date,
        Some(day("2019-03-25"))
    );
    assert!(differing_columns(&row, &stored).is_empty());
    // An in-production batch has no end, hence no default expiry.
    let unfinished = HistoricalRow {
        manufacturing_end: None,
        status: BatchStatus::InProduction,
        released_by: None,
        release_date: None,
        ..row
    };
    assert_eq!(
        unfinished
            .to_batch(&ugrskin(), AccessRoute::HospitalExemption, 1, 2)
            .expiry_date,
        None
    );
}

#[test]
fn differing_columns_are_named_and_decimals_compare_by_value() {
    let row = decoded(ugrskin_released());
    let mut stored = row.to_batch(&ugrskin(), AccessRoute::HospitalExemption, 31, 2);
    // Another database's scale (PostgreSQL NUMERIC) is not a difference.
    stored.viability_percent = Some(Decimal::new(92_500, 3));
    stored.version = 4;
    assert!(differing_columns(&row, &stored).is_empty());
    stored.cell_count = Some(dec!(1500001));
    stored.status = BatchStatus::Administered;
    stored.notes = Some("Corregido".into());
    stored.access_route = AccessRoute::ClinicalTrial;
    assert_eq!(
        differing_columns(&row, &stored),
        ["status", "cell_count", "access_route", "notes"]
    );
    // An empty route in the file is the product's: not compared.
    let silent = HistoricalRow {
        access_route: None,
        ..row
    };
    assert_eq!(
        differing_columns(&silent, &stored),
        ["status", "cell_count", "notes"]
    );
}

// ---------------------------------------------------------------------------------------------
// Export, and reading many rows
// ---------------------------------------------------------------------------------------------

fn export(batches: &[Batch]) -> Vec<u8> {
    let mut w = export_writer(Vec::new());
    write_export_header(&mut w).unwrap();
    for batch in batches {
        write_export_row(&mut w, batch).unwrap();
    }
    w.into_inner().unwrap()
}

/// Reads an export back into batches, as an import into an empty database would store them.
fn reimport(bytes: &[u8]) -> Vec<Batch> {
    good_rows(read(bytes, detect_encoding(bytes).unwrap()))
        .into_iter()
        .map(|(line, row)| {
            let product = product(row.origin);
            let route = resolved_route(&row, &product).unwrap();
            row.into_batch(&product, route, 1, line)
        })
        .collect()
}

#[test]
fn the_export_is_canonical() {
    let row = decoded(with(
        with(msc_quarantine(), Column::Notes, "Lote \"A\", lavado\nx"),
        Column::CellCount,
        "1,250E+8",
    ));
    let mut batch = row.to_batch(&msc_ad_alo(), AccessRoute::ClinicalTrial, 1, 2);
    batch.volume_ml = Some(Decimal::new(20_000, 3));
    let text = String::from_utf8(export(&[batch])).unwrap();
    assert_eq!(
        text,
        format!(
            "{}\nSEV-UPRC-2021-00007,MSC-AD-ALO,SEV-UPRC,allogeneic,A999926000001,,2021-05-03,\
             2021-05-04,2021-05-20,2022-05-20,quarantine,125000000,95.5,20,4,,,clinical_trial,\
             2015-001726-39,\"Lote \"\"A\"\", lavado\nx\"\n",
            EXPORT_COLUMNS.join(",")
        )
    );
}

#[test]
fn the_export_escapes_formulas_and_the_import_reads_them_back() {
    let mut batch = generated_batch(1);
    batch.released_by = Some("@SUM(A1)".into());
    batch.notes = Some("=HYPERLINK(\"http://x\")".into());
    let text = String::from_utf8(export(std::slice::from_ref(&batch))).unwrap();
    assert!(
        text.ends_with(
            ",'@SUM(A1),2005-01-16,hospital_exemption,,\"'=HYPERLINK(\"\"http://x\"\")\"\n"
        ),
        "{text}"
    );
    let back = &reimport(text.as_bytes())[0];
    assert_eq!(
        (back.released_by.as_deref(), back.notes.as_deref()),
        (Some("@SUM(A1)"), Some("=HYPERLINK(\"http://x\")"))
    );
    // A file written by hand: the escape of a tab is undone before the field is trimmed; a
    // quote before anything else is the person's own.
    let file = text
        .replace(",'@SUM(A1),", ",'\t Dra. Pérez,")
        .replace("\"'=HYPERLINK(\"\"http://x\"\")\"", "' no es una fórmula");
    let back = &reimport(file.as_bytes())[0];
    assert_eq!(
        (back.released_by.as_deref(), back.notes.as_deref()),
        (Some("Dra. Pérez"), Some("' no es una fórmula"))
    );
}

/// A batch as a store would hold it after any path: made in Traza or imported.
fn generated_batch(i: u32) -> Batch {
    let origin = if i.is_multiple_of(3) {
        Origin::Allogeneic
    } else {
        Origin::Autologous
    };
    let donor = format!("PAC-{i:06}");
    let start = day("2005-01-01") + chrono::Days::new(u64::from(i % 7000));
    let end = start + chrono::Days::new(14);
    Batch {
        batch_number: BatchNumber::generated(
            &LabCode::parse("GRA-UPCIT").unwrap(),
            2005 + (i % 20) as i32,
            i,
        ),
        product_code: ProductCode::parse("UGRSKIN").unwrap(),
        lab_code: LabCode::parse("GRA-UPCIT").unwrap(),
        origin,
        access_route: AccessRoute::HospitalExemption,
        trial_id: None,
        donor_code: DonorCode::parse(&donor).unwrap(),
        patient_code: (origin == Origin::Autologous).then(|| PatientCode::parse(&donor).unwrap()),
        collection_date: Some(start),
        manufacturing_start: start,
        manufacturing_end: Some(end),
        expiry_date: Some(end + chrono::Days::new(3)),
        cell_count: Some(Decimal::new(i64::from(i) * 1_000 + 7, 1)),
        viability_percent: Some(Decimal::new(i64::from(i % 1000), 1)),
        volume_ml: Some(dec!(10)),
        doses: 1 + i % 4,
        status: BatchStatus::Released,
        released_by: Some("Dra. Ana Pérez".into()),
        release_date: Some(end),
        notes: i
            .is_multiple_of(5)
            .then(|| format!("Lote {i}, revisado;\n\"ok\"")),
        version: 1,
        source: Source::Import,
        import_id: Some(1),
        import_line: Some(u64::from(i) + 2),
        on_hold: false,
    }
}

#[test]
fn thousands_of_rows_decode_correctly_and_keep_their_lines() {
    let batches: Vec<Batch> = (0..5_000).map(generated_batch).collect();
    let bytes = export(&batches);
    let mut reader = HistoryReader::new(bytes.as_slice(), TextEncoding::Utf8).unwrap();
    let mut line = 2;
    let mut count = 0;
    while let Some(result) = reader.next_row() {
        let Ok(row) = result.outcome else {
            panic!("line {} refused", result.line)
        };
        let expected = &batches[count];
        assert_eq!(result.line, line);
        assert_eq!(row.batch_number, expected.batch_number);
        assert_eq!(row.notes, expected.notes);
        assert_eq!(row.cell_count, expected.cell_count);
        // Each multi-line note takes one line more.
        line += 1 + row
            .notes
            .as_deref()
            .map_or(0, |n| n.matches('\n').count() as u64);
        count += 1;
    }
    assert_eq!(count, batches.len());
    assert_eq!(reader.position_bytes(), bytes.len() as u64);
}

fn arb_date(from: &'static str, days: u64) -> impl Strategy<Value = NaiveDate> {
    (0..days).prop_map(move |d| day(from) + chrono::Days::new(d))
}

fn arb_decimal(max_units: i64, max_scale: u32) -> impl Strategy<Value = Decimal> {
    (0..=max_units, 0..=max_scale).prop_map(|(m, s)| Decimal::new(m, s).normalize())
}

const DONORS: [&str; 6] = [
    "G123498654321",
    "A999926000001",
    "A999926000123",
    "PAC-0042",
    "DON.2019_07",
    "ES990001A999926000123A00S123400120261231",
];

fn arb_batch() -> impl Strategy<Value = Batch> {
    let codes = (
        "[A-Z]{3}-[A-Z]{2,5}-20[0-9]{2}-[0-9]{5}",
        prop::sample::select(vec!["UGRSKIN", "MSC-AD-ALO", "CART-CD19"]),
        prop::sample::select(vec!["GRA-UPCIT", "SEV-UPRC", "COR-HURS"]),
        prop::sample::select(DONORS.to_vec()),
        prop::option::of(prop::sample::select(DONORS.to_vec())),
        any::<bool>(),
    );
    let dates = (
        arb_date("1998-01-01", 10_000),
        0..5u64,
        prop::option::of(0..40u64),
        0..400u64,
        0..10u64,
        prop::sample::select(BatchStatus::ALL.to_vec()),
    );
    let amounts = (
        prop::option::of(arb_decimal(999_999_999_999, 3)),
        prop::option::of(arb_decimal(10_000, 2)),
        prop::option::of(arb_decimal(100_000, 3).prop_filter("positive", |v| !v.is_zero())),
        1..=12u32,
    );
    let text = (
        prop::sample::select(vec![
            "Dra. Ana Pérez",
            "José Núñez, QP",
            "M. \"Pepa\" Ortiz",
            // Free text that a spreadsheet would run (SPEC §4 escapes it), or already escaped.
            "=HYPERLINK(\"http://x\")",
            "@SUM(A1)",
            "-Dra. Ana Pérez",
            "'=ya escapado",
        ]),
        prop::sample::select(AccessRoute::ALL.to_vec()),
        prop::option::of(prop::sample::select(vec![
            "2015-001726-39",
            "2023-512345-12-00",
        ])),
        // Formula starts and quotes, then anything printable.
        prop::option::of("[=+\\-@'\t\r ]{0,3}[a-zA-Z0-9ñóé ,;\"'=+@\t\r\n-]{0,30}\\PC{0,8}"),
    );
    (codes, dates, amounts, text).prop_map(
        |(
            (number, product, lab, donor, other_patient, autologous),
            (start, collected_before, took, keeps, released_after, status),
            (cell_count, viability, volume, doses),
            (signer, route, trial, notes),
        )| {
            use BatchStatus::*;
            let origin = if autologous {
                Origin::Autologous
            } else {
                Origin::Allogeneic
            };
            let finished = matches!(status, Quarantine | Released | Administered);
            let end = match took {
                Some(d) => Some(start + chrono::Days::new(d)),
                None if finished => Some(start),
                None => None,
            };
            let released = matches!(status, Released | Administered);
            let notes = notes.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
            Batch {
                batch_number: BatchNumber::parse(&number).unwrap(),
                product_code: ProductCode::parse(product).unwrap(),
                lab_code: LabCode::parse(lab).unwrap(),
                origin,
                access_route: route,
                trial_id: match (route, trial) {
                    (AccessRoute::ClinicalTrial, None) => {
                        Some(TrialId::parse("2015-003421-27").unwrap())
                    }
                    (_, trial) => trial.map(|t| TrialId::parse(t).unwrap()),
                },
                donor_code: DonorCode::parse(donor).unwrap(),
                patient_code: if autologous {
                    Some(PatientCode::parse(donor).unwrap())
                } else {
                    other_patient.map(|p| PatientCode::parse(p).unwrap())
                },
                collection_date: Some(start - chrono::Days::new(collected_before)),
                manufacturing_start: start,
                manufacturing_end: end,
                // The store always keeps an expiry once manufacture has ended.
                expiry_date: Some(end.unwrap_or(start) + chrono::Days::new(keeps)),
                cell_count,
                viability_percent: viability.map(|v| v.min(Decimal::ONE_HUNDRED)),
                volume_ml: volume,
                doses,
                status,
                released_by: released.then(|| signer.to_owned()),
                release_date: released
                    .then(|| end.unwrap_or(start) + chrono::Days::new(released_after)),
                notes,
                version: 1,
                source: Source::Import,
                import_id: Some(1),
                import_line: None,
                on_hold: false,
            }
        },
    )
}

proptest! {
    /// SPEC §4: export, import into an empty database and export again gives the same bytes.
    #[test]
    fn export_import_export_gives_the_same_bytes(batches in prop::collection::vec(arb_batch(), 1..8)) {
        let first = export(&batches);
        // No field a spreadsheet reads runs as a formula.
        for record in csv::Reader::from_reader(first.as_slice()).into_records() {
            let record = record.expect("the export reads back as CSV");
            for field in &record {
                prop_assert!(!field.starts_with(['=', '+', '-', '@', '\t', '\r']), "{:?}", field);
            }
        }
        let imported = reimport(&first);
        prop_assert_eq!(imported.len(), batches.len());
        for (line, (original, back)) in (2..).zip(batches.iter().zip(&imported)) {
            let original = Batch { import_line: back.import_line, ..original.clone() };
            prop_assert_eq!(&original, back, "line {}", line);
        }
        let second = export(&imported);
        prop_assert_eq!(String::from_utf8_lossy(&first), String::from_utf8_lossy(&second));
    }

    /// Any decimal written the Spanish way (thousands dots, decimal comma), with or without
    /// an exponent, reads back as the same value.
    #[test]
    fn spanish_decimals_read_back_exactly(mantissa in any::<i64>(), scale in 0u32..12, shift in -6i32..6) {
        let value = Decimal::new(mantissa, scale);
        let plain = value.abs().to_string();
        let (whole, fraction) = plain.split_once('.').unwrap_or((&plain, ""));
        let mut grouped = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push('.');
            }
            grouped.push(c);
        }
        let sign = if value.is_sign_negative() && !value.is_zero() { "-" } else { "" };
        let spanish = if fraction.is_empty() {
            format!("{sign}{grouped}")
        } else {
            format!("{sign}{grouped},{fraction}")
        };
        prop_assert_eq!(values::parse_decimal(&spanish), Ok(Some(value.normalize())), "{}", spanish);
        // m × 10^shift written as (m / 10^shift) E shift.
        let scientific = format!("{}E{shift:+}", value.to_string().replace('.', ","));
        let expected = if shift >= 0 {
            value.checked_mul(Decimal::from(10i64.pow(shift.unsigned_abs())))
        } else {
            value.checked_div(Decimal::from(10i64.pow(shift.unsigned_abs())))
        };
        if let Some(expected) = expected.filter(|e| e.scale() <= 28) {
            prop_assert_eq!(values::parse_decimal(&scientific), Ok(Some(expected.normalize())), "{}", scientific);
        }
    }
}

#[test]
fn a_raw_reader_gives_back_the_records_as_written_with_their_lines() {
    let file = "lote;producto\r\nA-1;\"dos\r\nlíneas\"\r\nB-2;x\r\n";
    let (mut r, header) =
        HistoryReader::raw(file.as_bytes(), TextEncoding::Utf8).expect("any header");
    assert_eq!(header, ["lote", "producto"]);
    let first = r.next_raw().expect("a record").expect("readable");
    assert_eq!(
        first,
        (2, vec!["A-1".to_owned(), "dos\r\nlíneas".to_owned()])
    );
    let second = r.next_raw().expect("a record").expect("readable");
    assert_eq!(second.0, 4);
    assert!(r.next_raw().is_none());
}

#[test]
fn history_of_another_trial_than_the_assignments_is_a_warning() {
    // msc_quarantine: MSC-AD-ALO at SEV-UPRC, clinical trial, started 2021-05-04.
    let row = decoded(msc_quarantine());
    let mut trial = proposal("2020-01-01", None);
    trial.product_code = ProductCode::parse("MSC-AD-ALO").unwrap();
    trial.lab_code = LabCode::parse("SEV-UPRC").unwrap();
    trial.access_route = AccessRoute::ClinicalTrial;
    trial.authorisation_ref = Some("2019-001472-33".into());
    let assignment = accepted(3, trial.clone());
    let (errors, warnings) =
        network_issues(&row, Some(&msc_ad_alo()), Some(&sev_uprc()), &[assignment]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(warnings, [IssueCode::TrialMismatch]);
    // The row's own trial: no warning.
    trial.authorisation_ref = row.trial_id.as_ref().map(|t| t.as_str().to_owned());
    let (_, warnings) = network_issues(
        &row,
        Some(&msc_ad_alo()),
        Some(&sev_uprc()),
        &[accepted(3, trial)],
    );
    assert!(warnings.is_empty(), "{warnings:?}");
}
