//! Language, dates, numbers and the Europe/Madrid clock, for the pages.

use axum::http::HeaderMap;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc, Weekday};

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

    /// The text in this language.
    pub fn t<'a>(self, es: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Es => es,
            Lang::En => en,
        }
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

/// The last Sunday of a month (the EU summer-time changes fall on those of March and October).
fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .unwrap_or_default();
    let mut d = next - Duration::days(1);
    while d.weekday() != Weekday::Sun {
        d -= Duration::days(1);
    }
    d
}

/// Whether Madrid keeps summer time (CEST) at `t`: from 01:00 UTC on the last Sunday of
/// March to 01:00 UTC on the last Sunday of October.
fn summer(t: DateTime<Utc>) -> bool {
    let y = t.year();
    let at_one = |d: NaiveDate| d.and_hms_opt(1, 0, 0).unwrap_or_default().and_utc();
    at_one(last_sunday(y, 3)) <= t && t < at_one(last_sunday(y, 10))
}

/// Madrid's wall clock at `t`, and the zone's abbreviation.
pub fn madrid(t: DateTime<Utc>) -> (NaiveDateTime, &'static str) {
    if summer(t) {
        ((t + Duration::hours(2)).naive_utc(), "CEST")
    } else {
        ((t + Duration::hours(1)).naive_utc(), "CET")
    }
}

/// The instant of a Madrid wall-clock time (as a `datetime-local` input gives it). In the
/// hour repeated in October the earlier (summer) instant is taken.
pub fn from_madrid(local: NaiveDateTime) -> DateTime<Utc> {
    let as_summer = (local - Duration::hours(2)).and_utc();
    if summer(as_summer) {
        as_summer
    } else {
        (local - Duration::hours(1)).and_utc()
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
