//! What the batch's refusals say as [`Problem`]s, for a page to say in its language: the
//! dates of an end of manufacture and of an administration.

use crate::batch::{AdministrationRefusal, CompletionRefusal};
use crate::problem::{Explain, Problem};

impl Explain for CompletionRefusal {
    fn problem(&self) -> Option<Problem> {
        match self {
            CompletionRefusal::Transition(_) => None,
            CompletionRefusal::EndsBeforeStart => Some(Problem::BeforeField {
                other: "manufacturing_start".into(),
            }),
            CompletionRefusal::ExpiresBeforeEnd => Some(Problem::AfterExpiry),
        }
    }
}

impl Explain for AdministrationRefusal {
    fn problem(&self) -> Option<Problem> {
        match self {
            AdministrationRefusal::DateOutOfRange { release, today } => {
                Some(Problem::AdministrationDate {
                    today: today.to_string(),
                    release: release.map(|r| r.to_string()),
                })
            }
            _ => None,
        }
    }
}
