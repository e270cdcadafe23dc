//! A scan's result → the report and the verdict: the one place every command ends.
//!
//! `scan`, `git`, `audit` and `merge` all hand their findings here. [`review`] applies what the
//! user asked of the findings (allowlists, `--min-confidence`, account names, live verification,
//! the baseline); [`report`] groups them, writes the report and the summary, and says whether the
//! run found secrets or could not complete. `merge` calls only [`report`]: the reports it merges
//! were reviewed by the runs that wrote them.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::ValueEnum;

use crate::aws::AccountNames;
use crate::cli::{ColorChoice, OutputArgs, ReportTarget, VerifyStatus};
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
    /// More report files, each in its own format (`--report`).
    pub reports: &'a [ReportTarget<Format>],
    /// What was scanned, in words, for the reports that say so.
    pub subject: Option<&'a str>,
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
    /// What the output flags of `scan`, `git` and `audit` ask for, of a scan of `subject`.
    pub fn of(output: &'a OutputArgs, subject: &'a str) -> Presentation<'a> {
        Presentation {
            format: output.format,
            output: output.output.as_deref(),
            reports: &output.report_targets,
            subject: Some(subject),
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
    let mut report = Report {
        groups: report::group(shown.as_deref().unwrap_or(&result.findings)),
        suppressed: reviewed.allowed,
        stale_baseline: reviewed.stale_baseline,
        stats: &result.stats,
        rules,
        show_secrets: how.show_secrets,
        color: false,
        // One time for every report of the run.
        written_at: report::written_now(),
        subject: how.subject,
    };
    write_reports(
        how.format,
        how.output,
        how.reports,
        how.show_secrets,
        |format, to_stdout, out| {
            report.color = config::use_color(how.color, to_stdout);
            report::write(format, &report, out)
        },
    )?;
    if !how.quiet {
        report.color = false;
        report::write_summary(&report, &mut io::stderr().lock())?;
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

/// Writes a run's report in `format` to `output` (None: standard output), then each `--report`
/// file in its own format: `write` is given the format, whether it writes to standard output,
/// and where to write. Files are written whole or not at all (see [`output_file`]), readable by
/// their owner alone when they `hold_secrets`.
pub fn write_reports<F: Copy>(
    format: F,
    output: Option<&Path>,
    reports: &[ReportTarget<F>],
    hold_secrets: bool,
    mut write: impl FnMut(F, bool, &mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    match output {
        Some(path) => output_file::write_whole(path, hold_secrets, |out| write(format, false, out))
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut out = BufWriter::new(io::stdout().lock());
            write(format, true, &mut out)
                .and_then(|()| out.flush())
                .context("cannot write the report")?
        }
    }
    for target in reports {
        output_file::write_whole(&target.path, hold_secrets, |out| {
            write(target.format, false, out)
        })
        .with_context(|| format!("cannot write {}", target.path.display()))?;
    }
    Ok(())
}

/// Checks before a run does any work that its report files (`-o` and every `--report`) can be
/// written: each names a file in a directory that exists, and no two name the same file, nor
/// one of the other files of the run in `kept` (what each is, and its path: the baselines, the
/// reports read, a log), which a report would overwrite. A long audit should not end in an
/// error it could have had at its start.
pub fn check_outputs<F>(
    output: Option<&Path>,
    reports: &[ReportTarget<F>],
    kept: &[(&str, &Path)],
) -> Result<()> {
    // A file that is not there yet (`--write-baseline`) is named by where it will be.
    let kept: Vec<(PathBuf, &str, &Path)> = kept
        .iter()
        .filter_map(|(what, path)| Some((file_named(path).ok()?, *what, *path)))
        .collect();
    let mut seen: Vec<(PathBuf, &Path)> = Vec::new();
    for path in output
        .into_iter()
        .chain(reports.iter().map(|t| t.path.as_path()))
    {
        let file = file_named(path)?;
        if let Some((_, first)) = seen.iter().find(|(other, _)| *other == file) {
            bail!(
                "{} and {} are the same file: each report needs a file of its own",
                first.display(),
                path.display()
            );
        }
        if let Some((_, what, other)) = kept.iter().find(|(other, _, _)| *other == file) {
            bail!(
                "the report {} would overwrite {what} {}",
                path.display(),
                other.display()
            );
        }
        seen.push((file, path));
    }
    Ok(())
}

/// The file `path` names, by its directory's canonical path, so that two names of one file
/// compare equal; an error unless the directory exists and `path` is not a directory.
fn file_named(path: &Path) -> Result<PathBuf> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let Some(name) = path.file_name() else {
        bail!("cannot write {}: it names no file", path.display());
    };
    if !dir.is_dir() {
        bail!(
            "cannot write {}: {} is not a directory",
            path.display(),
            dir.display()
        );
    }
    if path.is_dir() {
        bail!("cannot write {}: it is a directory", path.display());
    }
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(dir.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Format;

    fn target(path: &Path) -> ReportTarget<Format> {
        ReportTarget {
            format: Format::Json,
            path: path.to_path_buf(),
        }
    }

    #[test]
    fn report_files_must_differ_and_have_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        let b = dir.path().join("b.sarif");
        check_outputs(Some(&a), &[target(&b)], &[]).unwrap();
        check_outputs::<Format>(None, &[], &[]).unwrap();
        let again = dir.path().join("sub/../a.json");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let twice = check_outputs(Some(&a), &[target(&b), target(&again)], &[]).unwrap_err();
        assert!(
            twice
                .to_string()
                .ends_with("are the same file: each report needs a file of its own"),
            "{twice}"
        );
        let nowhere = dir.path().join("missing/a.html");
        let error = check_outputs(None, &[target(&nowhere)], &[])
            .unwrap_err()
            .to_string();
        assert!(error.contains("missing is not a directory"), "{error}");
        let error = check_outputs(Some(dir.path()), &[target(&a)], &[])
            .unwrap_err()
            .to_string();
        assert!(error.contains("it is a directory"), "{error}");
        // A baseline that is not there yet is protected all the same.
        let baseline = dir.path().join("baseline.json");
        let error = check_outputs(None, &[target(&baseline)], &[("the baseline", &baseline)])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(".json would overwrite the baseline "),
            "{error}"
        );
    }
}
