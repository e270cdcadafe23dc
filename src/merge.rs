//! JSON reports → one result (`keyhound merge`): the reports of an audit's shards, or of
//! separate `scan` and `git` runs, joined as one run over all their inputs would report them.
//!
//! Findings are regrouped across the reports (one key found by three shards is one finding)
//! and put in report order; the summaries' counts are summed. The reports were reviewed by the
//! runs that wrote them (allowlists, baselines, verification), so merging only reports.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::conclude::Reviewed;
use crate::filter;
use crate::report::json;
use crate::scan::ScanResult;
use crate::source::{AuditStats, GitStats};

/// Reads and joins the JSON reports at `paths`.
pub fn merge(paths: &[PathBuf]) -> Result<Reviewed> {
    let mut result = ScanResult::default();
    let (mut allowed, mut stale_baseline) = (0, 0);
    for path in paths {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let report = json::read(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        result.findings.extend(report.findings);
        allowed += report.allowed;
        stale_baseline += report.stale_baseline;
        let (total, part) = (&mut result.stats, report.stats);
        total.files_scanned += part.files_scanned;
        total.bytes_scanned += part.bytes_scanned;
        total.elapsed += part.elapsed;
        total.skipped.extend(part.skipped);
        if let Some(git) = part.git {
            let sum = total.git.get_or_insert_with(GitStats::default);
            sum.refs += git.refs;
            sum.commits += git.commits;
            sum.shallow |= git.shallow;
            sum.staged |= git.staged;
        }
        if let Some(audit) = part.audit {
            let sum = total.audit.get_or_insert_with(AuditStats::default);
            sum.repositories += audit.repositories;
            sum.failed += audit.failed;
        }
    }
    // A place two reports both hold (the same input scanned twice) is reported once.
    filter::sort_unique(&mut result.findings);
    result.stats.skipped.sort();
    result.stats.skipped.dedup();
    Ok(Reviewed {
        result,
        allowed,
        stale_baseline,
    })
}
