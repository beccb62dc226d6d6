//! Language, dates, numbers and the Europe/Madrid clock, for the pages.

use axum::http::HeaderMap;
use chrono::offset::LocalResult;
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// The language of a page: Spanish unless the user chose English or the browser prefers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Es,
    En,
}

pub const LANG_COOKIE: &str = "traza_idioma";

impl Lang {
    /// The language cookie, then `Accept-Language` (its first language that is one of ours).
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        if let Some(chosen) = super::cookie(headers, LANG_COOKIE) {
            return if chosen == "en" { Lang::En } else { Lang::Es };
        }
        let accept = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        for tag in accept.split(',') {
            let tag = tag
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if tag.starts_with("es") {
                return Lang::Es;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::Es
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Es => "es",
            Lang::En => "en",
        }
    }

    /// The catalogue's text of message `key` in this language (`locales/*.ftl`). A key
    /// missing from the catalogue shows as itself (a test keeps every key used in both).
    pub fn t(self, key: &'static str) -> &'static str {
        super::i18n::text(self, key)
    }

    /// `dd/mm/yyyy` in Spanish, ISO in English.
    pub fn date(self, d: NaiveDate) -> String {
        match self {
            Lang::Es => d.format("%d/%m/%Y").to_string(),
            Lang::En => d.format("%Y-%m-%d").to_string(),
        }
    }

    pub fn opt_date(self, d: Option<NaiveDate>) -> String {
        d.map(|d| self.date(d)).unwrap_or_default()
    }

    /// An instant on the laboratories' clock (Europe/Madrid), with the zone shown.
    pub fn instant(self, t: DateTime<Utc>) -> String {
        let (local, zone) = madrid(t);
        match self {
            Lang::Es => format!("{} {zone}", local.format("%d/%m/%Y %H:%M")),
            Lang::En => format!("{} {zone}", local.format("%Y-%m-%d %H:%M")),
        }
    }

    /// A decimal as text: a decimal comma in Spanish.
    pub fn number(self, s: &str) -> String {
        match self {
            Lang::Es => s.replace('.', ","),
            Lang::En => s.to_owned(),
        }
    }
}

/// The laboratories' clock, from the tz database (`chrono-tz`).
const LAB_ZONE: Tz = chrono_tz::Europe::Madrid;

/// Madrid's wall clock at `t`, and the zone's abbreviation (`CET` or `CEST`).
pub fn madrid(t: DateTime<Utc>) -> (NaiveDateTime, String) {
    let local = t.with_timezone(&LAB_ZONE);
    (local.naive_local(), local.format("%Z").to_string())
}

/// The instant of a Madrid wall-clock time (as a `datetime-local` input gives it). In the
/// hour repeated in October the earlier (summer) instant is taken; a time in the hour skipped
/// in March is read on the clock it was written on (winter time).
pub fn from_madrid(local: NaiveDateTime) -> DateTime<Utc> {
    match LAB_ZONE.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.to_utc(),
        LocalResult::None => {
            // The offset in force before the skipped hour: three hours earlier is before any
            // transition of this zone's (at most one hour skipped, offsets of one or two).
            let winter = LAB_ZONE.offset_from_utc_datetime(&(local - Duration::hours(3)));
            (local - Duration::seconds(i64::from(winter.fix().local_minus_utc()))).and_utc()
        }
    }
}

/// A `datetime-local` value (`2026-12-01T10:30`, seconds optional).
pub fn parse_local(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("an instant")
            .to_utc()
    }

    #[test]
    fn madrid_changes_clock_on_the_last_sundays_of_march_and_october() {
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(madrid(utc("2026-03-29T00:59:00Z")).1, "CET");
        assert_eq!(madrid(utc("2026-03-29T01:00:00Z")).1, "CEST");
        assert_eq!(madrid(utc("2026-10-25T00:59:00Z")).1, "CEST");
        assert_eq!(madrid(utc("2026-10-25T01:00:00Z")).1, "CET");
        // The tz database's history: Spain kept summer time in 1990 from 25 March.
        assert_eq!(madrid(utc("1990-03-25T01:00:00Z")).1, "CEST");
        assert_eq!(
            Lang::Es.instant(utc("2026-07-01T08:30:00Z")),
            "01/07/2026 10:30 CEST"
        );
        assert_eq!(
            Lang::En.instant(utc("2026-12-01T08:30:00Z")),
            "2026-12-01 09:30 CET"
        );
    }

    #[test]
    fn wall_clock_times_go_back_to_the_same_instant() {
        for s in [
            "2026-07-01T08:30:00Z",
            "2026-12-01T23:15:00Z",
            "2026-03-29T02:00:00Z",
        ] {
            let t = utc(s);
            assert_eq!(from_madrid(madrid(t).0), t, "{s}");
        }
        let local = parse_local("2026-12-01T10:30").expect("a local time");
        assert_eq!(from_madrid(local), utc("2026-12-01T09:30:00Z"));
        // The hour repeated on 25 October 2026: the earlier, summer-time instant.
        let repeated = parse_local("2026-10-25T02:30").expect("a local time");
        assert_eq!(from_madrid(repeated), utc("2026-10-25T00:30:00Z"));
        // The hour skipped on 29 March 2026: read on winter time, as written.
        let skipped = parse_local("2026-03-29T02:30").expect("a local time");
        assert_eq!(from_madrid(skipped), utc("2026-03-29T01:30:00Z"));
    }

    #[test]
    fn spanish_dates_and_numbers() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 9).expect("a date");
        assert_eq!(Lang::Es.date(d), "09/03/2026");
        assert_eq!(Lang::En.date(d), "2026-03-09");
        assert_eq!(Lang::Es.number("92.5"), "92,5");
        assert_eq!(Lang::En.number("92.5"), "92.5");
    }

    #[test]
    fn the_language_comes_from_the_cookie_then_the_browser() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::from_headers(&h), Lang::Es);
        h.insert("accept-language", "en-GB,en;q=0.9".parse().expect("header"));
        assert_eq!(Lang::from_headers(&h), Lang::En);
        h.insert("cookie", "a=b; traza_idioma=es".parse().expect("header"));
        assert_eq!(Lang::from_headers(&h), Lang::Es);
    }
}
