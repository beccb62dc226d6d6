//! What the materials and equipment pages say alike: a form as the browser sent it, a
//! quantity with its unit, a date that is near or past in words, a refusal with each field
//! named as its form names it.

use chrono::NaiveDate;
use maud::{Markup, html};
use rust_decimal::Decimal;
use serde_json::json;
use traza_domain::materials::{LotStatus, MaterialLot};
use traza_store::ErrorCode;

use crate::error::ApiError;
use crate::ui::fmt::Lang;
use crate::ui::i18n;

/// How many days ahead a lot's expiry is said as coming (issue 15: "one expiring within 30
/// days too"), as calibrations are (`traza_domain::equipment::CALIBRATION_NOTICE_DAYS`).
pub const EXPIRY_NOTICE_DAYS: i64 = 30;

/// The fields of a form as the browser sent them.
pub struct Sent(pub Vec<(String, String)>);

impl Sent {
    /// The first value of field `name`, or `""`.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// The laboratories' day (Europe/Madrid), the day the store judges lots and calibrations on.
pub fn lab_today() -> NaiveDate {
    traza_domain::clock::lab_date(chrono::Utc::now())
}

/// A message with arguments in the page's language (its key when the catalogue cannot say it:
/// a test keeps every message formatting).
pub fn say(l: Lang, key: &str, args: &[(&str, String)]) -> String {
    i18n::format(l, key, args).unwrap_or_else(|| key.to_owned())
}

/// A quantity and its unit, with a decimal comma in Spanish (`2,5 mL`).
pub fn quantity_of(l: Lang, q: Decimal, unit: &str) -> String {
    format!("{} {unit}", l.number(&q.normalize().to_string()))
}

/// A lot's status as a badge, in words.
pub fn lot_status_badge(l: Lang, status: LotStatus) -> Markup {
    let word =
        i18n::lookup(l, &format!("lot-status-{}", status.as_str())).unwrap_or(status.as_str());
    html! { span class={ "badge " (status.as_str()) } { (word) } }
}

/// "In N days" in words, from message family `prefix` (`<prefix>-today`, `<prefix>-tomorrow`,
/// `<prefix>-in-days`), for a `day` not before `today`.
pub fn in_days(l: Lang, prefix: &str, today: NaiveDate, day: NaiveDate) -> String {
    match (day - today).num_days() {
        0 => say(l, &format!("{prefix}-today"), &[]),
        1 => say(l, &format!("{prefix}-tomorrow"), &[]),
        n => say(l, &format!("{prefix}-in-days"), &[("days", n.to_string())]),
    }
}

/// Said beside a lot's expiry date: that it has expired (the domain's reading: usable through
/// its expiry date), or that it expires within [`EXPIRY_NOTICE_DAYS`].
pub fn expiry_note(l: Lang, lot: &MaterialLot, today: NaiveDate) -> Option<Markup> {
    if lot.expired_on(today) {
        let text = say(l, "lots-expired-on", &[("date", l.date(lot.expiry_date))]);
        return Some(html! { span.badge.expired { (text) } });
    }
    let days = (lot.expiry_date - today).num_days();
    (days <= EXPIRY_NOTICE_DAYS).then(|| {
        let text = in_days(l, "lots-expires", today, lot.expiry_date);
        html! { span.badge.soon { (text) } }
    })
}

/// A store's `duplicate` refusal, which names no field, said as the field this form creates
/// being taken (`message_key`).
pub fn duplicate_as_field(
    l: Lang,
    e: ApiError,
    field: &str,
    message_key: &'static str,
) -> ApiError {
    if e.code != ErrorCode::Duplicate {
        return e;
    }
    let message = e.message.clone();
    ApiError::new(e.status, e.code, message)
        .with_details(vec![json!({"field": field, "message": l.t(message_key)})])
}
