//! What the store's refusals and audit events mean, in the user's language: the error box
//! a page shows, the titles of error codes, the lines of broken rules and the labels of
//! fields, and the sentence for an audit event.

use super::*;

/// What an error of the store means, in the user's language: the error's code, then each
/// detail (a rule or a field).
pub(crate) fn error_box(l: Lang, e: &ApiError) -> Markup {
    html! {
        div.notice.error role="alert" {
            p { strong { (error_title(l, e.code)) } }
            @if l == Lang::En { p { (e.message) } }
            @if !e.details.is_empty() {
                ul {
                    @for d in &e.details { li { (detail_text(l, d)) } }
                }
            }
        }
    }
}

/// Every code has its title in both languages: the match is exhaustive, so a code the
/// server can send and the pages do not translate does not compile.
pub(crate) fn error_title(l: Lang, code: ErrorCode) -> &'static str {
    use ErrorCode as C;
    let key = match code {
        C::BadRequest => "error-the-request-is-not-valid",
        C::Unauthenticated => "error-sign-in-to-continue",
        C::Forbidden => "error-your-role-does-not-allow-this",
        C::NotFound => "error-not-found",
        C::MethodNotAllowed => "error-that-action-does-not-exist-at",
        C::VersionMismatch => "error-the-batch-changed-since-you-opened",
        C::PreconditionRequired => "error-the-version-of-the-batch-you",
        C::PayloadTooLarge => "error-what-was-sent-is-too-large",
        C::UnsupportedMediaType => "error-what-was-sent-is-not-in",
        C::ValidationFailed => "error-check-the-form-s-values",
        C::ForeignBatchNumber => "error-that-batch-number-has-the-form",
        C::InvalidSignature => "error-the-signature-password-is-wrong",
        C::AccountLocked => "error-the-account-is-locked-after-several",
        C::TooManyAttempts => "error-too-many-failed-attempts-wait-a",
        C::Duplicate => "error-it-exists-already",
        C::InvalidTransition => "error-the-batch-does-not-allow-that",
        C::ReleaseBlocked => "error-the-batch-cannot-be-certified-these",
        C::ChainOfIdentityMismatch => "error-chain-of-identity-broken-the-patient",
        C::DosesExhausted => "error-no-doses-of-this-batch-are",
        C::BatchExpired => "error-the-batch-has-expired",
        C::BatchOnHold => "error-the-batch-is-on-hold-it",
        C::HistoryNotConfirmed => "error-unconfirmed-historical-batch-qa-must-confirm",
        C::FourEyes => "error-four-eyes-someone-else-must-sign",
        C::ResultExists => "error-the-test-already-has-a-result",
        C::RecordLocked => "error-the-batch-record-is-locked",
        C::CapacityExceeded => "error-the-laboratory-has-reached-its-monthly",
        C::LabNotEligible => "error-the-laboratory-cannot-take-this-assignment",
        C::LabNotActive => "error-the-laboratory-cannot-manufacture-suspended-or",
        C::ProductNotActive => "error-the-product-is-withdrawn",
        C::NoAssignment => "error-no-assignment-of-the-product-to",
        C::TrialMismatch => "error-the-clinical-trial-is-not-that",
        C::ReactionClosed => "error-the-reaction-report-is-already-closed",
        C::ImportRejected => "error-import-refused-nothing-was-written",
        C::MaterialNotUsable => "error-material-not-usable",
        C::EquipmentNotUsable => "error-equipment-not-usable",
        C::RoomNotSuitable => "error-room-not-suitable",
        C::Internal => "error-internal-error-it-has-been-logged",
        C::AuditKeyUnavailable => "error-records-cannot-be-written-now-the",
        C::ShuttingDown => "error-the-server-is-stopping-try-again",
        C::Timeout => "error-the-operation-took-too-long-and",
    };
    l.t(key)
}

/// An audit event as a page shows it: the action in words (the catalogue's `action-*`
/// messages; an action without one shows as its code) and what changed, `before → after`,
/// field by field, or the main fields of a record added.
pub(crate) fn audit_what(l: Lang, e: &traza_store::StoredAuditEvent) -> Markup {
    let key = format!("action-{}", e.action.replace(['.', '_'], "-"));
    let action = i18n::lookup(l, &key).map_or_else(|| e.action.clone(), str::to_owned);
    // A status or an outcome in words; other values as they are.
    let shown = |k: &str, v: &Value| match v {
        Value::String(s) => match k {
            "status" => s
                .parse::<traza_domain::vocab::BatchStatus>()
                .map_or_else(|_| s.clone(), |st| widgets::status_name(l, st).to_owned()),
            "outcome" => match s.as_str() {
                "pass" => l.t("pass").to_owned(),
                "fail" => l.t("fail").to_owned(),
                _ => s.clone(),
            },
            _ => s.clone(),
        },
        Value::Null => "—".to_owned(),
        other => other.to_string(),
    };
    // Bookkeeping that moves with every change says nothing to a reader.
    let quiet = |k: &str| matches!(k, "version" | "updated_at" | "on_hold" | "password_digest");
    let mut lines: Vec<String> = Vec::new();
    match (&e.before, &e.after) {
        (Some(Value::Object(before)), Some(Value::Object(after))) => {
            for (k, new) in after {
                let old = before.get(k).unwrap_or(&Value::Null);
                if !quiet(k) && old != new && !new.is_object() && !old.is_object() {
                    lines.push(format!(
                        "{}: {} → {}",
                        field_label(l, k),
                        shown(k, old),
                        shown(k, new)
                    ));
                }
            }
        }
        (None, Some(Value::Object(after))) => {
            for k in [
                "test",
                "value",
                "outcome",
                "step",
                "description",
                "severity",
                "resolution",
            ] {
                if let Some(v) = after.get(k) {
                    lines.push(format!("{}: {}", field_label(l, k), shown(k, v)));
                }
            }
        }
        _ => {}
    }
    html! {
        (action)
        @if !lines.is_empty() { ul.changes { @for line in lines.iter().take(8) { li { (line) } } } }
    }
}

/// What a rule is about, as a page shows it: a date in the page's form, an ATMP class or an
/// access route in words.
fn subject_text(l: Lang, rule: &str, subject: &str) -> String {
    use traza_domain::vocab::{AccessRoute, AtmpClass};
    let said = match rule {
        "expired" | "gmp_certificate_expired" => {
            subject.parse::<chrono::NaiveDate>().ok().map(|d| l.date(d))
        }
        "missing_specialisation" => subject
            .parse::<AtmpClass>()
            .ok()
            .map(|c| registry::class_name(l, c).to_owned()),
        "route_not_offered" => subject
            .parse::<AccessRoute>()
            .ok()
            .map(|r| widgets::route_name(l, r).to_owned()),
        _ => None,
    };
    said.unwrap_or_else(|| subject.to_owned())
}

/// An unmet release rule in the page's language, with what it is about (the test, the
/// deviation, the hold, the date).
pub(crate) fn rule_line(l: Lang, r: &traza_store::RuleDetail) -> String {
    let text = rule_text(l, &r.rule).unwrap_or(&r.message);
    match &r.subject {
        Some(subject) => format!("{text}: {}", subject_text(l, &r.rule, subject)),
        None => text.to_owned(),
    }
}

fn rule_text(l: Lang, rule: &str) -> Option<&'static str> {
    Some(match rule {
        "not_in_quarantine" => l.t("the-batch-is-not-in-quarantine"),
        "four_eyes" => l.t("four-eyes-the-certifier-must-not"),
        "missing_required_test" => l.t("a-required-test-of-the-specification"),
        "failing_result" => l.t("a-result-is-out-of-specification"),
        "open_deviation" => l.t("a-deviation-is-open"),
        "expired" => l.t("the-batch-has-expired"),
        "on_hold" => l.t("the-batch-is-on-hold"),
        "chain_of_identity" => l.t("the-chain-of-identity-does-not"),
        "lab_suspended" => l.t("the-laboratory-is-suspended"),
        "lab_training_only" => l.t("the-laboratory-is-for-training-only"),
        "missing_specialisation" => l.t("the-laboratory-lacks-the-product-s"),
        "gmp_certificate_expired" => l.t("the-laboratory-s-gmp-certificate-has"),
        "product_withdrawn" => l.t("the-product-is-withdrawn"),
        "missing_trial_id" => l.t("a-clinical-trial-assignment-needs-the"),
        "route_not_offered" => l.t("the-product-is-not-offered-by"),
        "invalid_period" => l.t("the-period-ends-before-it-starts"),
        "overlapping_assignment" => l.t("it-overlaps-another-assignment-of-the"),
        "batch_record_incomplete" => l.t("rule-batch-record-incomplete"),
        "unresolved_exception" => l.t("rule-unresolved-exception"),
        _ => return None,
    })
}

/// The label a form shows for a field the store names.
pub(crate) fn field_label(l: Lang, field: &str) -> &str {
    let key = match field {
        "donor_code" => "field-donor-code",
        "patient_code" => "patient-code",
        "trial_id" => "field-trial-id",
        "collection_date" => "collection-date",
        "manufacturing_start" => "manufacturing-start",
        "manufacturing_end" => "manufacturing-end",
        "expiry_date" => "expiry",
        "doses" => "doses",
        "volume_ml" => "volume",
        "cell_count" => "field-cell-count",
        "viability_percent" => "field-viability",
        "notes" => "notes",
        "test" => "test",
        "value" => "value",
        "unit" => "unit",
        "supersedes" => "field-result-retested",
        "reason" => "reason",
        "description" => "description",
        "severity" => "severity",
        "resolution" => "resolution",
        "administered_on" => "administered-on",
        "hospital" => "hospital",
        "password" => "password",
        "new_password" => "new-password",
        "username" => "username",
        "full_name" => "users-full-name",
        "role" => "users-role",
        "labs" => "laboratories",
        "indications" => "net-indications",
        "keywords" => "net-keywords",
        "product_code" => "product",
        "lab_code" => "laboratory",
        "access_route" => "access-route",
        "valid_from" => "from",
        "valid_until" | "until" => "until",
        "assignment" => "field-assigned-product",
        "performed_at" => "field-performed",
        "step" => "step",
        "reported_on" => "reported-on",
        "imputability" => "imputability",
        "conclusion" => "conclusion",
        "confirmar" => "field-confirmation",
        "outcome" => "outcome",
        "status" => "status",
        "supplier" => "lots-supplier",
        "supplier_lot" => "lots-supplier-lot",
        "received_on" => "lots-received-on",
        "quantity_received" => "lots-quantity-received",
        "material_code" | "material" => "lots-material",
        "lab" => "laboratory",
        "code" => "code",
        "name" => "name",
        "id" => "equipment-id",
        "kind" => "lots-kind",
        "class" => "equipment-class",
        "calibration_due" => "equipment-calibration-due",
        "grade" => "equipment-grade",
        "room_id" => "guided-room",
        "equipment_ids" => "guided-equipment",
        "quantity" => "guided-quantity",
        _ => return field,
    };
    l.t(key)
}

fn detail_text(l: Lang, d: &Value) -> String {
    let message = d["message"].as_str().unwrap_or("");
    if let Some(rule) = d["rule"].as_str() {
        return match (rule_text(l, rule), l) {
            (Some(t), Lang::Es) => match d["subject"].as_str() {
                Some(subject) => format!("{t}: {}", subject_text(l, rule, subject)),
                None => format!("{t} ({message})"),
            },
            (Some(_), Lang::En) | (None, _) => message.to_owned(),
        };
    }
    if let Some(field) = d["field"].as_str() {
        let said =
            serde_json::from_value::<traza_domain::validation::Problem>(d["problem"].clone())
                .ok()
                .and_then(|p| problems::problem_text(l, &p));
        return format!(
            "{}: {}",
            field_label(l, field),
            said.as_deref().unwrap_or(message)
        );
    }
    if let Some(version) = d["current_version"].as_i64() {
        return format!("{} {version}.", l.t("conflict-current-version"));
    }
    if let Some(reason) = d["reason"].as_str() {
        return format!("{reason}: {message}");
    }
    d.to_string()
}
