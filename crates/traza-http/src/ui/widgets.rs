//! What several pages show or ask alike: status badges and names, QC tables, the page frame,
//! form-field parsing. Used by the feature modules (`pages`, `vigilance`, `holds`, `account`);
//! uses none of them.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use maud::{Markup, html};
use serde::Deserialize;
use traza_domain::batch::QcResult;
use traza_domain::spec::{SpecTest, normalise_word};
use traza_domain::vocab::{
    AccessRoute, BatchStatus, Origin, QcOutcome, SignatureMeaning, TestKind,
};

use super::fmt::Lang;
use super::{Session, page};
use crate::error::ApiError;

pub(super) fn status_name(l: Lang, s: BatchStatus) -> &'static str {
    match s {
        BatchStatus::InProduction => l.t("in-production"),
        BatchStatus::Quarantine => l.t("quarantine"),
        BatchStatus::Released => l.t("released"),
        BatchStatus::Rejected => l.t("rejected"),
        BatchStatus::Administered => l.t("administered"),
    }
}

pub(super) fn status_badge(l: Lang, s: BatchStatus) -> Markup {
    html! { span class={ "badge " (s.as_str()) } { (status_name(l, s)) } }
}

/// Today as the server's rules count it (the store judges expiry and dates on the UTC day),
/// so that a page never offers a date the server would refuse.
pub(super) fn rules_today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// A batch's status, and "expired" beside it when a batch that could still be certified or
/// administered is past its expiry date: it can be neither.
pub(super) fn batch_status(l: Lang, b: &traza_domain::batch::Batch) -> Markup {
    let expired = matches!(b.status, BatchStatus::Released | BatchStatus::Quarantine)
        && b.expired_on(rules_today());
    html! {
        (status_badge(l, b.status))
        @if expired { " " span.badge.expired { (l.t("expired-badge")) } }
    }
}

pub(super) fn route_name(l: Lang, r: AccessRoute) -> &'static str {
    match r {
        AccessRoute::ClinicalTrial => l.t("clinical-trial"),
        AccessRoute::CompassionateUse => l.t("compassionate-use"),
        AccessRoute::HospitalExemption => l.t("hospital-exemption"),
    }
}

pub(super) fn origin_name(l: Lang, o: Origin) -> &'static str {
    match o {
        Origin::Autologous => l.t("autologous"),
        Origin::Allogeneic => l.t("allogeneic"),
    }
}

pub(super) fn outcome(l: Lang, o: QcOutcome) -> Markup {
    match o {
        QcOutcome::Pass => html! { span.pass { "✔ " (l.t("pass")) } },
        QcOutcome::Fail => html! { span.fail { "✘ " (l.t("fail")) } },
    }
}

pub(super) fn html_page(s: &Session, title: &str, path: &str, body: Markup) -> Response {
    Html(page(Some(s), s.lang, title, path, body).into_string()).into_response()
}

pub(super) fn html_page_status(
    s: &Session,
    status: StatusCode,
    title: &str,
    path: &str,
    body: Markup,
) -> Response {
    (
        status,
        Html(page(Some(s), s.lang, title, path, body).into_string()),
    )
        .into_response()
}

pub(super) fn empty(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A decimal typed the Spanish way (`92,5`) as the API takes it (`92.5`).
pub(super) fn decimal_input(s: &str) -> String {
    let t = s.trim();
    if t.contains(',') && !t.contains('.') {
        t.replace(',', ".")
    } else {
        t.to_owned()
    }
}

/// The `?hecho=…` of the page a form redirects to: what was just done.
#[derive(Deserialize, Default)]
pub(super) struct Done {
    pub(super) hecho: Option<String>,
}

/// A categorical result's word (`no_growth`) in the page's language (`sin crecimiento`), from
/// the catalogue's `value-*` messages; a word it does not know shows as it is.
pub(super) fn value_label(l: Lang, word: &str) -> String {
    super::i18n::lookup(l, &format!("value-{word}"))
        .map_or_else(|| word.replace('_', " "), str::to_owned)
}

/// The word a categorical result was typed or chosen as, in the page's language or as
/// stored: the specification's own word when it is the label of one of the test's values.
pub(super) fn value_from_label(l: Lang, test: &SpecTest, typed: &str) -> String {
    let typed_word = normalise_word(typed);
    test.values
        .iter()
        .find(|v| normalise_word(&value_label(l, v)) == typed_word)
        .cloned()
        .unwrap_or_else(|| typed.to_owned())
}

/// The specification's tests beside the batch's current results.
pub(super) fn qc_table(l: Lang, tests: &[SpecTest], results: &[QcResult]) -> Markup {
    let current = traza_domain::batch::current_results(results);
    let limits = |t: &SpecTest| -> String {
        match t.kind {
            TestKind::Categorical => value_label(l, t.expected.as_deref().unwrap_or_default()),
            TestKind::Numeric => match (&t.min, &t.max) {
                (Some(a), Some(b)) => format!(
                    "{} – {}",
                    l.number(&a.to_string()),
                    l.number(&b.to_string())
                ),
                (Some(a), None) => format!("≥ {}", l.number(&a.to_string())),
                (None, Some(b)) => format!("≤ {}", l.number(&b.to_string())),
                (None, None) => String::new(),
            },
        }
    };
    html! {
        div.scroll { table {
            thead { tr {
                th { (l.t("test")) } th { (l.t("specification")) } th { (l.t("unit")) }
                th { (l.t("result")) } th { (l.t("outcome")) } th { (l.t("recorded-by")) }
            } }
            tbody {
                @for t in tests {
                    @let r = current.iter().find(|r| r.test == t.test);
                    tr {
                        td { (t.test) @if t.required { " *" } }
                        td { (limits(t)) }
                        td { (t.unit) }
                        td { @if let Some(r) = r { @if t.kind == TestKind::Categorical { (value_label(l, &r.value)) } @else { (l.number(&r.value)) } " " (r.unit) @if r.supersedes.is_some() { " " span.badge { (l.t("retest")) } } } @else { span.muted { (l.t("pending")) } } }
                        td { @if let Some(r) = r { (outcome(l, r.outcome)) } }
                        td { @if let Some(r) = r { (r.recorded_by) " (#" (r.id) ")" } }
                    }
                }
            }
        } }
        p.hint { "* " (l.t("required-for-release")) }
    }
}

pub(super) fn meaning_text(l: Lang, m: SignatureMeaning) -> &'static str {
    match m {
        SignatureMeaning::QpCertified => l.t("i-certify-as-qualified-person-that"),
        SignatureMeaning::Rejected => l.t("i-reject-this-batch"),
        SignatureMeaning::HistoricalReleaseConfirmed => l.t("i-confirm-as-qa-of-the"),
        SignatureMeaning::MaterialReleased => l.t("meaning-material-released"),
        SignatureMeaning::MaterialRejected => l.t("meaning-material-rejected"),
        SignatureMeaning::MbrApproved => l.t("meaning-mbr-approved"),
        SignatureMeaning::Performed => l.t("meaning-performed"),
        SignatureMeaning::Checked => l.t("meaning-checked"),
        SignatureMeaning::ExceptionReviewed => l.t("meaning-exception-reviewed"),
    }
}

pub(super) fn required(
    l: Lang,
    field: &'static str,
    v: &Option<String>,
) -> Result<String, ApiError> {
    empty(v.clone()).ok_or_else(|| ApiError::validation(field, l.t("is-required-2")))
}

pub(super) fn date_field(
    l: Lang,
    field: &'static str,
    v: &Option<String>,
) -> Result<NaiveDate, ApiError> {
    required(l, field, v)?
        .parse()
        .map_err(|_| ApiError::validation(field, l.t("is-not-a-date")))
}

/// A vocabulary word in the page's language, from the catalogue's `<prefix>-<code>` messages
/// (`exception-kind-late-entry`); the code itself when the catalogue lacks it.
pub(super) fn vocab_word(l: Lang, prefix: &str, code: &str) -> String {
    let key = format!("{prefix}-{}", code.replace('_', "-"));
    super::i18n::lookup(l, &key).map_or_else(|| code.to_owned(), str::to_owned)
}

/// A refused form as it was sent, and which form it was (its name on the page), so that the
/// page comes back with what was typed: never its CSRF token, its version or a password.
#[derive(Default)]
pub(super) struct Typed {
    form: String,
    fields: Vec<(String, String)>,
}

impl Typed {
    pub(super) fn of(form: &str, fields: &[(String, String)]) -> Typed {
        Typed {
            form: form.to_owned(),
            fields: fields
                .iter()
                .filter(|(name, _)| !matches!(name.as_str(), "csrf" | "version" | "password"))
                .cloned()
                .collect(),
        }
    }

    /// Whether form `form` is the one that was sent.
    pub(super) fn is(&self, form: &str) -> bool {
        self.form == form
    }

    /// The value typed into field `name` of form `form`, if that form was the one sent.
    pub(super) fn get(&self, form: &str, name: &str) -> Option<&str> {
        (self.form == form)
            .then(|| self.fields.iter().find(|(n, _)| n == name))
            .flatten()
            .map(|(_, v)| v.as_str())
    }

    /// Every value typed into field `name` of form `form` (a name sent more than once).
    pub(super) fn all(&self, form: &str, name: &str) -> Vec<&str> {
        let sent = self.form == form;
        self.fields
            .iter()
            .filter(|(n, _)| sent && n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}
