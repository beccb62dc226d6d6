//! A step's form as typed: its fields and rows as the browser sent them (`p0_min`,
//! `m1_quantity`, `e0`), the empty rows dropped; read into an `MbrStep` as the API reads one;
//! and the store's refusals placed beside the inputs they are about.

use std::collections::BTreeMap;

use traza_domain::mbr::{MbrMaterial, MbrParameter, MbrStep};
use traza_domain::problem::Explain;
use traza_domain::validation::{FieldError, Problem};
use traza_domain::vocab::RoomGrade;

use super::problem_words;
use crate::ui::fmt::Lang;
use crate::ui::widgets::decimal_input;

/// Rows read from a form, at most, of each kind.
const MAX_ROWS: usize = 100;

#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct ParameterRow {
    pub(super) name: String,
    pub(super) unit: String,
    pub(super) min: String,
    pub(super) max: String,
    pub(super) expected: String,
    pub(super) critical: bool,
}

impl ParameterRow {
    pub(super) fn is_empty(&self) -> bool {
        [&self.name, &self.unit, &self.min, &self.max, &self.expected]
            .iter()
            .all(|v| v.trim().is_empty())
    }
}

#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct MaterialRow {
    pub(super) code: String,
    pub(super) quantity: String,
    pub(super) unit: String,
}

impl MaterialRow {
    pub(super) fn is_empty(&self) -> bool {
        [&self.code, &self.quantity, &self.unit]
            .iter()
            .all(|v| v.trim().is_empty())
    }
}

/// A step as its form holds it: text as typed, rows without the empty ones.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Typed {
    pub(super) code: String,
    pub(super) title: String,
    pub(super) instructions: String,
    pub(super) room_grade: String,
    pub(super) verification: bool,
    pub(super) parameters: Vec<ParameterRow>,
    pub(super) materials: Vec<MaterialRow>,
    pub(super) equipment: Vec<String>,
    /// The fingerprint of the steps the form was drawn from.
    pub(super) huella: String,
}

impl Typed {
    /// The form of an existing step, numbers in the page's language.
    pub(super) fn of(l: Lang, step: &MbrStep, huella: String) -> Typed {
        let n = |d: Option<rust_decimal::Decimal>| {
            d.map(|d| l.number(&d.to_string())).unwrap_or_default()
        };
        Typed {
            code: step.code.clone(),
            title: step.title.clone(),
            instructions: step.instructions.clone(),
            room_grade: step
                .room_grade
                .map(|g| g.as_str().to_owned())
                .unwrap_or_default(),
            verification: step.verification_required,
            parameters: step
                .parameters
                .iter()
                .map(|p| ParameterRow {
                    name: p.name.clone(),
                    unit: p.unit.clone(),
                    min: n(p.min),
                    max: n(p.max),
                    expected: p.expected.clone().unwrap_or_default(),
                    critical: p.critical,
                })
                .collect(),
            materials: step
                .materials
                .iter()
                .map(|m| MaterialRow {
                    code: m.material_code.clone(),
                    quantity: l.number(&m.quantity.to_string()),
                    unit: m.unit.clone(),
                })
                .collect(),
            equipment: step.equipment.clone(),
            huella,
        }
    }

    /// The form as sent: `p{i}_name`, `m{i}_quantity`, `e{i}`…; rows left empty are dropped.
    pub(super) fn from_form(pairs: &[(String, String)]) -> Typed {
        let mut t = Typed::default();
        let mut parameters: BTreeMap<usize, ParameterRow> = BTreeMap::new();
        let mut materials: BTreeMap<usize, MaterialRow> = BTreeMap::new();
        let mut equipment: BTreeMap<usize, String> = BTreeMap::new();
        for (name, value) in pairs {
            match name.as_str() {
                "code" => t.code = value.clone(),
                "title" => t.title = value.clone(),
                "instructions" => t.instructions = value.clone(),
                "room_grade" => t.room_grade = value.clone(),
                "verification" => t.verification = !value.is_empty(),
                "huella" => t.huella = value.clone(),
                _ => match row_field(name) {
                    Some(('p', i, field)) => {
                        let r = parameters.entry(i).or_default();
                        match field {
                            "name" => r.name = value.clone(),
                            "unit" => r.unit = value.clone(),
                            "min" => r.min = value.clone(),
                            "max" => r.max = value.clone(),
                            "expected" => r.expected = value.clone(),
                            "critical" => r.critical = !value.is_empty(),
                            _ => {}
                        }
                    }
                    Some(('m', i, field)) => {
                        let r = materials.entry(i).or_default();
                        match field {
                            "code" => r.code = value.clone(),
                            "quantity" => r.quantity = value.clone(),
                            "unit" => r.unit = value.clone(),
                            _ => {}
                        }
                    }
                    Some(('e', i, "")) => {
                        equipment.insert(i, value.clone());
                    }
                    _ => {}
                },
            }
        }
        t.parameters = parameters.into_values().filter(|r| !r.is_empty()).collect();
        t.materials = materials.into_values().filter(|r| !r.is_empty()).collect();
        t.equipment = equipment
            .into_values()
            .filter(|e| !e.trim().is_empty())
            .collect();
        t
    }

    /// The step, read as the API reads one (decimals, a room grade of the vocabulary); what
    /// cannot be read is a field error of `steps[index]`, as the store names them.
    pub(super) fn read(&self, index: usize) -> Result<MbrStep, Vec<FieldError>> {
        let mut errors = Vec::new();
        let at = |field: String| format!("steps[{index}].{field}");
        let room_grade = match self.room_grade.trim() {
            "" => None,
            g => match g.parse::<RoomGrade>() {
                Ok(g) => Some(g),
                Err(e) => {
                    errors.push(FieldError::new(
                        at("room_grade".into()),
                        e.problem().unwrap_or(Problem::Empty),
                    ));
                    None
                }
            },
        };
        let mut decimal = |field: String, raw: &str| -> Option<rust_decimal::Decimal> {
            if raw.trim().is_empty() {
                return None;
            }
            traza_domain::validation::decimal(&decimal_input(raw))
                .map_err(|p| errors.push(FieldError::new(field, p)))
                .ok()
        };
        let parameters: Vec<MbrParameter> = self
            .parameters
            .iter()
            .enumerate()
            .map(|(j, r)| MbrParameter {
                name: r.name.trim().to_owned(),
                unit: r.unit.trim().to_owned(),
                min: decimal(at(format!("parameters[{j}].min")), &r.min),
                max: decimal(at(format!("parameters[{j}].max")), &r.max),
                expected: Some(r.expected.trim().to_owned()).filter(|e| !e.is_empty()),
                critical: r.critical,
            })
            .collect();
        let mut materials = Vec::new();
        for (j, r) in self.materials.iter().enumerate() {
            // A material needs its code and a quantity to be one at all.
            if r.code.trim().is_empty() {
                errors.push(FieldError::new(
                    at(format!("materials[{j}].material_code")),
                    Problem::Empty,
                ));
            }
            let quantity = if r.quantity.trim().is_empty() {
                errors.push(FieldError::new(
                    at(format!("materials[{j}].quantity")),
                    Problem::Empty,
                ));
                None
            } else {
                match traza_domain::validation::decimal(&decimal_input(&r.quantity)) {
                    Ok(q) => Some(q),
                    Err(p) => {
                        errors.push(FieldError::new(at(format!("materials[{j}].quantity")), p));
                        None
                    }
                }
            };
            if let Some(quantity) = quantity {
                materials.push(MbrMaterial {
                    material_code: r.code.trim().to_owned(),
                    quantity,
                    unit: r.unit.trim().to_owned(),
                });
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(MbrStep {
            code: self.code.trim().to_owned(),
            title: self.title.trim().to_owned(),
            instructions: self.instructions.trim().to_owned(),
            room_grade,
            verification_required: self.verification,
            parameters,
            materials,
            equipment: self.equipment.iter().map(|e| e.trim().to_owned()).collect(),
        })
    }

    /// The step as far as its name goes, for the words of a refusal about it.
    pub(super) fn named(&self) -> MbrStep {
        MbrStep {
            code: self.code.trim().to_owned(),
            title: self.title.trim().to_owned(),
            instructions: String::new(),
            room_grade: None,
            verification_required: false,
            parameters: Vec::new(),
            materials: Vec::new(),
            equipment: Vec::new(),
        }
    }
}

/// `p3_min` → `('p', 3, "min")`; `e2` → `('e', 2, "")`.
fn row_field(name: &str) -> Option<(char, usize, &str)> {
    let kind = name
        .chars()
        .next()
        .filter(|c| matches!(c, 'p' | 'm' | 'e'))?;
    let rest = &name[1..];
    let (digits, field) = match rest.split_once('_') {
        Some((d, f)) => (d, f),
        None => (rest, ""),
    };
    let i = digits.parse::<usize>().ok().filter(|i| *i < MAX_ROWS)?;
    Some((kind, i, field))
}

/// The input a field of `steps[index]` is typed in (`p0_min`), when it is one of this form's.
fn input_of(field: &str, index: usize) -> Option<String> {
    let rest = field.strip_prefix(&format!("steps[{index}]."))?;
    if matches!(rest, "code" | "title" | "room_grade" | "instructions") {
        return Some(rest.to_owned());
    }
    for (prefix, kind) in [("parameters[", 'p'), ("materials[", 'm')] {
        if let Some(inner) = rest.strip_prefix(prefix)
            && let Some((j, f)) = inner.split_once("].")
            && let Ok(j) = j.parse::<usize>()
        {
            let f = if f == "material_code" { "code" } else { f };
            return Some(format!("{kind}{j}_{f}"));
        }
    }
    None
}

/// Each refused field beside its input: those of the step at `index`, and a repeated code
/// wherever the domain found it (it marks the second of the two steps, which may be another).
pub(super) fn inline_errors(
    l: Lang,
    errors: &[FieldError],
    index: usize,
    code: &str,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in errors {
        let input = input_of(&e.field, index).or_else(|| match &e.problem {
            Some(Problem::Repeated { text })
                if e.field.ends_with("].code") && text == code.trim() =>
            {
                Some("code".to_owned())
            }
            _ => None,
        });
        if let Some(input) = input {
            out.entry(input).or_insert_with(|| problem_words(l, e));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_form_reads_its_rows_and_drops_the_emptied_ones() {
        let t = Typed::from_form(&pairs(&[
            ("code", "expansion"),
            ("title", "Expansión"),
            ("room_grade", "B"),
            ("verification", "1"),
            ("p0_name", "temperatura"),
            ("p0_unit", "°C"),
            ("p0_min", "36,5"),
            ("p0_max", "37.5"),
            ("p0_critical", "1"),
            ("p1_name", ""),
            ("p1_unit", ""),
            ("p1_critical", "1"),
            ("p2_name", "aspecto"),
            ("p2_expected", "claro"),
            ("m0_code", ""),
            ("m0_quantity", ""),
            ("m1_code", "MED-ALFA"),
            ("m1_quantity", "10,5"),
            ("m1_unit", "ml"),
            ("e0", "incubator"),
            ("e1", " "),
        ]));
        assert_eq!(t.parameters.len(), 2, "{t:?}");
        assert_eq!(t.materials.len(), 1, "{t:?}");
        let step = t.read(3).expect("a step");
        assert_eq!(step.room_grade, Some(RoomGrade::B));
        assert!(step.verification_required);
        assert_eq!(step.parameters[0].min, Some("36.5".parse().unwrap()));
        assert!(step.parameters[0].critical);
        assert_eq!(step.parameters[1].expected.as_deref(), Some("claro"));
        assert_eq!(step.materials[0].quantity, "10.5".parse().unwrap());
        assert_eq!(step.equipment, ["incubator"]);
    }

    #[test]
    fn what_cannot_be_read_is_refused_by_its_input() {
        let t = Typed::from_form(&pairs(&[
            ("code", "a"),
            ("title", "A"),
            ("p0_name", "t"),
            ("p0_min", "mucho"),
            ("m0_unit", "ml"),
        ]));
        let errors = t.read(2).expect_err("refused");
        let inline = inline_errors(Lang::Es, &errors, 2, "a");
        assert_eq!(
            inline.keys().map(String::as_str).collect::<Vec<_>>(),
            ["m0_code", "m0_quantity", "p0_min"]
        );
        assert_eq!(inline["p0_min"], "«mucho» no es un número");
        // A repeated code is marked on the code of the form, wherever the domain found it.
        let repeated = [FieldError::new(
            "steps[4].code",
            Problem::Repeated { text: "a".into() },
        )];
        assert!(inline_errors(Lang::Es, &repeated, 2, "a").contains_key("code"));
        assert!(inline_errors(Lang::Es, &repeated, 2, "b").is_empty());
    }
}
