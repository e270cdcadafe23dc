//! History audits match a blob stored as a delta only around what the delta changes.
//!
//! Most blobs of a history are small edits of another blob, and a pack stores them so: as a
//! delta against a base. Every byte such a blob shares with its base sits there with the same
//! neighbours, so a match found only in the shared bytes is in the base too. The audit therefore
//! *probes* a delta blob: it matches only the lines around its changes, as far as anything that
//! decides a match can reach ([`Matcher::find_around`]). When the probe finds
//! nothing and the base (through its own base, and so on) is known to hold no match, the blob
//! holds none. Every other probed blob is scanned whole afterwards ([`to_scan_whole`]), so its
//! findings are exactly those of a whole scan; the probe only decides who needs one.
//!
//! With broad rules (gitleaks' configuration, whose generic rule matches around every `key`
//! and `token`) this is what keeps an audit's cost near that of reading the objects: the
//! history of a large project is read once, but only its edits are matched.

use std::collections::HashMap;
use std::ops::Range;

use gix_hash::ObjectId;

use super::Worker;
use crate::matcher::Around;
use crate::source::is_plain_text;

/// How one blob of a history was scanned.
pub(super) struct BlobScan {
    pub id: ObjectId,
    pub size: u64,
    /// For a probed blob: its delta base.
    pub base: Option<ObjectId>,
    /// Matched as text where it lies, so that the bytes it lends a delta were matched as they
    /// are (not an archive, UTF-16 or binary file).
    pub text: bool,
    /// The scan (or the probe) found something.
    pub found: bool,
}

impl Worker<'_> {
    /// Matches `input` only around its `changed` ranges: `Some(found)`, whether a match lies
    /// there; `None` when the input is not text matched where it lies, and must be scanned
    /// whole.
    pub(super) fn probe_changes(
        &mut self,
        around: &Around,
        input: &[u8],
        changed: &[Range<usize>],
    ) -> Option<bool> {
        if !self.read_as_text(input) {
            return None;
        }
        self.raw.clear();
        self.matcher
            .find_around(around, &mut self.scratch, input, changed, &mut self.raw);
        Some(!self.raw.is_empty())
    }

    /// Whether a whole scan of `input` matches it as text where it lies.
    pub(super) fn read_as_text(&self, input: &[u8]) -> bool {
        is_plain_text(input, self.mode())
    }
}

/// The probed blobs that must be scanned whole: those whose probe found something, and those
/// whose base may hold a match (its scan or probe found one, or an ancestor's did), or was not
/// matched as text in this run (an archive, a binary file, a blob not read), since then what
/// the blob shares with it was never matched.
pub(super) fn to_scan_whole(scans: &[BlobScan]) -> Vec<ObjectId> {
    let by_id: HashMap<&ObjectId, &BlobScan> = scans.iter().map(|s| (&s.id, s)).collect();
    // Whether a blob is known to hold no match, for the blobs decided so far.
    let mut clean: HashMap<&ObjectId, bool> = HashMap::with_capacity(scans.len());
    let mut chain: Vec<&ObjectId> = Vec::new();
    for scan in scans {
        // Walk down to a blob decided already or scanned whole, then decide the chain back up.
        let mut id = &scan.id;
        let verdict = loop {
            if let Some(&known) = clean.get(id) {
                break known;
            }
            let Some(scan) = by_id.get(id) else {
                break false;
            };
            if !scan.text || scan.found {
                break false;
            }
            match &scan.base {
                None => break true,
                // A delta cycle cannot be in a readable pack; should one appear, nothing is
                // taken on trust.
                Some(_) if chain.len() > scans.len() => break false,
                Some(base) => {
                    chain.push(id);
                    id = base;
                }
            }
        };
        if by_id.contains_key(id) {
            clean.entry(id).or_insert(verdict);
        }
        // Each blob walked through is text that found nothing: it is as clean as its base.
        for above in chain.drain(..) {
            clean.insert(above, verdict);
        }
    }
    let mut whole: Vec<ObjectId> = scans
        .iter()
        .filter(|s| s.base.is_some() && !clean.get(&s.id).copied().unwrap_or(false))
        .map(|s| s.id)
        .collect();
    whole.sort_unstable();
    whole.dedup();
    whole
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes_or_panic(&[n; 20])
    }

    fn whole(n: u8, found: bool) -> BlobScan {
        BlobScan {
            id: id(n),
            size: 1,
            base: None,
            text: true,
            found,
        }
    }

    fn probed(n: u8, base: u8, found: bool) -> BlobScan {
        BlobScan {
            id: id(n),
            size: 1,
            base: Some(id(base)),
            text: true,
            found,
        }
    }

    #[test]
    fn a_probe_is_trusted_only_down_a_chain_of_clean_blobs() {
        let scans = [
            whole(1, false),
            probed(2, 1, false),
            probed(3, 2, false),
            probed(4, 3, true),
            probed(5, 4, false),
            probed(6, 5, false),
        ];
        // 4 found something; 5 and 6 share bytes with it.
        assert_eq!(to_scan_whole(&scans), vec![id(4), id(5), id(6)]);
    }

    #[test]
    fn a_base_with_findings_sends_its_deltas_to_a_whole_scan() {
        let scans = [probed(3, 2, false), whole(2, true), probed(4, 2, false)];
        assert_eq!(to_scan_whole(&scans), vec![id(3), id(4)]);
    }

    #[test]
    fn a_base_not_matched_as_text_or_not_read_is_not_trusted() {
        let mut archive = whole(1, false);
        archive.text = false;
        let scans = [
            archive,
            probed(2, 1, false),
            probed(3, 9, false),
            whole(4, false),
        ];
        assert_eq!(to_scan_whole(&scans), vec![id(2), id(3)]);
    }

    #[test]
    fn a_delta_cycle_trusts_nothing() {
        let scans = [probed(1, 2, false), probed(2, 1, false)];
        assert_eq!(to_scan_whole(&scans), vec![id(1), id(2)]);
    }
}
