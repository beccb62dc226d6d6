//! The laboratories' clock: Europe/Madrid. Rules that speak of "today" in the network's
//! sense (a master record in effect from a date) read the date there, not in UTC.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// The network's time zone.
pub const LAB_ZONE: Tz = chrono_tz::Europe::Madrid;

/// The date on the laboratories' clock at `at`.
pub fn lab_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&LAB_ZONE).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn madrid_s_day_starts_before_utc_s() {
        let late = Utc
            .with_ymd_and_hms(2026, 12, 2, 23, 30, 0)
            .single()
            .expect("a time");
        assert_eq!(lab_date(late).to_string(), "2026-12-03");
        let summer = Utc
            .with_ymd_and_hms(2026, 7, 1, 21, 59, 0)
            .single()
            .expect("a time");
        assert_eq!(lab_date(summer).to_string(), "2026-07-01");
    }
}
