//! The `keyhound` binary: parse flags, start logging, run, map the outcome to an exit status
//! (0 clean, 1 secrets found, 2 error or incomplete scan).

use std::fs::OpenOptions;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;

use keyhound::cli::{CheckArgs, Cli, Command, ListArgs, RulesCommand, ScanArgs};
use keyhound::config;
use keyhound::matcher::examples::check_examples;
use keyhound::report::{self, Report};
use keyhound::rules::RuleSet;
use keyhound::scan::scan;

/// Exit status when the scan could not complete or failed.
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let quiet = matches!(&cli.command, Command::Scan(args) if args.output.quiet);
    init_logging(cli.verbose, quiet);
    match run(cli) {
        Ok(status) => ExitCode::from(status),
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            let mut stderr = io::stderr().lock();
            let _ = writeln!(stderr, "error: {error}");
            for cause in error.chain().skip(1) {
                let _ = writeln!(stderr, "  caused by: {cause}");
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Scan(args) => run_scan(args),
        Command::Rules(RulesCommand::List(args)) => list_rules(args),
        Command::Rules(RulesCommand::Check(args)) => check_rules(args),
    }
}

fn run_scan(args: ScanArgs) -> Result<u8> {
    let rules = config::load_rules(&args.rules)?;
    let options = config::scan_options(&args);
    let result = scan(&rules, &options)?;
    let output = &args.output;
    let report = Report {
        findings: &result.findings,
        stats: &result.stats,
        rules: &rules,
        show_secrets: output.show_secrets,
        color: config::use_color(output.color, output.output.is_none()),
    };
    match &output.output {
        Some(path) => {
            let file = create_report_file(path, output.show_secrets)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = BufWriter::new(file);
            report::write(output.format, &report, &mut out).and_then(|()| out.flush())
        }
        None => {
            let mut out = BufWriter::new(io::stdout().lock());
            report::write(output.format, &report, &mut out).and_then(|()| out.flush())
        }
    }
    .context("cannot write the report")?;
    if !output.quiet {
        let summary = Report {
            color: false,
            ..report
        };
        report::write_summary(&summary, &mut io::stderr().lock())?;
    }
    let failing = result.findings.iter().any(|f| f.confidence.fails_scan());
    Ok(if failing {
        output.exit_code
    } else if result.stats.incomplete() {
        EXIT_ERROR
    } else {
        0
    })
}

/// Creates the report file; owner-only when it will hold unredacted secrets.
fn create_report_file(path: &std::path::Path, holds_secrets: bool) -> io::Result<std::fs::File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if holds_secrets {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        return Ok(file);
    }
    let _ = holds_secrets;
    options.open(path)
}

fn list_rules(args: ListArgs) -> Result<u8> {
    let rules = config::load_rules(&args.rules)?;
    let mut out = BufWriter::new(io::stdout().lock());
    let width = rules.all().iter().map(|r| r.id.len()).max().unwrap_or(0);
    for rule in rules.all() {
        let state = if rule.enabled {
            ""
        } else {
            "  (off by default; --enable-rule)"
        };
        writeln!(
            out,
            "{:<width$}  {:<8}  {}{state}",
            rule.id,
            rule.severity.as_str(),
            rule.name
        )?;
    }
    out.flush()?;
    Ok(0)
}

fn check_rules(args: CheckArgs) -> Result<u8> {
    let rules = if args.files.is_empty() {
        RuleSet::builtin()?
    } else {
        let mut rules = RuleSet::empty();
        for path in &args.files {
            rules.add_path(path)?;
        }
        rules
    };
    let failures = check_examples(&rules);
    let mut stderr = io::stderr().lock();
    for failure in &failures {
        writeln!(stderr, "error: {failure}")?;
    }
    if failures.is_empty() {
        let examples: usize = rules
            .all()
            .iter()
            .map(|r| r.examples.len() + r.negative_examples.len())
            .sum();
        writeln!(
            stderr,
            "{} rules ok, {examples} examples checked",
            rules.all().len()
        )?;
        Ok(0)
    } else {
        writeln!(stderr, "{} examples failed", failures.len())?;
        Ok(1)
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Logs go to stderr: warnings by default, errors only with --quiet, more with -v;
/// `KEYHOUND_LOG` (e.g. `keyhound=debug`) overrides.
fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("KEYHOUND_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .without_time()
        .with_target(false)
        .with_ansi(io::stderr().is_terminal())
        .init();
}
