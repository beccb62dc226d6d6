//! The checks of a historical row that need the network: the product and laboratory it
//! names, and the assignments that authorised (or did not) making it there.

use super::columns::Column;
use super::errors::{IssueCode, RowError, RowWarning};
use super::row::{HistoricalRow, field_error};
use crate::batch::authorised_trials;
use crate::codes::TrialId;
use crate::network::{Assignment, Laboratory, Product, covering_assignment};
use crate::vocab::AccessRoute;

/// The access route a row was made by: the one it states, or, when it states none, the
/// product's route if the product has only one (no other was possible). `None` when the
/// row is silent and the product offers several. A stated route is returned as stated, even
/// one the product does not offer; [`check_against_network`] reports that.
pub fn resolved_route(row: &HistoricalRow, product: &Product) -> Option<AccessRoute> {
    row.access_route.or_else(|| {
        let mut routes = product.access_routes.iter();
        match (routes.next(), routes.next()) {
            (Some(only), None) => Some(*only),
            _ => None,
        }
    })
}

/// Checks a row read by [`crate::history::HistoryReader`] against the network: `product` and
/// `lab` are what the row's codes name (`None` when the network has no such product or
/// laboratory), `assignments` those of that product to that laboratory (others are ignored).
///
/// Errors: an unknown product or laboratory; an origin that is not the product's; an access
/// route that cannot be told or that the product does not offer; a clinical-trial route,
/// taken from the product, without a trial id. Warning: no assignment covered the start of
/// manufacture. That is not an error, because history predates Traza and its assignments
/// (SPEC §4), and for the same reason neither a withdrawn product nor a suspended laboratory
/// is held against a row: they were what they were when the batch was made.
pub fn check_against_network(
    row: &HistoricalRow,
    line: u64,
    product: Option<&Product>,
    lab: Option<&Laboratory>,
    assignments: &[Assignment],
) -> (Vec<RowError>, Vec<RowWarning>) {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    if lab.is_none() {
        errors.push(RowError::new(
            line,
            Some(Column::LabCode.as_str()),
            IssueCode::UnknownLab,
            format!("the network has no laboratory {}", row.lab_code),
        ));
    }
    let Some(product) = product else {
        errors.push(RowError::new(
            line,
            Some(Column::ProductCode.as_str()),
            IssueCode::UnknownProduct,
            format!("the network has no product {}", row.product_code),
        ));
        return (errors, warnings);
    };
    if row.origin != product.origin {
        errors.push(RowError::new(
            line,
            Some(Column::Origin.as_str()),
            IssueCode::OriginMismatch,
            format!(
                "{} is {}, but the row says {}",
                product.code, product.origin, row.origin
            ),
        ));
    }
    let offered = || {
        product
            .access_routes
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match resolved_route(row, product) {
        None => errors.push(RowError::new(
            line,
            Some(Column::AccessRoute.as_str()),
            IssueCode::MissingValue,
            format!(
                "access_route is required: {} is offered by more than one route ({})",
                product.code,
                offered()
            ),
        )),
        Some(route) if !product.access_routes.contains(&route) => errors.push(RowError::new(
            line,
            Some(Column::AccessRoute.as_str()),
            IssueCode::RouteNotOffered,
            format!(
                "{} is not offered by the route {route}, only by: {}",
                product.code,
                offered()
            ),
        )),
        Some(route) => {
            // Reading the row could not apply the trial-id rule to a route it did not state;
            // now the route is known. Only that rule: the others were applied then.
            if row.access_route.is_none() {
                errors.extend(
                    row.fields(route)
                        .field_errors()
                        .into_iter()
                        .filter(|e| e.field == Column::TrialId.as_str())
                        .map(|e| field_error(line, e, row.trial_id.is_none())),
                );
            }
            if lab.is_some()
                && covering_assignment(
                    assignments,
                    &row.product_code,
                    &row.lab_code,
                    route,
                    row.manufacturing_start,
                )
                .is_none()
            {
                warnings.push(RowWarning::new(
                    line,
                    Some(Column::ManufacturingStart.as_str()),
                    IssueCode::NoAssignment,
                    format!(
                        "no assignment of {} to {} by {route} covered {}; the batch is imported as history",
                        row.product_code, row.lab_code, row.manufacturing_start
                    ),
                ));
            }
            if let Some(authorised) = authorised_trials(
                assignments,
                &row.product_code,
                &row.lab_code,
                route,
                row.manufacturing_start,
            ) && !row
                .trial_id
                .as_ref()
                .is_some_and(|t| authorised.contains(t))
            {
                let names: Vec<&str> = authorised.iter().map(TrialId::as_str).collect();
                warnings.push(RowWarning::new(
                    line,
                    Some(Column::TrialId.as_str()),
                    IssueCode::TrialMismatch,
                    format!(
                        "on {} {} was made at {} only for clinical trial {}; the batch is imported as history",
                        row.manufacturing_start,
                        row.product_code,
                        row.lab_code,
                        names.join(", ")
                    ),
                ));
            }
        }
    }
    (errors, warnings)
}
