//! Any bytes, read as a historical batch file in both encodings: the reader must answer
//! with rows or errors, never panic, and its line numbers must never go backwards.
#![no_main]

use libfuzzer_sys::fuzz_target;
use traza_domain::history::{HistoryReader, TextEncoding, detect_encoding};

fuzz_target!(|data: &[u8]| {
    let _ = detect_encoding(data);
    for encoding in [TextEncoding::Utf8, TextEncoding::Windows1252] {
        if let Ok(reader) = HistoryReader::new(data, encoding) {
            let mut last = 1;
            for row in reader {
                assert!(row.line > last, "line {} after line {last}", row.line);
                last = row.line;
            }
        }
        if let Ok((mut raw, _)) = HistoryReader::raw(data, encoding) {
            while let Some(Ok(_)) = raw.next_raw() {}
        }
    }
});
