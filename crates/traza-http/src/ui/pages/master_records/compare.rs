//! The comparison of two versions of one product's master record at one laboratory
//! (`/registros-maestros/comparar?a={id}&b={id}`): the steps added and removed, and for each
//! step in both, every field that changed (old → new) and its parameters, materials and
//! equipment added, removed or changed. The difference is [`compare`], a pure function.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use traza_domain::mbr::{MbrMaterial, MbrParameter, MbrStep};
use traza_domain::vocab::RoomGrade;
use traza_store::MbrView;

use super::version::{limits, step_detail, yes_no};
use super::{load, status_badge, version_name, version_path};
use crate::AppState;
use crate::ui::Session;
use crate::ui::fmt::Lang;
use crate::ui::widgets::{html_page_status, value_label};

/// A field of a step present in both versions that changed: old, then new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum FieldChange {
    Title(String, String),
    Instructions(String, String),
    RoomGrade(Option<RoomGrade>, Option<RoomGrade>),
    Verification(bool, bool),
    /// Its place among the steps both versions have (1 the first).
    Order(usize, usize),
}

/// A parameter, material or equipment class of a step: added, removed, or changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ItemChange<'a, T> {
    Added(&'a T),
    Removed(&'a T),
    Changed(&'a T, &'a T),
}

/// What changed in a step both versions have (by its code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StepChange<'a> {
    pub(super) code: &'a str,
    pub(super) title: &'a str,
    pub(super) fields: Vec<FieldChange>,
    pub(super) parameters: Vec<ItemChange<'a, MbrParameter>>,
    pub(super) materials: Vec<ItemChange<'a, MbrMaterial>>,
    pub(super) equipment_added: Vec<&'a str>,
    pub(super) equipment_removed: Vec<&'a str>,
}

impl StepChange<'_> {
    fn is_empty(&self) -> bool {
        self.fields.is_empty()
            && self.parameters.is_empty()
            && self.materials.is_empty()
            && self.equipment_added.is_empty()
            && self.equipment_removed.is_empty()
    }
}

/// The difference between two step lists.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Comparison<'a> {
    pub(super) added: Vec<&'a MbrStep>,
    pub(super) removed: Vec<&'a MbrStep>,
    pub(super) changed: Vec<StepChange<'a>>,
}

impl Comparison<'_> {
    pub(super) fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// What changed from `old` to `new`. Steps are the same step when their codes are; parameters
/// when their names are; materials by their code, the n-th of a code with the n-th; equipment
/// classes by their word, as many times as each is named.
pub(super) fn compare<'a>(old: &'a [MbrStep], new: &'a [MbrStep]) -> Comparison<'a> {
    let find = |steps: &'a [MbrStep], code: &str| steps.iter().find(|s| s.code == code);
    let added = new
        .iter()
        .filter(|s| find(old, &s.code).is_none())
        .collect();
    let removed = old
        .iter()
        .filter(|s| find(new, &s.code).is_none())
        .collect();
    // Order among the steps of both, so that a step added before another does not move it.
    let common_old: Vec<&str> = old
        .iter()
        .filter(|s| find(new, &s.code).is_some())
        .map(|s| s.code.as_str())
        .collect();
    let common_new: Vec<&str> = new
        .iter()
        .filter(|s| find(old, &s.code).is_some())
        .map(|s| s.code.as_str())
        .collect();
    let mut changed = Vec::new();
    for (pos_new, code) in common_new.iter().enumerate() {
        let (Some(a), Some(b)) = (find(old, code), find(new, code)) else {
            continue;
        };
        let mut fields = Vec::new();
        if a.title != b.title {
            fields.push(FieldChange::Title(a.title.clone(), b.title.clone()));
        }
        if a.instructions != b.instructions {
            fields.push(FieldChange::Instructions(
                a.instructions.clone(),
                b.instructions.clone(),
            ));
        }
        if a.room_grade != b.room_grade {
            fields.push(FieldChange::RoomGrade(a.room_grade, b.room_grade));
        }
        if a.verification_required != b.verification_required {
            fields.push(FieldChange::Verification(
                a.verification_required,
                b.verification_required,
            ));
        }
        if let Some(pos_old) = common_old.iter().position(|c| c == code)
            && pos_old != pos_new
        {
            fields.push(FieldChange::Order(pos_old + 1, pos_new + 1));
        }
        let change = StepChange {
            code: b.code.as_str(),
            title: b.title.as_str(),
            fields,
            parameters: items(&a.parameters, &b.parameters, |p| p.name.clone()),
            materials: items(&a.materials, &b.materials, |m| m.material_code.clone()),
            equipment_added: leftover(&b.equipment, &a.equipment),
            equipment_removed: leftover(&a.equipment, &b.equipment),
        };
        if !change.is_empty() {
            changed.push(change);
        }
    }
    Comparison {
        added,
        removed,
        changed,
    }
}

/// Items paired by `key` (the n-th of a key with the n-th): the changed and added in the new
/// order, then the removed in the old.
fn items<'a, T: PartialEq>(
    old: &'a [T],
    new: &'a [T],
    key: impl Fn(&T) -> String,
) -> Vec<ItemChange<'a, T>> {
    let keyed = |list: &'a [T]| -> Vec<(String, usize, &'a T)> {
        let mut seen: Vec<String> = Vec::new();
        list.iter()
            .map(|item| {
                let k = key(item);
                let n = seen.iter().filter(|s| **s == k).count();
                seen.push(k.clone());
                (k, n, item)
            })
            .collect()
    };
    let (old, new) = (keyed(old), keyed(new));
    let mut out = Vec::new();
    for (k, n, b) in &new {
        match old.iter().find(|(ko, no, _)| ko == k && no == n) {
            Some((_, _, a)) if a != b => out.push(ItemChange::Changed(*a, *b)),
            Some(_) => {}
            None => out.push(ItemChange::Added(*b)),
        }
    }
    for (k, n, a) in &old {
        if !new.iter().any(|(kn, nn, _)| kn == k && nn == n) {
            out.push(ItemChange::Removed(*a));
        }
    }
    out
}

/// The words of `these` not matched by one of `those`, counting repeats.
fn leftover<'a>(these: &'a [String], those: &[String]) -> Vec<&'a str> {
    let mut pool: Vec<&str> = those.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    for w in these {
        match pool.iter().position(|p| *p == w) {
            Some(i) => {
                pool.remove(i);
            }
            None => out.push(w.as_str()),
        }
    }
    out
}

// --- the page ------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub(super) struct CompareQuery {
    a: Option<String>,
    b: Option<String>,
}

/// `/registros-maestros/comparar?a=…&b=…`: `a` the older, `b` the newer (either order works:
/// the lower version is shown as the old one).
pub(super) async fn compare_page(
    State(state): State<AppState>,
    s: Session,
    Query(q): Query<CompareQuery>,
) -> Response {
    let l = s.lang;
    let (Some(a), Some(b)) = (q.a.as_deref(), q.b.as_deref()) else {
        return crate::ui::page_error(l, StatusCode::BAD_REQUEST, l.t("mbr-compare-choose"));
    };
    let (a, b) = match (load(&state, &s, a).await, load(&state, &s, b).await) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    if (a.product_code.as_str(), a.lab_code.as_str())
        != (b.product_code.as_str(), b.lab_code.as_str())
    {
        return crate::ui::page_error(
            l,
            StatusCode::UNPROCESSABLE_ENTITY,
            l.t("mbr-compare-other-record"),
        );
    }
    let (old, new) = if a.version <= b.version {
        (a, b)
    } else {
        (b, a)
    };
    let versions = state
        .store
        .list_master_records(&s.actor, Some(&old.product_code), Some(&old.lab_code))
        .await
        .unwrap_or_default();
    let diff = compare(&old.steps, &new.steps);
    let body = html! {
        p { a href=(version_path(new.id)) { "← " (l.t("mbr-back-to-version")) " (" (version_name(l, &new)) ")" } }
        form.filters method="get" action="/registros-maestros/comparar" {
            (version_select(l, "c_a", "a", l.t("mbr-compare-old"), &versions, old.id))
            (version_select(l, "c_b", "b", l.t("mbr-compare-new"), &versions, new.id))
            div { button type="submit" { (l.t("mbr-compare")) } }
        }
        div.scroll { table #versiones-comparadas {
            thead { tr { th {} th { (l.t("mbr-compare-old")) } th { (l.t("mbr-compare-new")) } } }
            tbody {
                tr { th { (l.t("mbr-version")) } td { a href=(version_path(old.id)) { (old.version) } } td { a href=(version_path(new.id)) { (new.version) } } }
                tr { th { (l.t("status")) } td { (status_badge(l, old.status)) } td { (status_badge(l, new.status)) } }
                tr { th { (l.t("mbr-effective-from")) } td { (l.opt_date(old.effective_from)) } td { (l.opt_date(new.effective_from)) } }
            }
        } }
        @if diff.is_empty() {
            p.notice.ok #sin-cambios { (l.t("mbr-compare-no-changes")) }
        }
        @if !diff.added.is_empty() {
            h2 { (l.t("mbr-compare-steps-added")) }
            @for st in &diff.added {
                section.card.paso-anadido { h3 { (st.title) " " span.muted { "(" (st.code) ")" } } (step_detail(l, st)) }
            }
        }
        @if !diff.removed.is_empty() {
            h2 { (l.t("mbr-compare-steps-removed")) }
            ul #pasos-quitados { @for st in &diff.removed { li { (st.title) " " span.muted { "(" (st.code) ")" } } } }
        }
        @if !diff.changed.is_empty() {
            h2 { (l.t("mbr-compare-steps-changed")) }
            @for c in &diff.changed { (step_change(l, c)) }
        }
    };
    let title = format!(
        "{} · {} {} → {}",
        l.t("mbr-compare-title"),
        l.t("mbr-version"),
        old.version,
        new.version
    );
    html_page_status(
        &s,
        StatusCode::OK,
        &title,
        "/registros-maestros/comparar",
        body,
    )
}

fn version_select(
    l: Lang,
    id: &str,
    name: &str,
    label: &str,
    versions: &[MbrView],
    chosen: i64,
) -> Markup {
    html! {
        div {
            label for=(id) { (label) }
            select id=(id) name=(name) {
                @for v in versions {
                    option value=(v.id) selected[v.id == chosen] {
                        (l.t("mbr-version")) " " (v.version) " (" (super::status_word(l, v.status)) ")"
                    }
                }
            }
        }
    }
}

fn arrow(old: &str, new: &str) -> Markup {
    html! { del { (old) } " → " ins { (new) } }
}

fn grade(l: Lang, g: Option<RoomGrade>) -> String {
    match g {
        Some(g) => format!("{} {}", l.t("mbr-grade"), g.as_str()),
        None => l.t("mbr-no-grade").to_owned(),
    }
}

fn field_change(l: Lang, f: &FieldChange) -> Markup {
    match f {
        FieldChange::Title(a, b) => html! { (l.t("mbr-title")) ": " (arrow(a, b)) },
        FieldChange::Instructions(a, b) => html! { (l.t("mbr-instructions")) ": " (arrow(a, b)) },
        FieldChange::RoomGrade(a, b) => {
            html! { (l.t("mbr-room-grade")) ": " (arrow(&grade(l, *a), &grade(l, *b))) }
        }
        FieldChange::Verification(a, b) => {
            html! { (l.t("mbr-verification")) ": " (arrow(yes_no(l, *a), yes_no(l, *b))) }
        }
        FieldChange::Order(a, b) => {
            html! { (l.t("mbr-compare-order")) ": " (arrow(&a.to_string(), &b.to_string())) }
        }
    }
}

fn decimal(l: Lang, d: Option<rust_decimal::Decimal>) -> String {
    d.map_or_else(|| "—".to_owned(), |d| l.number(&d.to_string()))
}

fn parameter_change(l: Lang, c: &ItemChange<'_, MbrParameter>) -> Markup {
    let describe = |p: &MbrParameter| {
        let mut s = format!("{} ({})", p.name, limits(l, p));
        if p.critical {
            s.push_str(&format!(", {}", l.t("mbr-critical").to_lowercase()));
        }
        s
    };
    match c {
        ItemChange::Added(p) => html! { (l.t("mbr-compare-added")) ": " ins { (describe(p)) } },
        ItemChange::Removed(p) => html! { (l.t("mbr-compare-removed")) ": " del { (describe(p)) } },
        ItemChange::Changed(a, b) => {
            let word = |e: &Option<String>| {
                e.as_deref()
                    .map_or_else(|| "—".to_owned(), |w| value_label(l, w))
            };
            html! {
                strong { (b.name) } ": "
                ul.changes {
                    @if a.unit != b.unit { li { (l.t("unit")) ": " (arrow(&a.unit, &b.unit)) } }
                    @if a.min != b.min { li { (l.t("mbr-min")) ": " (arrow(&decimal(l, a.min), &decimal(l, b.min))) } }
                    @if a.max != b.max { li { (l.t("mbr-max")) ": " (arrow(&decimal(l, a.max), &decimal(l, b.max))) } }
                    @if a.expected != b.expected { li { (l.t("mbr-expected")) ": " (arrow(&word(&a.expected), &word(&b.expected))) } }
                    @if a.critical != b.critical { li { (l.t("mbr-critical")) ": " (arrow(yes_no(l, a.critical), yes_no(l, b.critical))) } }
                }
            }
        }
    }
}

fn material_change(l: Lang, c: &ItemChange<'_, MbrMaterial>) -> Markup {
    let describe = |m: &MbrMaterial| {
        format!(
            "{} · {} {}",
            m.material_code,
            l.number(&m.quantity.to_string()),
            m.unit
        )
    };
    match c {
        ItemChange::Added(m) => html! { (l.t("mbr-compare-added")) ": " ins { (describe(m)) } },
        ItemChange::Removed(m) => html! { (l.t("mbr-compare-removed")) ": " del { (describe(m)) } },
        ItemChange::Changed(a, b) => html! {
            strong { (b.material_code) } ": "
            (arrow(&format!("{} {}", l.number(&a.quantity.to_string()), a.unit), &format!("{} {}", l.number(&b.quantity.to_string()), b.unit)))
        },
    }
}

fn step_change(l: Lang, c: &StepChange<'_>) -> Markup {
    html! {
        section.card.paso-cambiado {
            h3 { (c.title) " " span.muted { "(" (c.code) ")" } }
            @if !c.fields.is_empty() {
                ul { @for f in &c.fields { li { (field_change(l, f)) } } }
            }
            @if !c.parameters.is_empty() {
                h4 { (l.t("mbr-parameters")) }
                ul.parametros-cambiados { @for p in &c.parameters { li { (parameter_change(l, p)) } } }
            }
            @if !c.materials.is_empty() {
                h4 { (l.t("mbr-materials")) }
                ul { @for m in &c.materials { li { (material_change(l, m)) } } }
            }
            @if !c.equipment_added.is_empty() || !c.equipment_removed.is_empty() {
                h4 { (l.t("mbr-equipment")) }
                ul {
                    @for e in &c.equipment_added { li { (l.t("mbr-compare-added")) ": " ins { (e) } } }
                    @for e in &c.equipment_removed { li { (l.t("mbr-compare-removed")) ": " del { (e) } } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(code: &str) -> MbrStep {
        MbrStep {
            code: code.into(),
            title: code.to_uppercase(),
            instructions: String::new(),
            room_grade: None,
            verification_required: false,
            parameters: Vec::new(),
            materials: Vec::new(),
            equipment: Vec::new(),
        }
    }

    fn param(name: &str, min: &str, max: &str) -> MbrParameter {
        MbrParameter {
            name: name.into(),
            unit: "°C".into(),
            min: Some(min.parse().unwrap()),
            max: Some(max.parse().unwrap()),
            expected: None,
            critical: false,
        }
    }

    fn material(code: &str, q: &str) -> MbrMaterial {
        MbrMaterial {
            material_code: code.into(),
            quantity: q.parse().unwrap(),
            unit: "ml".into(),
        }
    }

    #[test]
    fn the_same_steps_compare_equal() {
        let steps = vec![step("a"), step("b")];
        assert!(compare(&steps, &steps.clone()).is_empty());
    }

    #[test]
    fn steps_added_and_removed_by_code() {
        let old = vec![step("a"), step("b")];
        let new = vec![step("x"), step("a"), step("c")];
        let d = compare(&old, &new);
        assert_eq!(
            d.added.iter().map(|s| s.code.as_str()).collect::<Vec<_>>(),
            ["x", "c"]
        );
        assert_eq!(
            d.removed
                .iter()
                .map(|s| s.code.as_str())
                .collect::<Vec<_>>(),
            ["b"]
        );
        // `a` is first of the steps both have, in both: a step added before it does not move it.
        assert!(d.changed.is_empty(), "{:?}", d.changed);
    }

    #[test]
    fn each_changed_field_of_a_step_old_then_new() {
        let mut a = step("siembra");
        a.parameters = vec![
            param("temperatura", "36.5", "37.5"),
            param("ph", "7.0", "7.4"),
        ];
        a.materials = vec![material("MED-ALFA", "10"), material("FBS", "1")];
        a.equipment = vec!["incubator".into(), "biosafety_cabinet".into()];
        let mut b = a.clone();
        b.title = "Siembra en frasco".into();
        b.room_grade = Some(RoomGrade::B);
        b.verification_required = true;
        b.parameters[0].max = Some("38".parse().unwrap());
        b.parameters.remove(1);
        b.parameters.push(param("co2", "4.5", "5.5"));
        b.materials[0].quantity = "12".parse().unwrap();
        b.materials.remove(1);
        b.equipment = vec!["incubator".into(), "centrifuge".into()];
        let (old, new) = (vec![a.clone(), step("z")], vec![step("z"), b.clone()]);
        let d = compare(&old, &new);
        assert!(d.added.is_empty() && d.removed.is_empty());
        assert_eq!(d.changed.len(), 2, "both moved: {:?}", d.changed);
        let c = d
            .changed
            .iter()
            .find(|c| c.code == "siembra")
            .expect("siembra changed");
        assert_eq!(
            c.fields,
            [
                FieldChange::Title("SIEMBRA".into(), "Siembra en frasco".into()),
                FieldChange::RoomGrade(None, Some(RoomGrade::B)),
                FieldChange::Verification(false, true),
                FieldChange::Order(1, 2),
            ]
        );
        assert_eq!(
            c.parameters,
            [
                ItemChange::Changed(&a.parameters[0], &b.parameters[0]),
                ItemChange::Added(&b.parameters[1]),
                ItemChange::Removed(&a.parameters[1]),
            ]
        );
        assert_eq!(
            c.materials,
            [
                ItemChange::Changed(&a.materials[0], &b.materials[0]),
                ItemChange::Removed(&a.materials[1]),
            ]
        );
        assert_eq!(c.equipment_added, ["centrifuge"]);
        assert_eq!(c.equipment_removed, ["biosafety_cabinet"]);
    }

    #[test]
    fn a_material_named_twice_pairs_in_order() {
        let mut a = step("s");
        a.materials = vec![material("M", "1"), material("M", "2")];
        let mut b = a.clone();
        b.materials[1].quantity = "3".parse().unwrap();
        let d = compare(std::slice::from_ref(&a), std::slice::from_ref(&b));
        assert_eq!(
            d.changed[0].materials,
            [ItemChange::Changed(&a.materials[1], &b.materials[1])]
        );
    }

    #[test]
    fn a_changed_limit_is_said_old_then_new_in_the_page_language() {
        let (a, b) = (
            param("temperatura", "36.5", "37.5"),
            param("temperatura", "36.5", "38"),
        );
        let es = parameter_change(Lang::Es, &ItemChange::Changed(&a, &b)).into_string();
        assert!(
            es.contains("Máximo: <del>37,5</del> → <ins>38</ins>"),
            "{es}"
        );
        assert!(!es.contains("Mínimo"), "the minimum did not change: {es}");
        let en = parameter_change(Lang::En, &ItemChange::Changed(&a, &b)).into_string();
        assert!(
            en.contains("Maximum: <del>37.5</del> → <ins>38</ins>"),
            "{en}"
        );
    }
}
