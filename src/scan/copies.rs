//! Archives met more than once in a run are read once.
//!
//! Release tarballs carry their predecessors' tarballs, fat JARs the same libraries, images the
//! same layers: the same bytes, again and again, and each copy nested one level deeper. Every
//! archive (or compressed stream) held in memory is known by the SHA-256 of its bytes. The first
//! copy met is read; what it produced (findings, and entries it could not read) is kept, and
//! every other copy gets the same, at its own place, without being read again. A copy met past
//! `--max-archive-depth`, or while the first is still being read (by another thread, or above
//! it, in an archive that holds itself), waits for the end of the run: the copy is then known if
//! any copy was read whole, and only a copy no other stands for is reported as not read.
//!
//! What a run reports is the same whichever copy is read, so the output does not depend on the
//! order threads meet the copies in.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::finding::{fingerprint, Finding, ImageProvenance};
use crate::source::archive::MAX_ENTRIES;
use crate::source::{Origin, SkipReason};

/// The SHA-256 of an archive's bytes.
pub(super) type ContentId = [u8; 32];

/// The id of `bytes`.
pub(super) fn content_id(bytes: &[u8]) -> ContentId {
    Sha256::digest(bytes).into()
}

/// What reading one archive produced, at the place it was read.
#[derive(Debug)]
pub(super) struct Content {
    /// Where it was read.
    pub place: Origin,
    /// Its findings, as the matcher made them (not yet sorted, suppressed or paired).
    pub findings: Vec<Finding>,
    /// What in it was not read, and why.
    pub skipped: Vec<(Origin, SkipReason)>,
    /// Copies of other archives inside it that were deferred while it was read.
    pub deferred: Vec<Deferred>,
    /// The entries it holds, at every depth: what a copy counts against the limit on entries.
    pub entries: u64,
}

impl Content {
    /// What this content gives at `place`: its findings, skips and deferred copies, moved
    /// there.
    pub(super) fn at(&self, place: &Origin) -> Taken {
        let findings = self
            .findings
            .iter()
            .map(|found| {
                let mut finding = found.clone();
                finding.origin = moved(&found.origin, &self.place, place);
                let path = finding.origin.display_path();
                finding.fingerprint =
                    fingerprint(&finding.rule_id, finding.secret.as_bytes(), &path);
                finding
            })
            .collect();
        let skipped = self
            .skipped
            .iter()
            .map(|(origin, why)| (moved(origin, &self.place, place), why.clone()))
            .collect();
        let deferred = self
            .deferred
            .iter()
            .map(|copy| Deferred {
                place: moved(&copy.place, &self.place, place),
                id: copy.id,
                unread: copy.unread.clone(),
                image: copy.image.clone(),
            })
            .collect();
        Taken {
            findings,
            skipped,
            deferred,
        }
    }
}

/// What a copy of an archive gets from the copy that was read.
pub(super) struct Taken {
    pub findings: Vec<Finding>,
    pub skipped: Vec<(Origin, SkipReason)>,
    pub deferred: Vec<Deferred>,
}

/// `origin`, which is at or inside `from`, at the same place inside `to`.
fn moved(origin: &Origin, from: &Origin, to: &Origin) -> Origin {
    if origin == from {
        return to.clone();
    }
    match origin {
        Origin::Inner { outer, entry } => Origin::Inner {
            outer: Arc::new(moved(outer, from, to)),
            entry: entry.clone(),
        },
        other => other.clone(),
    }
}

enum State {
    Reading,
    Read(Arc<Content>),
}

/// What a worker is to do with an archive it meets.
pub(super) enum Claim {
    /// Read it: no copy has been met before.
    Read,
    /// A copy was read: take what it produced ([`Content::at`]).
    Known(Arc<Content>),
    /// A copy is being read: [`Copies::defer`] this one.
    Pending,
}

/// A copy met while another was being read, or past the depth limit: settled at the end.
#[derive(Debug, Clone)]
pub(super) struct Deferred {
    pub place: Origin,
    pub id: ContentId,
    /// Why it was not read where it stands, if no copy is read anywhere.
    pub unread: Option<SkipReason>,
    /// The image layer it is in, if it is in one.
    pub image: Option<ImageProvenance>,
}

/// Every archive a run has met, by content.
#[derive(Default)]
pub(super) struct Copies {
    seen: Mutex<HashMap<ContentId, State>>,
}

impl Copies {
    /// Whether the archive `id` is to be read; a first meeting claims it for the caller, who
    /// must [`Copies::finish`] it.
    pub(super) fn claim(&self, id: ContentId) -> Claim {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        match seen.get(&id) {
            Some(State::Read(content)) => Claim::Known(Arc::clone(content)),
            Some(State::Reading) => Claim::Pending,
            None => {
                seen.insert(id, State::Reading);
                Claim::Read
            }
        }
    }

    /// What a copy of `id` produced, if one was read; claims nothing.
    pub(super) fn known(&self, id: &ContentId) -> Option<Arc<Content>> {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        match seen.get(id) {
            Some(State::Read(content)) => Some(Arc::clone(content)),
            _ => None,
        }
    }

    /// Gives up the claim on `id`: it could not be read whole where it was met, and another
    /// copy may be.
    pub(super) fn release(&self, id: &ContentId) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(State::Reading) = seen.get(id) {
            seen.remove(id);
        }
    }

    /// Records what reading the claimed archive `id` produced.
    pub(super) fn finish(&self, id: ContentId, content: Content) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.insert(id, State::Read(Arc::new(content)));
    }

    /// Settles the copies deferred during the run: each gets what its content produced where
    /// a copy was read, and is reported as not read where none was. Returns the findings (one
    /// list a copy) and the skips.
    pub(super) fn settle(
        &self,
        deferred: Vec<Deferred>,
    ) -> (Vec<Vec<Finding>>, Vec<(Origin, SkipReason)>) {
        let mut findings = Vec::new();
        let mut skipped = Vec::new();
        // Copies settled here count against one limit on entries for the whole run, as the
        // copies taken while reading count against their archive's.
        let mut entries = 0u64;
        // Each copy with the contents it is inside of, outermost first: a copy of one of them
        // inside itself (an archive that holds itself, or two that hold each other) is the
        // same bytes again, already reported, and would otherwise never end.
        let mut deferred: Vec<(Deferred, Vec<ContentId>)> = deferred
            .into_iter()
            .map(|copy| (copy, Vec::new()))
            .collect();
        while let Some((copy, mut within)) = deferred.pop() {
            match self.known(&copy.id) {
                Some(content) if entries + content.entries > MAX_ENTRIES => {
                    let limit = format!("more than {MAX_ENTRIES} entries in copies of archives");
                    skipped.push((copy.place, SkipReason::ArchiveLimit { limit }));
                }
                Some(content) => {
                    entries += content.entries.max(1);
                    let mut taken = content.at(&copy.place);
                    if copy.image.is_some() {
                        for finding in &mut taken.findings {
                            finding.image.clone_from(&copy.image);
                        }
                        for inner in &mut taken.deferred {
                            inner.image.clone_from(&copy.image);
                        }
                    }
                    findings.push(taken.findings);
                    skipped.extend(taken.skipped);
                    within.push(copy.id);
                    let inner = taken.deferred.into_iter();
                    deferred.extend(
                        inner
                            .filter(|inner| !within.contains(&inner.id))
                            .map(|inner| (inner, within.clone())),
                    );
                }
                None => {
                    if let Some(reason) = copy.unread {
                        skipped.push((copy.place, reason));
                    }
                }
            }
        }
        (findings, skipped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_archive_that_holds_itself_is_settled_once() {
        let copies = Copies::default();
        let outer = Origin::file(std::path::Path::new("droste.zip"));
        let inner = outer.inside("droste.zip");
        let id = content_id(b"the same bytes");
        let itself = Deferred {
            place: inner.clone(),
            id,
            unread: None,
            image: None,
        };
        copies.finish(
            id,
            Content {
                place: outer.clone(),
                findings: Vec::new(),
                skipped: vec![(outer.inside("README"), SkipReason::Binary)],
                deferred: vec![itself.clone()],
                entries: 2,
            },
        );
        let (_, skipped) = copies.settle(vec![itself]);
        assert_eq!(skipped, [(inner.inside("README"), SkipReason::Binary)]);
    }

    #[test]
    fn a_place_inside_one_copy_moves_to_the_same_place_inside_another() {
        let first = Origin::file(std::path::Path::new("r5.tgz")).inside("r4.tgz");
        let second = Origin::file(std::path::Path::new("r5.tgz"))
            .inside("r3.tgz")
            .inside("r4.tgz");
        let found = first.inside("r1/.env");
        let there = moved(&found, &first, &second);
        assert_eq!(there.display_path(), "r5.tgz!/r3.tgz!/r4.tgz!/r1/.env");
        assert_eq!(moved(&first, &first, &second), second);
        let elsewhere = Origin::file(std::path::Path::new("other"));
        assert_eq!(moved(&elsewhere, &first, &second), elsewhere);
    }
}
