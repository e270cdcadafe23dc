//! A scan's result → the report and the verdict: the one place every command ends.
//!
//! `scan`, `git`, `audit` and `merge` all hand their findings here. [`review`] applies what the
//! user asked of the findings (allowlists, `--min-confidence`, account names, live verification,
//! the baseline); [`report`] groups them, writes the report and the summary, and says whether the
//! run found secrets or could not complete. `merge` calls only [`report`]: the reports it merges
//! were reviewed by the runs that wrote them.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use clap::ValueEnum;

use crate::aws::AccountNames;
use crate::cli::{ColorChoice, OutputArgs, VerifyStatus};
use crate::config::{self, Settings};
use crate::filter::baseline::Baseline;
use crate::filter::{self, allowlist, Suppression};
use crate::finding::Finding;
use crate::output_file;
use crate::report::{self, Format, Report};
use crate::rules::RuleSet;
use crate::scan::ScanResult;

/// What a run's findings and completeness say, before the exit status it maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every input was read and nothing failing was found.
    Clean,
    /// At least one finding fails the run (not an example, not in the baseline).
    SecretsFound,
    /// Nothing failing was found, but some input could not be read.
    Incomplete,
}

/// A result after [`review`]: its findings are the ones to report.
pub struct Reviewed {
    pub result: ScanResult,
    /// How many findings allow markers and allowlists suppressed.
    pub allowed: usize,
    /// How many baseline entries no finding matched.
    pub stale_baseline: usize,
}

/// How a report is written.
pub struct Presentation<'a> {
    pub format: Format,
    /// The report file (None: standard output).
    pub output: Option<&'a Path>,
    pub color: ColorChoice,
    pub show_secrets: bool,
    /// No summary on stderr.
    pub quiet: bool,
    /// List on stderr what was not reported, and why.
    pub explain: bool,
    /// Report only the findings verification gave this status (the verdict counts all).
    pub verify_only: Option<VerifyStatus>,
    /// The run accepts its findings (`--write-baseline`): only an incomplete run fails.
    pub accepts_findings: bool,
}

impl<'a> Presentation<'a> {
    /// What the output flags of `scan`, `git` and `audit` ask for.
    pub fn of(output: &'a OutputArgs) -> Presentation<'a> {
        Presentation {
            format: output.format,
            output: output.output.as_deref(),
            color: output.color,
            show_secrets: output.show_secrets,
            quiet: output.quiet,
            explain: output.explain,
            verify_only: output.verify.verify_only,
            accepts_findings: output.write_baseline.is_some(),
        }
    }
}

/// Applies the allowlists of `settings` (paths relative to `base`), `--min-confidence`,
/// `--accounts`, `--verify` and the baseline flags of `output` to `result`.
pub fn review(
    mut result: ScanResult,
    settings: &Settings,
    base: &Path,
    output: &OutputArgs,
) -> Result<Reviewed> {
    filter::placed::apply(
        &mut result.findings,
        &mut result.suppressed,
        &settings.rules,
    );
    allowlist::apply(
        &mut result.findings,
        &mut result.suppressed,
        &settings.allowlists,
        base,
    );
    filter::accept::apply(
        &mut result.stats.skipped,
        &settings.accepts,
        &settings.allowlists,
        base,
    );
    let min = output.min_confidence;
    let before = result.suppressed.len();
    filter::suppress(&mut result.findings, &mut result.suppressed, |f| {
        (f.confidence < min).then_some(Suppression::BelowMinConfidence(min))
    });
    let below = result.suppressed.len() - before;
    if below > 0 && !output.quiet {
        tracing::info!("{below} findings below --min-confidence {min} not reported");
    }
    if let Some(path) = &output.accounts {
        let names = AccountNames::load(path)?;
        for account in result
            .findings
            .iter_mut()
            .filter_map(|f| f.aws_account.as_mut())
        {
            account.name = names.name(&account.id).map(str::to_string);
        }
    }
    if output.verify.verify {
        let options = config::verify_options(&output.verify, settings)?;
        let iam = options.iam_endpoint.clone();
        crate::verify::verify(&mut result.findings, &options, |count, endpoint| {
            eprintln!(
                "keyhound: verifying {count} credential{} with STS at {endpoint} (key IDs and \
                 signatures are sent, never a secret)",
                if count == 1 { "" } else { "s" }
            );
            if let Some(iam) = iam {
                eprintln!(
                    "keyhound: reading what each live key may do from IAM at {iam} (read-only \
                     calls, signed with the key itself)"
                );
            }
        });
    }
    let mut stale_baseline = 0;
    if let Some(path) = &output.baseline {
        let baseline = Baseline::load(path)?;
        let stale = baseline.apply(&mut result.findings);
        stale_baseline = stale.len();
        if output.prune_baseline && !stale.is_empty() {
            baseline.without(&stale).write(path)?;
            tracing::info!(
                "removed {} stale entries from {}",
                stale.len(),
                path.display()
            );
            stale_baseline = 0;
        }
    }
    if let Some(path) = &output.write_baseline {
        Baseline::of(&result.findings).write(path)?;
    }
    let allowed = result
        .suppressed
        .iter()
        .filter(|s| s.why.is_allowed())
        .count();
    Ok(Reviewed {
        result,
        allowed,
        stale_baseline,
    })
}

/// Writes the report (to `--output` or standard output), the summary and the explanation, and
/// returns the verdict.
pub fn report(reviewed: &Reviewed, rules: &RuleSet, how: &Presentation<'_>) -> Result<Verdict> {
    let result = &reviewed.result;
    // `--verify-only` narrows the report; the verdict below still counts every finding.
    let shown: Option<Vec<Finding>> = how.verify_only.map(|only| {
        let name = only.to_possible_value().map(|v| v.get_name().to_string());
        result
            .findings
            .iter()
            .filter(|f| {
                let verified = f.verification.as_ref().map(|v| v.status.as_str());
                verified.is_some() && verified == name.as_deref()
            })
            .cloned()
            .collect()
    });
    let report = Report {
        groups: report::group(shown.as_deref().unwrap_or(&result.findings)),
        suppressed: reviewed.allowed,
        stale_baseline: reviewed.stale_baseline,
        stats: &result.stats,
        rules,
        show_secrets: how.show_secrets,
        color: config::use_color(how.color, how.output.is_none()),
    };
    match how.output {
        Some(path) => output_file::write_whole(path, how.show_secrets, |out| {
            report::write(how.format, &report, out)
        })
        .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut out = BufWriter::new(io::stdout().lock());
            report::write(how.format, &report, &mut out)
                .and_then(|()| out.flush())
                .context("cannot write the report")?
        }
    }
    if !how.quiet {
        let summary = Report {
            color: false,
            ..report
        };
        report::write_summary(&summary, &mut io::stderr().lock())?;
    }
    if how.explain {
        report::write_explanation(
            &result.suppressed,
            how.show_secrets,
            &mut io::stderr().lock(),
        )?;
    }
    let failing = !how.accepts_findings && result.findings.iter().any(|f| f.fails_scan());
    Ok(if failing {
        Verdict::SecretsFound
    } else if result.stats.incomplete() {
        Verdict::Incomplete
    } else {
        Verdict::Clean
    })
}
