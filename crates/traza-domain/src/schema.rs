//! OpenAPI schemas of the domain's string types, for the HTTP layer's generated document.
//! Compiled only with the `openapi` feature; the domain itself does not depend on it.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};

/// A string schema with a description and an optional pattern.
pub(crate) fn string(description: &str, pattern: Option<&str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .description(Some(description))
        .pattern(pattern)
        .into()
}

/// A string schema limited to a vocabulary's words.
pub(crate) fn words(description: &str, words: &[&str]) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .description(Some(description))
        .enum_values(Some(words.iter().copied()))
        .into()
}

macro_rules! string_schema {
    ($ty:ty, $description:literal, $pattern:expr) => {
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::schema::string($description, $pattern)
            }
        }
        impl utoipa::ToSchema for $ty {}
    };
}

use crate::codes::{
    BatchNumber, DonorCode, EquipmentId, LabCode, LotId, MaterialCode, PatientCode, ProductCode,
    RoomId, TrialId, Username,
};

string_schema!(
    LabCode,
    "Laboratory code",
    Some("^[A-Z0-9][A-Z0-9-]{1,15}$")
);
string_schema!(
    ProductCode,
    "Product code",
    Some("^[A-Z0-9][A-Z0-9-]{1,23}$")
);
string_schema!(
    BatchNumber,
    "Batch number, unique in the network",
    Some("^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
);
string_schema!(Username, "Username", Some("^[a-z0-9][a-z0-9._-]{1,31}$"));
string_schema!(
    TrialId,
    "EudraCT (YYYY-NNNNNN-CC) or EU CT (YYYY-5NNNNN-NN-NN) number",
    None
);
string_schema!(
    DonorCode,
    "Donor code: ISBT 128 DIN, Single European Code, or pseudonym (canonical form)",
    None
);
string_schema!(PatientCode, "Patient pseudonym (canonical form)", None);

string_schema!(
    MaterialCode,
    "Material code of the network's catalogue",
    Some("^[A-Z0-9][A-Z0-9-]{1,23}$")
);
string_schema!(
    LotId,
    "Material lot id, given at receipt: {LAB}-L{YYYY}-{NNNN}",
    Some("^[A-Z0-9][A-Z0-9-]{1,39}$")
);
string_schema!(
    EquipmentId,
    "Equipment id, unique within its laboratory",
    Some("^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
);
string_schema!(
    RoomId,
    "Room id, unique within its laboratory",
    Some("^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
);
