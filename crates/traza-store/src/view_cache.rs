//! The records of a batch (events, QC results, deviations, signatures, administrations) as
//! last read, by batch id and version, so that reading a batch costs one query, not six.
//!
//! Coherent by construction, also across `traza serve` processes: every write that adds or
//! changes a record of a batch bumps the batch's version in the same transaction, and a read
//! always loads the batch row itself from the database. An entry is used only for the very
//! version it was read at, and it is read with the row in one snapshot, so it holds exactly
//! the records of that version. Nothing is ever deleted, so ids are never reused.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::batches::BatchRecords;

/// Entries kept at most (a batch without records costs about 150 bytes); beyond it the cache
/// starts over.
const CAPACITY: usize = 100_000;

#[derive(Default)]
pub struct ViewCache {
    entries: RwLock<HashMap<i64, (i64, Arc<BatchRecords>)>>,
}

impl ViewCache {
    /// The records of batch `id` at `version`, if cached for that version.
    pub fn get(&self, id: i64, version: i64) -> Option<Arc<BatchRecords>> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&id)
            .filter(|(v, _)| *v == version)
            .map(|(_, r)| Arc::clone(r))
    }

    pub fn put(&self, id: i64, version: i64, records: Arc<BatchRecords>) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY && !entries.contains_key(&id) {
            entries.clear();
        }
        // A slower reader must not replace a newer version with its older one.
        match entries.get(&id) {
            Some((v, _)) if *v > version => {}
            _ => {
                entries.insert(id, (version, records));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_serves_only_its_own_version_and_never_goes_back() {
        let cache = ViewCache::default();
        cache.put(7, 3, Arc::new(BatchRecords::default()));
        assert!(cache.get(7, 3).is_some());
        assert!(cache.get(7, 4).is_none(), "a newer version is read afresh");
        assert!(cache.get(8, 3).is_none());
        cache.put(7, 5, Arc::new(BatchRecords::default()));
        cache.put(7, 4, Arc::new(BatchRecords::default()));
        assert!(
            cache.get(7, 5).is_some(),
            "an older read does not replace a newer one"
        );
        assert!(cache.get(7, 4).is_none());
    }
}
