//! Release specifications and the judgement of QC results against them.
//!
//! A specification is versioned: changing it makes a new version, and every QC result keeps
//! the version it was judged against (EU GMP Part IV §11: the record shows what the batch was
//! certified against).

use std::collections::BTreeSet;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::validation::{FieldError, FieldErrors};
use crate::vocab::{QcOutcome, TestKind};

/// One release test of a specification. `min`/`max` are inclusive.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecTest {
    pub test: String,
    #[serde(default)]
    pub unit: String,
    pub kind: TestKind,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub min: Option<Decimal>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub max: Option<Decimal>,
    #[serde(default)]
    pub expected: Option<String>,
    /// For a categorical test, the values a result may take (`expected` among them); empty:
    /// any word. Left out of the JSON when empty, so specifications from before it keep their
    /// exact stored form.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    pub required: bool,
}

/// The list of release tests of one product, as of one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Specification(Vec<SpecTest>);

fn valid_test_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && name.len() <= 40
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Specification {
    /// Checks the tests are coherent: unique snake_case names, bounds in order, categorical
    /// tests with an expected word and no bounds, numeric tests without one.
    pub fn new(tests: Vec<SpecTest>) -> Result<Self, FieldErrors> {
        let mut errors = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, t) in tests.iter().enumerate() {
            let field = |name: &str| format!("specification[{i}].{name}");
            if !valid_test_name(&t.test) {
                errors.push(FieldError::new(
                    field("test"),
                    "must be a snake_case name (a-z, 0-9, _), at most 40 characters",
                ));
            } else if !seen.insert(t.test.as_str()) {
                errors.push(FieldError::new(
                    field("test"),
                    format!("test '{}' appears twice", t.test),
                ));
            }
            if t.unit.chars().count() > 30 {
                errors.push(FieldError::new(
                    field("unit"),
                    "must be at most 30 characters",
                ));
            }
            match t.kind {
                TestKind::Numeric => {
                    if !t.values.is_empty() {
                        errors.push(FieldError::new(
                            field("values"),
                            "a numeric test has limits, not a list of values",
                        ));
                    }
                    if t.expected.is_some() {
                        errors.push(FieldError::new(
                            field("expected"),
                            "a numeric test has limits, not an expected word",
                        ));
                    }
                    if let (Some(min), Some(max)) = (t.min, t.max)
                        && min > max
                    {
                        errors.push(FieldError::new(
                            field("min"),
                            format!("min {min} is above max {max}"),
                        ));
                    }
                }
                TestKind::Categorical => {
                    if t.min.is_some() || t.max.is_some() {
                        errors.push(FieldError::new(
                            field("min"),
                            "a categorical test has an expected word, not limits",
                        ));
                    }
                    let expected = t.expected.as_deref().map(normalise_word);
                    match &expected {
                        Some(word) if !word.is_empty() => {}
                        _ => errors.push(FieldError::new(
                            field("expected"),
                            "a categorical test needs its expected value",
                        )),
                    }
                    let mut listed = BTreeSet::new();
                    for v in &t.values {
                        let word = normalise_word(v);
                        if word.is_empty() || !listed.insert(word) {
                            errors.push(FieldError::new(
                                field("values"),
                                format!("'{v}' is empty or listed twice"),
                            ));
                        }
                    }
                    if let Some(word) = expected
                        && !listed.is_empty()
                        && !listed.contains(&word)
                    {
                        errors.push(FieldError::new(
                            field("expected"),
                            format!("the expected value '{word}' is not among the values"),
                        ));
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(Self(tests))
        } else {
            Err(FieldErrors(errors))
        }
    }

    pub fn tests(&self) -> &[SpecTest] {
        &self.0
    }

    pub fn test(&self, name: &str) -> Option<&SpecTest> {
        self.0.iter().find(|t| t.test == name)
    }

    pub fn required_tests(&self) -> impl Iterator<Item = &SpecTest> {
        self.0.iter().filter(|t| t.required)
    }

    /// Judges a reported result against this specification.
    pub fn judge(&self, test: &str, value: &str, unit: &str) -> Result<JudgedResult, QcRefusal> {
        let spec = self
            .test(test)
            .ok_or_else(|| QcRefusal::UnknownTest(test.to_owned()))?;
        let unit = unit.trim();
        match spec.kind {
            TestKind::Numeric => {
                if unit != spec.unit {
                    return Err(QcRefusal::UnitMismatch {
                        expected: spec.unit.clone(),
                        got: unit.to_owned(),
                    });
                }
                let reading = NumericReading::parse(value).map_err(QcRefusal::InvalidValue)?;
                let pass = reading.within(spec.min, spec.max);
                Ok(JudgedResult {
                    value: reading.to_string(),
                    unit: spec.unit.clone(),
                    outcome: outcome(pass),
                })
            }
            TestKind::Categorical => {
                if !unit.is_empty() && unit != spec.unit {
                    return Err(QcRefusal::UnitMismatch {
                        expected: spec.unit.clone(),
                        got: unit.to_owned(),
                    });
                }
                let word = normalise_word(value);
                if word.is_empty() {
                    return Err(QcRefusal::InvalidValue(crate::problem::Problem::Empty));
                }
                if !spec.values.is_empty() && !spec.values.iter().any(|v| normalise_word(v) == word)
                {
                    return Err(QcRefusal::NotAmongValues {
                        value: word,
                        values: spec.values.iter().map(|v| normalise_word(v)).collect(),
                    });
                }
                let expected = spec
                    .expected
                    .as_deref()
                    .map(normalise_word)
                    .unwrap_or_default();
                Ok(JudgedResult {
                    outcome: outcome(word == expected),
                    value: word,
                    unit: spec.unit.clone(),
                })
            }
        }
    }
}

fn outcome(pass: bool) -> QcOutcome {
    if pass {
        QcOutcome::Pass
    } else {
        QcOutcome::Fail
    }
}

/// Categorical words compare case-insensitively, with spaces and hyphens as underscores:
/// `No growth` and `no_growth` are the same result.
pub fn normalise_word(raw: &str) -> String {
    raw.trim()
        .to_lowercase()
        .split([' ', '_', '-'])
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

/// A result as the server judged it: the value in canonical form and the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgedResult {
    pub value: String,
    pub unit: String,
    pub outcome: QcOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QcRefusal {
    #[error("the product's specification has no test '{0}'")]
    UnknownTest(String),
    #[error("unit must be '{expected}' for this test, not '{got}'")]
    UnitMismatch { expected: String, got: String },
    #[error("{0}")]
    InvalidValue(crate::problem::Problem),
    /// A categorical result outside the values its specification lists.
    #[error("'{value}' is not one of this test's values: {}", values.join(", "))]
    NotAmongValues { value: String, values: Vec<String> },
}

impl crate::problem::Explain for QcRefusal {
    fn problem(&self) -> Option<crate::problem::Problem> {
        use crate::problem::Problem as P;
        match self {
            QcRefusal::UnknownTest(test) => Some(P::UnknownTest { test: test.clone() }),
            QcRefusal::UnitMismatch { expected, got } => Some(P::UnitMismatch {
                expected: expected.clone(),
                got: got.clone(),
            }),
            QcRefusal::InvalidValue(problem) => Some(problem.clone()),
            QcRefusal::NotAmongValues { value, values } => Some(P::NotOneOf {
                text: value.clone(),
                values: values.clone(),
            }),
        }
    }
}

impl QcRefusal {
    /// The request field the refusal is about.
    pub fn field(&self) -> &'static str {
        match self {
            QcRefusal::UnknownTest(_) => "test",
            QcRefusal::UnitMismatch { .. } => "unit",
            QcRefusal::InvalidValue(_) | QcRefusal::NotAmongValues { .. } => "value",
        }
    }
}

/// A qualifier on a numeric reading: laboratories report results below a detection limit as
/// `< 0.25` (endotoxins, mycoplasma by culture).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    Below,
    AtMost,
    Above,
    AtLeast,
}

impl Qualifier {
    fn as_str(self) -> &'static str {
        match self {
            Qualifier::Below => "<",
            Qualifier::AtMost => "<=",
            Qualifier::Above => ">",
            Qualifier::AtLeast => ">=",
        }
    }
}

/// A numeric QC reading: an exact decimal, optionally qualified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumericReading {
    pub qualifier: Option<Qualifier>,
    pub value: Decimal,
}

impl NumericReading {
    pub fn parse(raw: &str) -> Result<Self, crate::problem::Problem> {
        let s = raw.trim();
        let (qualifier, rest) = [
            ("<=", Qualifier::AtMost),
            ("≤", Qualifier::AtMost),
            (">=", Qualifier::AtLeast),
            ("≥", Qualifier::AtLeast),
            ("<", Qualifier::Below),
            (">", Qualifier::Above),
        ]
        .iter()
        .find_map(|(p, q)| s.strip_prefix(p).map(|rest| (Some(*q), rest)))
        .unwrap_or((None, s));
        let value = crate::validation::decimal(rest)?;
        Ok(Self { qualifier, value })
    }

    /// True only when every true value the reading allows lies within `[min, max]`: a
    /// qualified reading is judged conservatively (`< 0.5` passes `max 0.5`, fails any `min`).
    pub fn within(&self, min: Option<Decimal>, max: Option<Decimal>) -> bool {
        let v = self.value;
        let (low_ok, high_ok) = match self.qualifier {
            None => (min.is_none_or(|m| v >= m), max.is_none_or(|m| v <= m)),
            Some(Qualifier::Below) => (min.is_none(), max.is_none_or(|m| v <= m)),
            Some(Qualifier::AtMost) => (min.is_none(), max.is_none_or(|m| v <= m)),
            Some(Qualifier::Above) => (min.is_none_or(|m| v >= m), max.is_none()),
            Some(Qualifier::AtLeast) => (min.is_none_or(|m| v >= m), max.is_none()),
        };
        low_ok && high_ok
    }
}

impl fmt::Display for NumericReading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(q) = self.qualifier {
            f.write_str(q.as_str())?;
        }
        write!(f, "{}", self.value)
    }
}

/// The specification's OpenAPI schema: an array of its tests.
#[cfg(feature = "openapi")]
mod openapi_schema {
    use utoipa::openapi::{Array, Ref, RefOr, Schema};

    use super::{SpecTest, Specification};

    impl utoipa::PartialSchema for Specification {
        fn schema() -> RefOr<Schema> {
            Schema::Array(Array::new(Ref::from_schema_name("SpecTest"))).into()
        }
    }

    impl utoipa::ToSchema for Specification {
        fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
            use utoipa::PartialSchema;
            schemas.push(("SpecTest".into(), SpecTest::schema()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    fn numeric(test: &str, unit: &str, min: Option<Decimal>, max: Option<Decimal>) -> SpecTest {
        SpecTest {
            test: test.into(),
            unit: unit.into(),
            kind: TestKind::Numeric,
            min,
            max,
            expected: None,
            values: Vec::new(),
            required: true,
        }
    }

    fn categorical(test: &str, expected: &str) -> SpecTest {
        SpecTest {
            test: test.into(),
            unit: String::new(),
            kind: TestKind::Categorical,
            min: None,
            max: None,
            expected: Some(expected.into()),
            values: Vec::new(),
            required: true,
        }
    }

    fn msc_spec() -> Specification {
        Specification::new(vec![
            numeric("viability", "%", Some(dec!(70)), None),
            numeric("endotoxins", "EU/mL", None, Some(dec!(0.5))),
            numeric("dose", "x10^6 cells/kg", Some(dec!(1)), Some(dec!(2))),
            categorical("sterility", "no growth"),
        ])
        .unwrap()
    }

    #[test]
    fn numeric_limits_are_inclusive() {
        let spec = msc_spec();
        assert_eq!(
            spec.judge("viability", "70", "%").unwrap().outcome,
            QcOutcome::Pass
        );
        assert_eq!(
            spec.judge("viability", "69.99", "%").unwrap().outcome,
            QcOutcome::Fail
        );
        assert_eq!(
            spec.judge("dose", "2.0", "x10^6 cells/kg").unwrap().outcome,
            QcOutcome::Pass
        );
        assert_eq!(
            spec.judge("dose", "2.0001", "x10^6 cells/kg")
                .unwrap()
                .outcome,
            QcOutcome::Fail
        );
        assert_eq!(
            spec.judge("dose", "0.9", "x10^6 cells/kg").unwrap().outcome,
            QcOutcome::Fail
        );
    }

    #[test]
    fn judged_value_is_canonical() {
        let judged = msc_spec().judge("viability", " 92.50 ", "%").unwrap();
        assert_eq!(judged.value, "92.5");
    }

    #[test]
    fn qualified_readings_are_judged_conservatively() {
        let spec = msc_spec();
        assert_eq!(
            spec.judge("endotoxins", "< 0.25", "EU/mL").unwrap().outcome,
            QcOutcome::Pass
        );
        assert_eq!(
            spec.judge("endotoxins", "<0.5", "EU/mL").unwrap().value,
            "<0.5"
        );
        assert_eq!(
            spec.judge("endotoxins", "<1", "EU/mL").unwrap().outcome,
            QcOutcome::Fail
        );
        assert_eq!(
            spec.judge("viability", "<95", "%").unwrap().outcome,
            QcOutcome::Fail
        );
        assert_eq!(
            spec.judge("viability", ">=90", "%").unwrap().outcome,
            QcOutcome::Pass
        );
    }

    #[test]
    fn categorical_words_compare_loosely() {
        let spec = msc_spec();
        assert_eq!(
            spec.judge("sterility", "No Growth", "").unwrap().outcome,
            QcOutcome::Pass
        );
        assert_eq!(
            spec.judge("sterility", "no_growth", "").unwrap().value,
            "no_growth"
        );
        assert_eq!(
            spec.judge("sterility", "growth", "").unwrap().outcome,
            QcOutcome::Fail
        );
    }

    #[test]
    fn refusals_name_their_field() {
        let spec = msc_spec();
        let unknown = spec.judge("karyotype", "normal", "").unwrap_err();
        assert_eq!(unknown.field(), "test");
        let unit = spec.judge("viability", "90", "percent").unwrap_err();
        assert_eq!(unit.field(), "unit");
        let value = spec.judge("viability", "ninety", "%").unwrap_err();
        assert_eq!(value.field(), "value");
    }

    #[test]
    fn incoherent_specifications_are_refused_with_every_reason() {
        let errors = Specification::new(vec![
            numeric("viability", "%", Some(dec!(90)), Some(dec!(80))),
            numeric("viability", "%", None, None),
            SpecTest {
                expected: None,
                ..categorical("Sterility", "")
            },
        ])
        .unwrap_err()
        .0;
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "specification[0].min",
                "specification[1].test",
                "specification[2].test",
                "specification[2].expected"
            ]
        );
    }

    fn listed(test: &str, expected: &str, values: &[&str]) -> SpecTest {
        SpecTest {
            values: values.iter().map(|v| (*v).to_owned()).collect(),
            ..categorical(test, expected)
        }
    }

    #[test]
    fn a_listed_categorical_test_takes_only_its_values() {
        let spec = Specification::new(vec![listed(
            "mycoplasma",
            "negative",
            &["negative", "positive"],
        )])
        .unwrap();
        assert_eq!(
            spec.judge("mycoplasma", "Negative", "").unwrap().outcome,
            QcOutcome::Pass
        );
        assert_eq!(
            spec.judge("mycoplasma", "positive", "").unwrap().outcome,
            QcOutcome::Fail
        );
        // A word of another language, or a typing slip, is refused, not judged out of spec.
        let refused = spec.judge("mycoplasma", "negativo", "").unwrap_err();
        assert_eq!(refused.field(), "value");
        assert_eq!(
            refused,
            QcRefusal::NotAmongValues {
                value: "negativo".into(),
                values: vec!["negative".into(), "positive".into()],
            }
        );
        // Without a list, any word is judged against the expected one (results stored before
        // lists existed stay as they were).
        let open = Specification::new(vec![categorical("sterility", "no growth")]).unwrap();
        assert_eq!(
            open.judge("sterility", "negativo", "").unwrap().outcome,
            QcOutcome::Fail
        );
    }

    #[test]
    fn a_list_of_values_must_hold_the_expected_one_once() {
        let errors = |t: SpecTest| {
            Specification::new(vec![t])
                .unwrap_err()
                .0
                .into_iter()
                .map(|e| e.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            errors(listed("mycoplasma", "negative", &["positive", "detected"])),
            ["specification[0].expected"]
        );
        assert_eq!(
            errors(listed("mycoplasma", "negative", &["negative", "Negative"])),
            ["specification[0].values"]
        );
        assert_eq!(
            errors(SpecTest {
                values: vec!["high".into()],
                ..numeric("viability", "%", None, None)
            }),
            ["specification[0].values"]
        );
        // An empty list is left out of the stored JSON: old specifications keep their form.
        let json = serde_json::to_string(&categorical("sterility", "no_growth")).unwrap();
        assert!(!json.contains("values"), "{json}");
    }
}
