//! Any text through every code and value parser a user's input meets: DIN, Single European
//! Code, donor/patient pseudonyms, batch numbers, trial ids, decimals and dates (API and
//! historical forms). A parser may refuse; it may not panic, and what it accepts must parse
//! again to the same value from its canonical form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use traza_domain::codes::{BatchNumber, Din, DonorCode, LabCode, ProductCode, Sec, TrialId};
use traza_domain::history::values;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = Din::parse(s) {
        assert_eq!(Din::parse(d.as_str()).map(|x| x.as_str().to_owned()), Ok(d.as_str().to_owned()));
    }
    if let Ok(sec) = Sec::parse(s) {
        assert!(Sec::parse(sec.as_str()).is_ok());
    }
    if let Ok(c) = DonorCode::parse(s) {
        assert_eq!(DonorCode::parse(c.as_str()).as_ref().map(DonorCode::as_str), Ok(c.as_str()));
    }
    let _ = BatchNumber::parse(s);
    let _ = LabCode::parse(s);
    let _ = ProductCode::parse(s);
    if let Ok(t) = TrialId::parse(s) {
        let _ = (t.kind(), t.year());
    }
    if let Ok(Some(d)) = values::parse_decimal(s) {
        // The canonical form (decimal point) reads back to the same value.
        assert_eq!(values::parse_decimal(&d.to_string()), Ok(Some(d)));
    }
    let _ = traza_domain::validation::decimal(s);
    let _ = values::parse_date(s);
    let _ = values::parse_origin(s);
    let _ = values::parse_status(s);
    let _ = values::parse_access_route(s);
    let _ = values::parse_doses(s);
});
