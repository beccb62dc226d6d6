//! Batch views as last read, by batch id and (version, stamp), so that reading a batch costs
//! one narrow query (its id, version, stamp and laboratory), not seven, and the API answers
//! with bytes already serialised.
//!
//! Coherent by construction, also across `traza serve` processes and against SQL typed
//! straight into the database: every write through Traza that changes a batch's row or adds
//! one of its records bumps the batch's version in the same transaction (`save_batch`,
//! `attached::bump_version`), and database triggers move the batch's `stamp` on any other
//! change of the row or of the records its view holds (migration `m20261205_000001`). A read
//! always asks the database for the batch's current pair first. An entry is used only for the
//! very pair it was read at, and it was read with the row in one snapshot, so it holds
//! exactly that state's view. Nothing is ever deleted, so ids are never reused.
//!
//! Bounded by weight (the serialised size of a view), not by count: two generations, the newer
//! filled until it holds half the budget, when it becomes the older and the older is dropped.
//! A hit in the older generation moves the entry to the newer, so what is read often stays.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use serde::Serialize;

/// What the cache may hold in all, about: the serialised views' bytes plus a fixed overhead
/// per entry for the decoded view beside them.
const BUDGET: usize = 48 * 1024 * 1024;
/// The decoded view, the map entry and the `Arc`, beside the JSON (a rough, generous figure).
const ENTRY_OVERHEAD: usize = 1024;

/// One batch's view at one version, and its JSON once someone asked for it. Generic over the
/// view (the store's `BatchView`), so that this leaf knows nothing of batches.
pub struct CachedView<V> {
    pub view: V,
    json: OnceLock<Bytes>,
}

impl<V: Serialize> CachedView<V> {
    pub fn new(view: V) -> CachedView<V> {
        CachedView {
            view,
            json: OnceLock::new(),
        }
    }

    /// The view as the API sends it (`serde_json`; the store's records serialise without
    /// failing: string keys, no floats).
    pub fn json(&self) -> Bytes {
        self.json
            .get_or_init(|| Bytes::from(serde_json::to_vec(&self.view).unwrap_or_default()))
            .clone()
    }

    /// The weight an entry counts for: its JSON and the overhead of the decoded view. The
    /// JSON is made here once, so that a page's read weighs what an API read does.
    fn weight(&self) -> usize {
        self.json().len() + ENTRY_OVERHEAD
    }
}

/// What an entry is valid for: the batch's (version, stamp) as read with it. Both only grow.
pub type Version = (i64, i64);

type Generation<V> = HashMap<i64, (Version, Arc<CachedView<V>>)>;

struct Generations<V> {
    newer: Generation<V>,
    newer_weight: usize,
    older: Generation<V>,
}

impl<V> Default for Generations<V> {
    fn default() -> Self {
        Generations {
            newer: HashMap::new(),
            newer_weight: 0,
            older: HashMap::new(),
        }
    }
}

impl<V: Serialize> Generations<V> {
    fn insert(&mut self, id: i64, version: Version, view: Arc<CachedView<V>>) {
        let weight = view.weight();
        if self.newer_weight + weight > BUDGET / 2 {
            self.older = std::mem::take(&mut self.newer);
            self.newer_weight = 0;
        }
        self.older.remove(&id);
        if let Some((_, old)) = self.newer.insert(id, (version, view)) {
            self.newer_weight = self.newer_weight.saturating_sub(old.weight());
        }
        self.newer_weight += weight;
    }
}

pub struct ViewCache<V> {
    generations: Mutex<Generations<V>>,
}

impl<V> Default for ViewCache<V> {
    fn default() -> Self {
        ViewCache {
            generations: Mutex::new(Generations::default()),
        }
    }
}

impl<V: Serialize> ViewCache<V> {
    /// The view of batch `id` at `version` (with its stamp), if cached for that very pair.
    pub fn get(&self, id: i64, version: Version) -> Option<Arc<CachedView<V>>> {
        let mut g = self.generations.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((v, view)) = g.newer.get(&id) {
            return (*v == version).then(|| Arc::clone(view));
        }
        let (v, view) = g.older.get(&id)?;
        if *v != version {
            return None;
        }
        let view = Arc::clone(view);
        g.insert(id, version, Arc::clone(&view));
        Some(view)
    }

    pub fn put(&self, id: i64, version: Version, view: Arc<CachedView<V>>) {
        let mut g = self.generations.lock().unwrap_or_else(|e| e.into_inner());
        // A slower reader must not replace a newer version with its older one.
        let newest = g
            .newer
            .get(&id)
            .or_else(|| g.older.get(&id))
            .map(|(v, _)| *v);
        if newest.is_none_or(|v| v <= version) {
            g.insert(id, version, view);
        }
    }

    /// Entries and weight held now (for tests and the benchmark's explanation of memory).
    #[cfg(test)]
    fn held(&self) -> (usize, usize) {
        let g = self.generations.lock().unwrap_or_else(|e| e.into_inner());
        (g.newer.len() + g.older.len(), g.newer_weight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A view as small as a batch's, with a text that makes it heavier at will.
    #[derive(Serialize)]
    struct View {
        batch_number: &'static str,
        notes: String,
    }

    fn cached(notes: &str) -> Arc<CachedView<View>> {
        Arc::new(CachedView::new(View {
            batch_number: "GRA-UPCIT-2026-00001",
            notes: notes.to_owned(),
        }))
    }

    #[test]
    fn an_entry_serves_only_its_own_version_and_never_goes_back() {
        let cache = ViewCache::<View>::default();
        cache.put(7, (3, 0), cached("a"));
        assert!(cache.get(7, (3, 0)).is_some());
        assert!(
            cache.get(7, (4, 0)).is_none(),
            "a newer version is read afresh"
        );
        assert!(cache.get(8, (3, 0)).is_none());
        cache.put(7, (5, 0), cached("b"));
        cache.put(7, (4, 0), cached("c"));
        assert!(
            cache.get(7, (5, 0)).is_some(),
            "an older read does not replace a newer one"
        );
        assert!(cache.get(7, (4, 0)).is_none());
        // The same version with a moved stamp (a change made outside Traza) is read afresh.
        assert!(cache.get(7, (5, 1)).is_none());
        cache.put(7, (5, 1), cached("d"));
        assert!(cache.get(7, (5, 0)).is_none());
        assert_eq!(cache.get(7, (5, 1)).unwrap().view.notes, "d");
    }

    #[test]
    fn the_json_is_the_view_serialised() {
        let view = cached("nota");
        let json: serde_json::Value = serde_json::from_slice(&view.json()).unwrap();
        assert_eq!(json, serde_json::to_value(&view.view).unwrap());
        assert_eq!(json["notes"], "nota");
        assert_eq!(json["batch_number"], "GRA-UPCIT-2026-00001");
    }

    #[test]
    fn the_weight_stays_within_the_budget_and_what_is_read_stays() {
        let cache = ViewCache::<View>::default();
        // Views of about 4 KiB: the budget holds some thousands, not the 50,000 put.
        let long = "x".repeat(3000);
        let per_entry = cached(&long).weight();
        for id in 0..50_000 {
            cache.put(id, (1, 0), cached(&long));
            // Batch 0 is read all the time: it is never dropped.
            assert!(cache.get(0, (1, 0)).is_some(), "the hot entry went at {id}");
        }
        let (entries, newer_weight) = cache.held();
        assert!(newer_weight <= BUDGET / 2);
        assert!(
            entries * per_entry <= BUDGET + per_entry,
            "{entries} entries of {per_entry} bytes exceed the budget"
        );
        assert!(entries > 1000, "only {entries} entries kept");
    }
}
