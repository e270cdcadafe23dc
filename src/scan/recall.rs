//! Incremental history audits (`--cache`): what the cache already knows of a repository's
//! objects, what of it a scan reuses, and what a scan adds to it.
//!
//! A blob the cache has seen under the same rule-set digest is not scanned again: its findings
//! (as the matcher made them, before attribution), its binary skip and its size are taken from
//! the cache, so the result is the one a fresh scan gives. Objects that are not blobs are
//! remembered too, so that a re-audit with few new objects can ask git for those alone instead
//! of reading every pack.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use gix_hash::{oid, ObjectId};

use super::{blob_origin, ScanResult};
use crate::cache::{BlobRecord, Cache, CacheError, KnownBlob};
use crate::finding::Finding;
use crate::source::git::objects::Database;
use crate::source::{CacheStats, Origin, SkipReason};

/// What the cache knows of one repository's objects.
pub(super) struct Recall {
    /// Every blob the cache holds for the rule set (of any repository).
    known: HashMap<ObjectId, KnownBlob>,
    /// Every object of the repository, sorted.
    ids: Vec<ObjectId>,
    /// The objects of `ids` the cache knows nothing of.
    unknown: Vec<ObjectId>,
}

/// Blobs scanned by the in-process reader, with their sizes, from every thread.
pub(super) type Seen = Mutex<Vec<(ObjectId, u64)>>;

impl Recall {
    pub(super) fn load(cache: &Cache, database: &Database) -> Result<Recall, CacheError> {
        let known = cache.known()?;
        let others = cache.known_others()?;
        let ids = database.object_ids();
        let unknown = ids
            .iter()
            .filter(|id| !known.contains_key(*id) && !others.contains(*id))
            .copied()
            .collect();
        Ok(Recall {
            known,
            ids,
            unknown,
        })
    }

    /// Whether a blob is still to be scanned.
    pub(super) fn is_new(&self, id: &oid) -> bool {
        !self.known.contains_key(id)
    }

    /// The objects of the repository the cache knows nothing of.
    pub(super) fn unknown(&self) -> &[ObjectId] {
        &self.unknown
    }

    /// Whether so few objects are new that asking git for them one by one costs less than
    /// reading every pack (which inflates every object, scanned or not).
    pub(super) fn mostly_known(&self) -> bool {
        self.unknown.len() * 4 < self.ids.len()
    }

    /// Records what this scan read: the `seen` blobs, with their outcome in `result` (taken
    /// before attribution), and, when the scan covered every object (`all_objects_read`),
    /// the objects that turned out not to be blobs. Blobs and objects that could not be read,
    /// and archives, are left out, so the next audit reads them again.
    pub(super) fn record(
        &self,
        cache: &Cache,
        seen: &[(ObjectId, u64)],
        result: &ScanResult,
        unreadable: &[String],
        all_objects_read: bool,
    ) -> Result<(), CacheError> {
        // Keyed by object id: the few findings and skips are parsed once, so the many blobs
        // seen are looked up without a string each.
        let blob_of = |origin: &Origin| match origin.outermost() {
            Origin::Git { blob, .. } => ObjectId::from_hex(blob.as_bytes()).ok(),
            _ => None,
        };
        let mut findings: HashMap<ObjectId, Vec<Finding>> = HashMap::new();
        for finding in &result.findings {
            if let Some(id) = blob_of(&finding.origin) {
                findings.entry(id).or_default().push(finding.clone());
            }
        }
        let mut binary = HashSet::new();
        let mut failed: HashSet<ObjectId> = unreadable
            .iter()
            .chain(&result.archive_blobs)
            .filter_map(|hex| ObjectId::from_hex(hex.as_bytes()).ok())
            .collect();
        for (origin, reason) in &result.stats.skipped {
            if let Some(id) = blob_of(origin) {
                match reason {
                    SkipReason::Binary => binary.insert(id),
                    _ => failed.insert(id),
                };
            }
        }
        let mut records = Vec::with_capacity(seen.len());
        for &(id, bytes) in seen {
            if failed.contains(&id) {
                continue;
            }
            let record = BlobRecord {
                bytes,
                binary: binary.contains(&id),
                findings: findings.remove(&id).unwrap_or_default(),
            };
            records.push((id, record));
        }
        cache.record(&records)?;
        if all_objects_read {
            let blobs: HashSet<ObjectId> = seen.iter().map(|(id, _)| *id).collect();
            let others: Vec<ObjectId> = self
                .unknown
                .iter()
                .filter(|id| !blobs.contains(*id) && !failed.contains(*id))
                .copied()
                .collect();
            cache.record_others(&others)?;
        }
        Ok(())
    }

    /// Adds to `result` what the cache holds of this repository's blobs (those `wanted`, or
    /// all): their findings, their binary skips, their counts, as a scan of them would.
    pub(super) fn recall(
        &self,
        cache: &Cache,
        wanted: Option<&HashSet<ObjectId>>,
        result: &mut ScanResult,
    ) -> Result<(), CacheError> {
        let mut with_findings = Vec::new();
        let mut from_cache = 0;
        for id in &self.ids {
            let Some(blob) = self.known.get(id) else {
                continue;
            };
            if wanted.is_some_and(|w| !w.contains(id)) {
                continue;
            }
            from_cache += 1;
            if blob.binary {
                let origin = blob_origin(id.to_string());
                result.stats.skipped.push((origin, SkipReason::Binary));
                continue;
            }
            result.stats.files_scanned += 1;
            result.stats.bytes_scanned += blob.bytes;
            if blob.has_findings {
                with_findings.push(*id);
            }
        }
        for (_, findings) in cache.findings(&with_findings)? {
            result.findings.extend(findings);
        }
        let stats = result.stats.cache.get_or_insert_with(CacheStats::default);
        stats.blobs_from_cache += from_cache;
        Ok(())
    }

    /// What the cache knew of the repository, for the log.
    pub(super) fn describe(&self) -> String {
        format!(
            "the cache knows {} of the repository's {} objects; {} are new",
            self.ids.len() - self.unknown.len(),
            self.ids.len(),
            self.unknown.len()
        )
    }
}
