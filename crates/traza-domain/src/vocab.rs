//! Closed vocabularies of the domain. Every enum travels as a snake_case string (in JSON, in the
//! database and in CSV files), so each one has `as_str`, `FromStr` and string serde.

/// A value that is not one of a vocabulary's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a valid {kind}; expected one of: {}", expected.join(", "))]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
    pub expected: &'static [&'static str],
}

impl crate::problem::Explain for UnknownValue {
    fn problem(&self) -> Option<crate::problem::Problem> {
        Some(crate::problem::Problem::NotOneOf {
            text: self.value.clone(),
            values: self.expected.iter().map(|v| (*v).to_owned()).collect(),
        })
    }
}

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $kind:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            const WORDS: &'static [&'static str] = &[$($text),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::vocab::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::vocab::UnknownValue { kind: $kind, value: s.to_owned(), expected: Self::WORDS }),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::schema::words($kind, Self::WORDS)
            }
        }
        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

// Other modules' closed vocabularies (the CSV columns, the import's issue codes) get the same
// spelling rules and serde without a second copy of the machinery.
pub(crate) use vocabulary;

vocabulary! {
    /// ATMP classes of Regulation (EC) 1394/2007 Art. 2.
    AtmpClass, "ATMP class" {
        SomaticCellTherapy => "somatic_cell_therapy",
        TissueEngineered => "tissue_engineered",
        GeneTherapy => "gene_therapy",
        Combined => "combined",
    }
}

vocabulary! {
    /// Autologous: donor and patient are the same person, one batch for one patient.
    /// Allogeneic: one donor, many doses, many patients.
    Origin, "origin" {
        Autologous => "autologous",
        Allogeneic => "allogeneic",
    }
}

vocabulary! {
    /// The Spanish routes by which an ATMP reaches a patient.
    AccessRoute, "access route" {
        /// Ensayo clínico (EudraCT or EU CT number).
        ClinicalTrial => "clinical_trial",
        /// Uso compasivo, RD 1015/2009.
        CompassionateUse => "compassionate_use",
        /// Exención hospitalaria, RD 477/2014.
        HospitalExemption => "hospital_exemption",
    }
}

vocabulary! {
    LabStatus, "laboratory status" {
        Active => "active",
        Suspended => "suspended",
    }
}

vocabulary! {
    ProductStatus, "product status" {
        Active => "active",
        Withdrawn => "withdrawn",
    }
}

vocabulary! {
    /// Status of a batch; only [`crate::batch::Transition`] moves it.
    BatchStatus, "batch status" {
        InProduction => "in_production",
        Quarantine => "quarantine",
        Released => "released",
        Rejected => "rejected",
        Administered => "administered",
    }
}

vocabulary! {
    Role, "role" {
        Admin => "admin",
        Coordinator => "coordinator",
        LabStaff => "lab_staff",
        Qa => "qa",
        Auditor => "auditor",
    }
}

vocabulary! {
    /// Deviation classes are convention, not law (EU GMP Part IV §11.4 only asks that each be
    /// assessed and closed before certification).
    DeviationSeverity, "deviation severity" {
        Minor => "minor",
        Major => "major",
        Critical => "critical",
    }
}

vocabulary! {
    DeviationStatus, "deviation status" {
        Open => "open",
        Closed => "closed",
    }
}

vocabulary! {
    QcOutcome, "QC outcome" {
        Pass => "pass",
        Fail => "fail",
    }
}

vocabulary! {
    /// Meaning of an electronic signature (21 CFR 11.50(a)(3)): what the signer attests.
    SignatureMeaning, "signature meaning" {
        QpCertified => "qp_certified",
        Rejected => "rejected",
        /// QA of the laboratory confirms an imported released batch before it reaches a
        /// patient (SPEC §2 "Imported history never reaches a patient unchecked").
        HistoricalReleaseConfirmed => "historical_release_confirmed",
        /// QA of the laboratory releases a material lot from quarantine (SPEC §8).
        MaterialReleased => "material_released",
        /// QA of the laboratory rejects a material lot, with a reason (SPEC §8).
        MaterialRejected => "material_rejected",
        /// A master batch record version approved (SPEC §8).
        MbrApproved => "mbr_approved",
        /// A step of a guided batch performed, and its verification by a second person.
        Performed => "performed",
        Checked => "checked",
        /// QA's review of a batch-record exception.
        ExceptionReviewed => "exception_reviewed",
    }
}

vocabulary! {
    /// Cleanroom grade of EU GMP Annex 1, A the cleanest. A step that needs a grade may be done
    /// in a room of that grade or a cleaner one.
    RoomGrade, "room grade" {
        A => "A",
        B => "B",
        C => "C",
        D => "D",
    }
}

impl RoomGrade {
    /// Whether a room of this grade is clean enough for a step that needs `required`.
    pub fn suits(self, required: RoomGrade) -> bool {
        self <= required
    }
}

vocabulary! {
    /// Where a master batch record stands. Only `draft` and `approved` are written; `effective`
    /// and `superseded` follow from the dates (see [`crate::mbr::MasterRecord::status_on`]).
    MbrStatus, "master record status" {
        Draft => "draft",
        Approved => "approved",
        Effective => "effective",
        Superseded => "superseded",
    }
}

vocabulary! {
    /// What a batch-record exception is about (SPEC §8).
    ExceptionKind, "exception kind" {
        ParameterOutOfLimits => "parameter_out_of_limits",
        OutOfOrder => "out_of_order",
        QuantityDiffers => "quantity_differs",
        Correction => "correction",
        LateEntry => "late_entry",
    }
}

vocabulary! {
    ExceptionSeverity, "exception severity" {
        Minor => "minor",
        Major => "major",
        Critical => "critical",
    }
}

vocabulary! {
    /// Where a write came from; recorded on every audit event.
    Source, "source" {
        Api => "api",
        Cli => "cli",
        Import => "import",
    }
}

vocabulary! {
    /// A numeric QC test is judged against decimal limits, a categorical one against a word.
    TestKind, "test kind" {
        Numeric => "numeric",
        Categorical => "categorical",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_round_trips() {
        for status in BatchStatus::ALL {
            assert_eq!(status.as_str().parse::<BatchStatus>(), Ok(*status));
        }
        for class in AtmpClass::ALL {
            assert_eq!(class.as_str().parse::<AtmpClass>(), Ok(*class));
        }
    }

    #[test]
    fn unknown_word_lists_the_expected_ones() {
        let err = "released!".parse::<BatchStatus>().unwrap_err();
        assert!(err.to_string().contains("in_production, quarantine"));
        assert_eq!(err.kind, "batch status");
    }

    #[test]
    fn serde_uses_the_snake_case_word() {
        let json = serde_json::to_string(&AccessRoute::HospitalExemption).unwrap();
        assert_eq!(json, "\"hospital_exemption\"");
        let back: AccessRoute = serde_json::from_str(&json).unwrap();
        assert_eq!(back, AccessRoute::HospitalExemption);
        assert!(serde_json::from_str::<AccessRoute>("\"HOSPITAL\"").is_err());
    }
}
