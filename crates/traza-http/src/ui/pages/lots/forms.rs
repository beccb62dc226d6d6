//! The forms of the materials page: the lots' filters, the receipt of a lot, and the
//! catalogue with the coordinator's new-material and edit forms. Each starts with what was
//! typed when the store refused it.

use maud::{Markup, html};
use traza_domain::access::Action;
use traza_domain::codes::LabCode;
use traza_domain::materials::{LotStatus, Material, MaterialKind};

use super::words::lab_today;
use super::{ListQuery, kind_word};
use crate::ui::Session;
use crate::ui::i18n;
use crate::ui::widgets::Typed;

/// A filter's value when one was chosen.
pub(super) fn chosen(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The lots' filters: laboratory (when the reader sees several), material, status in words.
pub(super) fn filters(
    s: &Session,
    labs: &[LabCode],
    materials: &[Material],
    q: &ListQuery,
) -> Markup {
    let l = s.lang;
    let lab = chosen(&q.lab);
    let material = chosen(&q.material);
    let status = chosen(&q.estado);
    html! {
        form.filters method="get" action="/materiales" role="search" {
            @if labs.len() > 1 {
                div {
                    label for="f_lab" { (l.t("laboratory")) }
                    select #f_lab name="lab" {
                        option value="" { (l.t("all")) }
                        @for code in labs {
                            option value=(code.as_str()) selected[lab == Some(code.as_str())] { (code.as_str()) }
                        }
                    }
                }
            }
            div {
                label for="f_material" { (l.t("lots-material")) }
                select #f_material name="material" {
                    option value="" { (l.t("all")) }
                    @for m in materials {
                        option value=(m.code.as_str()) selected[material == Some(m.code.as_str())] { (m.code.as_str()) " · " (m.name) }
                    }
                }
            }
            div {
                label for="f_estado" { (l.t("status")) }
                select #f_estado name="estado" {
                    option value="" { (l.t("all")) }
                    @for st in LotStatus::ALL {
                        option value=(st.as_str()) selected[status == Some(st.as_str())] {
                            (i18n::lookup(l, &format!("lot-status-{}", st.as_str())).unwrap_or(st.as_str()))
                        }
                    }
                }
            }
            button type="submit" { (l.t("filter")) }
        }
    }
}

/// The receipt of a lot, for staff and QA: the laboratory asked only of someone with several.
pub(super) fn receipt_form(s: &Session, materials: &[Material], typed: &Typed) -> Markup {
    let l = s.lang;
    let t = |name: &str| typed.get("recepcion", name).unwrap_or_default().to_owned();
    let received_on = typed
        .get("recepcion", "received_on")
        .map_or_else(|| lab_today().to_string(), str::to_owned);
    let labs: Vec<&LabCode> = s.actor.labs.iter().collect();
    html! {
        form.card #form-recepcion method="post" action="/materiales/lotes" {
            input type="hidden" name="csrf" value=(s.csrf());
            @match labs.as_slice() {
                [only] => { input type="hidden" name="lab_code" value=(only.as_str()); }
                _ => {
                    label for="r_lab" { (l.t("laboratory")) }
                    select #r_lab name="lab_code" required {
                        option value="" { "—" }
                        @for code in &labs {
                            option value=(code.as_str()) selected[t("lab_code") == code.as_str()] { (code.as_str()) }
                        }
                    }
                }
            }
            label for="r_material" { (l.t("lots-material")) }
            select #r_material name="material_code" required {
                option value="" { "—" }
                @for m in materials {
                    option value=(m.code.as_str()) selected[t("material_code") == m.code.as_str()] {
                        (m.code.as_str()) " · " (m.name) " (" (m.unit) ")"
                    }
                }
            }
            label for="r_supplier" { (l.t("lots-supplier")) }
            input #r_supplier name="supplier" required autocomplete="off" value=(t("supplier"));
            label for="r_supplier_lot" { (l.t("lots-supplier-lot")) }
            input #r_supplier_lot name="supplier_lot" required autocomplete="off" value=(t("supplier_lot"));
            label for="r_quantity" { (l.t("lots-quantity")) }
            input #r_quantity name="quantity_received" required inputmode="decimal" autocomplete="off"
                aria-describedby="r_quantity_hint" value=(t("quantity_received"));
            p.hint #r_quantity_hint { (l.t("lots-quantity-hint")) }
            label for="r_received" { (l.t("lots-received-on")) }
            input #r_received type="date" name="received_on" required value=(received_on);
            label for="r_expiry" { (l.t("expiry")) }
            input #r_expiry type="date" name="expiry_date" required aria-describedby="r_expiry_hint" value=(t("expiry_date"));
            p.hint #r_expiry_hint { (l.t("lots-expiry-hint")) }
            button.primary type="submit" { (l.t("lots-receive")) }
        }
    }
}

/// The network's catalogue; for the coordinator, an edit form on each material and the form of
/// a new one.
pub(super) fn catalogue(s: &Session, materials: &[Material], typed: &Typed) -> Markup {
    let l = s.lang;
    let may_edit = s.actor.may(Action::ManageMaterials).is_ok();
    html! {
        @if materials.is_empty() { p.muted { (l.t("lots-no-materials")) } } @else {
            div.scroll { table #tabla-materiales {
                thead { tr {
                    th { (l.t("code")) } th { (l.t("name")) } th { (l.t("lots-kind")) } th { (l.t("unit")) }
                    @if may_edit { th { (l.t("actions")) } }
                } }
                tbody {
                    @for m in materials {
                        tr id={ "material-" (m.code.as_str()) } {
                            td { code { (m.code.as_str()) } }
                            td { (m.name) }
                            td { (kind_word(s, m.kind)) }
                            td { (m.unit) }
                            @if may_edit { td { (edit_form(s, m, typed)) } }
                        }
                    }
                }
            } }
        }
        @if may_edit { (new_material_form(s, typed)) }
    }
}

fn kind_select(s: &Session, id: &str, chosen: &str) -> Markup {
    html! {
        select id=(id) name="kind" required {
            option value="" { "—" }
            @for k in MaterialKind::ALL {
                option value=(k.as_str()) selected[chosen == k.as_str()] { (kind_word(s, *k)) }
            }
        }
    }
}

fn edit_form(s: &Session, m: &Material, typed: &Typed) -> Markup {
    let l = s.lang;
    let form = format!("material-{}", m.code.as_str());
    let refused = typed.get(&form, "name").is_some();
    let t = |name: &str, stored: &str| {
        typed
            .get(&form, name)
            .map_or_else(|| stored.to_owned(), str::to_owned)
    };
    let id = |field: &str| format!("m_{}_{field}", m.code.as_str());
    html! {
        details open[refused] {
            summary { (l.t("lots-edit")) }
            form method="post" action={ "/materiales/catalogo/" (m.code.as_str()) } {
                input type="hidden" name="csrf" value=(s.csrf());
                label for=(id("name")) { (l.t("name")) }
                input id=(id("name")) name="name" required value=(t("name", &m.name));
                label for=(id("kind")) { (l.t("lots-kind")) }
                (kind_select(s, &id("kind"), &t("kind", m.kind.as_str())))
                label for=(id("unit")) { (l.t("unit")) }
                input id=(id("unit")) name="unit" required value=(t("unit", &m.unit));
                p.hint { (l.t("lots-unit-hint")) }
                button type="submit" { (l.t("lots-save")) }
            }
        }
    }
}

fn new_material_form(s: &Session, typed: &Typed) -> Markup {
    let l = s.lang;
    let t = |name: &str| typed.get("material", name).unwrap_or_default().to_owned();
    html! {
        form.card #form-material method="post" action="/materiales/catalogo" {
            h3 { (l.t("lots-new-material")) }
            input type="hidden" name="csrf" value=(s.csrf());
            label for="n_code" { (l.t("code")) }
            input #n_code name="code" required autocomplete="off" spellcheck="false"
                aria-describedby="n_code_hint" value=(t("code"));
            p.hint #n_code_hint { (l.t("lots-code-hint")) }
            label for="n_name" { (l.t("name")) }
            input #n_name name="name" required value=(t("name"));
            label for="n_kind" { (l.t("lots-kind")) }
            (kind_select(s, "n_kind", &t("kind")))
            label for="n_unit" { (l.t("unit")) }
            input #n_unit name="unit" required value=(t("unit")) aria-describedby="n_unit_hint";
            p.hint #n_unit_hint { (l.t("lots-unit-example")) }
            button.primary type="submit" { (l.t("lots-add-material")) }
        }
    }
}
