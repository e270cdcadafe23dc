//! The `keyhound` binary: parse flags, start logging, run, map the outcome to an exit status
//! (0 clean, 1 secrets found, 2 error or incomplete scan).

use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{CommandFactory, Parser};

use keyhound::audit::{self, AuditProgress};
use keyhound::cli::{
    AuditArgs, CheckArgs, Cli, Command, GitArgs, HookCommand, HookInstallArgs, ListArgs, MergeArgs,
    OutputArgs, RespondArgs, RulesCommand, ScanArgs,
};
use keyhound::conclude::{self, Presentation, Verdict};
use keyhound::config;
use keyhound::config::Settings;
use keyhound::hook::{self, Installed};
use keyhound::matcher::examples::check_examples;
use keyhound::merge;
use keyhound::report;
use keyhound::respond;
use keyhound::rules::RuleSet;
use keyhound::scan::scan;
use keyhound::scan::{scan_changes, scan_history, scan_submodules, Progress, ScanResult};
use keyhound::source::git::history::HistoryOptions;
use keyhound::source::git::{changes, Repo};
use std::path::{Path, PathBuf};

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
        Command::Git(args) => run_git(args),
        Command::Audit(args) => run_audit(args),
        Command::Merge(args) => run_merge(args),
        Command::Respond(args) => run_respond(args),
        Command::Hook(HookCommand::Install(args)) => install_hook(args),
        Command::Rules(RulesCommand::List(args)) => list_rules(args),
        Command::Rules(RulesCommand::Check(args)) => check_rules(args),
        Command::Completions { shell } => {
            let mut command = Cli::command();
            let mut out = io::stdout().lock();
            clap_complete::generate(shell, &mut command, "keyhound", &mut out);
            Ok(0)
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command()).render(&mut io::stdout().lock())?;
            Ok(0)
        }
    }
}

fn run_scan(args: ScanArgs) -> Result<u8> {
    check_outputs(&args.output)?;
    // The config file is looked for beside what is scanned: in the first directory given.
    let root = args
        .paths
        .iter()
        .find(|p| p.is_dir())
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."));
    let settings = config::load_settings(&args.rules, &root)?;
    let options = config::scan_options(&args, &settings);
    let result = scan(&settings.rules, &options)?;
    // Reported paths are as walked, relative to the current directory.
    let subject = config::scan_subject(&args);
    finish(result, settings, Path::new("."), &args.output, &subject)
}

fn run_git(args: GitArgs) -> Result<u8> {
    check_outputs(&args.output)?;
    let repo = Repo::open(&args.repo)?;
    // Git paths are relative to the repository's root, where its config file lives too.
    let root = repo
        .repo
        .workdir()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo.git_dir.clone());
    let settings = config::load_settings(&args.rules, &root)?;
    let rules = &settings.rules;
    let read = config::read_options(&args.read, &args.output);
    let range = args
        .range
        .clone()
        .or_else(|| args.since.as_ref().map(|rev| format!("{rev}..HEAD")));
    let result = if args.staged {
        scan_changes(rules, &repo, changes::staged(&repo)?, &read)
    } else if let Some(range) = range {
        scan_changes(rules, &repo, changes::range(&repo, &range)?, &read)
    } else {
        let history = HistoryOptions {
            refs: args.branches.clone(),
            all_objects: args.all_objects,
        };
        let cache = match &args.cache {
            Some(path) => Some(config::open_cache(path, rules, &read)?),
            None => None,
        };
        let progress = Progress::default();
        let show = !args.no_progress && !args.output.quiet && io::stderr().is_terminal();
        let mut result = with_progress(
            show,
            |secs| objects_line(&progress, secs),
            || {
                let threads = args.read.threads;
                scan_history(
                    rules,
                    &repo,
                    &history,
                    &read,
                    threads,
                    &progress,
                    cache.as_ref(),
                )
            },
        )?;
        if args.recurse_submodules {
            scan_submodules(
                &repo,
                rules,
                &history,
                &read,
                args.read.threads,
                &mut result,
            )?;
        }
        result
    };
    let subject = config::git_subject(&args);
    let (status, result) = finish_keeping(result, &settings, &root, &args.output, &subject)?;
    if args.staged && status != 0 && result.findings.iter().any(|f| f.fails_scan()) {
        let count = report::group(&result.findings)
            .iter()
            .filter(|g| g.fails_scan())
            .count();
        eprintln!(
            "keyhound: commit blocked: the staged changes add {count} secret{} (listed above).\n\
             Remove {} from the staged files (edit, then `git add`), and rotate any key that was \
             ever pushed or shared.\nIf it is not a secret, add a `keyhound:allow` comment on its line \
             (or commit once with `git commit --no-verify`).",
            if count == 1 { "" } else { "s" },
            if count == 1 { "it" } else { "them" },
        );
    }
    Ok(status)
}

/// Runs `work` while a thread redraws a one-line progress display on stderr (when `show`),
/// the line `render` makes of the seconds elapsed.
fn with_progress<T>(
    show: bool,
    render: impl Fn(f64) -> String + Sync,
    work: impl FnOnce() -> T,
) -> T {
    use std::sync::atomic::Ordering::Relaxed;
    if !show {
        return work();
    }
    let done = std::sync::atomic::AtomicBool::new(false);
    let started = std::time::Instant::now();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(200));
                let secs = started.elapsed().as_secs_f64().max(0.001);
                eprint!("\r\x1b[2K{}", render(secs));
            }
            eprint!("\r\x1b[2K");
        });
        let value = work();
        done.store(true, Relaxed);
        value
    })
}

/// "N/M objects, X MiB scanned, R MiB/s, ETA Ss" for a history scan.
fn objects_line(progress: &Progress, secs: f64) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    let (objects, total) = (
        progress.objects.load(Relaxed),
        progress.objects_total.load(Relaxed),
    );
    let bytes = progress.bytes.load(Relaxed) as f64 / 1048576.0;
    let eta = if objects > 0 {
        total.saturating_sub(objects) as f64 * secs / objects as f64
    } else {
        0.0
    };
    format!(
        "{objects}/{total} objects, {bytes:.0} MiB scanned, {:.0} MiB/s, ETA {eta:.0}s",
        bytes / secs
    )
}

/// "D/T repositories, " and the objects line, the ETA from the repositories done.
fn audit_line(progress: &AuditProgress, secs: f64) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    let (done, total) = (
        progress.repos_done.load(Relaxed),
        progress.repos_total.load(Relaxed),
    );
    let scan = &progress.scan;
    let bytes = scan.bytes.load(Relaxed) as f64 / 1048576.0;
    let eta = if done > 0 {
        format!(
            "{:.0}s",
            total.saturating_sub(done) as f64 * secs / done as f64
        )
    } else {
        "?".to_string()
    };
    format!(
        "{done}/{total} repositories, {} objects, {bytes:.0} MiB scanned, {:.0} MiB/s, ETA {eta}",
        scan.objects.load(Relaxed),
        bytes / secs
    )
}

fn run_audit(args: AuditArgs) -> Result<u8> {
    check_outputs(&args.output)?;
    let entries = config::audit_entries(&args)?;
    // The config file is looked for where the list is, unless --config names one.
    let root = args
        .repos
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let settings = config::load_settings(&args.rules, &root)?;
    let options = config::audit_options(&args, &settings.rules)?;
    let progress = AuditProgress::default();
    let show = !args.no_progress && !args.output.quiet && io::stderr().is_terminal();
    let result = with_progress(
        show,
        |secs| audit_line(&progress, secs),
        || audit::audit(&settings.rules, &entries, &options, &progress),
    );
    let base = settings.config_dir.clone();
    let subject = config::audit_subject(&args);
    finish(result, settings, &base, &args.output, &subject)
}

fn run_merge(args: MergeArgs) -> Result<u8> {
    let read = reports_read(&args.reports);
    conclude::check_outputs(args.output.as_deref(), &args.report_targets, &read)?;
    let reviewed = merge::merge(&args.reports)?;
    let rules = config::load_settings(&args.rules, Path::new("."))?.rules;
    let subject = config::merge_subject(&args);
    let how = Presentation {
        format: args.format,
        output: args.output.as_deref(),
        reports: &args.report_targets,
        subject: Some(&subject),
        color: args.color,
        // A merged report shows the secrets as the merged reports did.
        show_secrets: false,
        quiet: args.quiet,
        explain: false,
        verify_only: None,
        accepts_findings: false,
    };
    let verdict = conclude::report(&reviewed, &rules, &how)?;
    Ok(exit_status(verdict, args.exit_code))
}

fn run_respond(args: RespondArgs) -> Result<u8> {
    let mut kept = reports_read(&args.reports);
    kept.extend(args.log.as_deref().map(|log| ("the log", log)));
    conclude::check_outputs(args.output.as_deref(), &args.report_targets, &kept)?;
    let (keys, reported_at) = respond::leaked::read_reports(&args.reports)?;
    let options = config::respond_options(&args);
    let response = respond::respond(&keys, &reported_at, &options)?;
    // No card holds a secret.
    conclude::write_reports(
        args.format,
        args.output.as_deref(),
        &args.report_targets,
        false,
        |format, _, out| report::incident::write(&response, format, out),
    )
    .context("cannot write the cards")?;
    Ok(response.exit_status())
}

fn install_hook(args: HookInstallArgs) -> Result<u8> {
    match hook::install(&args.repo, args.force)? {
        Installed::Created(path) => eprintln!("installed {}", path.display()),
        Installed::Updated(path) => eprintln!("updated {}", path.display()),
        Installed::Unchanged(path) => eprintln!("{} is already keyhound's hook", path.display()),
    }
    Ok(0)
}

/// Checks the report files of `output` before the run does any work (see
/// [`conclude::check_outputs`]).
fn check_outputs(output: &OutputArgs) -> Result<()> {
    let baselines: Vec<(&str, &Path)> = [&output.baseline, &output.write_baseline]
        .into_iter()
        .filter_map(|path| Some(("the baseline", path.as_deref()?)))
        .collect();
    conclude::check_outputs(output.output.as_deref(), &output.report_targets, &baselines)
}

/// The reports a command reads, as files no report of it may overwrite.
fn reports_read(paths: &[PathBuf]) -> Vec<(&'static str, &Path)> {
    paths
        .iter()
        .map(|path| ("the report read", path.as_path()))
        .collect()
}

/// Reviews and reports `result`, a scan of `subject`, and maps its verdict to an exit status.
fn finish(
    result: ScanResult,
    settings: Settings,
    base: &Path,
    output: &OutputArgs,
    subject: &str,
) -> Result<u8> {
    let (status, result) = finish_keeping(result, &settings, base, output, subject)?;
    // The command ends here: freeing thousands of findings and the rules' regex caches one
    // allocation at a time would only delay the exit, which frees them all at once.
    std::mem::forget((result, settings));
    Ok(status)
}

/// [`finish`], handing the reviewed result back to the caller.
fn finish_keeping(
    result: ScanResult,
    settings: &Settings,
    base: &Path,
    output: &OutputArgs,
    subject: &str,
) -> Result<(u8, ScanResult)> {
    let reviewed = conclude::review(result, settings, base, output)?;
    let how = Presentation::of(output, subject);
    let verdict = conclude::report(&reviewed, &settings.rules, &how)?;
    Ok((exit_status(verdict, output.exit_code), reviewed.result))
}

/// 0 clean, `--exit-code` (default 1) when secrets were found, 2 when the run was incomplete.
fn exit_status(verdict: Verdict, exit_code: u8) -> u8 {
    match verdict {
        Verdict::Clean => 0,
        Verdict::SecretsFound => exit_code,
        Verdict::Incomplete => EXIT_ERROR,
    }
}

fn list_rules(args: ListArgs) -> Result<u8> {
    let rules = config::load_settings(&args.rules, Path::new("."))?.rules;
    let mut out = BufWriter::new(io::stdout().lock());
    let width = rules.all().iter().map(|r| r.id.len()).max().unwrap_or(0);
    for rule in rules.all() {
        let state = if rule.enabled {
            ""
        } else {
            "  (off; --enable-rule turns it on)"
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
    // Files are checked on top of the built-in rules, which a gitleaks configuration may
    // extend or turn off.
    let mut rules = RuleSet::builtin()?;
    for path in &args.files {
        rules.add_path(path)?;
    }
    let failures = check_examples(&rules);
    let mut stderr = io::stderr().lock();
    for note in rules.notes() {
        writeln!(stderr, "note: {note}")?;
    }
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
        // The AWS SDK's credential chain warns of what it tried; `respond` says in one line
        // what came of it, and -v shows the rest.
        (false, 0) => "warn,aws_config=error,aws_runtime=error,aws_smithy_runtime=error",
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
