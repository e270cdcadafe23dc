//! Flags → a validated configuration: compiled rules and scan options, built once per run.

use std::io::IsTerminal;
use std::path::Path;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Deserialize;
use toml::Spanned;

use crate::filter::accept::Accept;
use crate::filter::allowlist::Allowlist;

use crate::audit::{self, AuditOptions, RepoEntry};
use crate::aws::AccountList;
use crate::cache::Cache;
use crate::cli::{
    AuditArgs, ColorChoice, GitArgs, MergeArgs, OutputArgs, ReadArgs, RespondArgs, RuleArgs,
    ScanArgs, VerifyArgs,
};
use crate::respond::calls::Endpoints;
use crate::respond::RespondOptions;
use crate::rules::RuleSet;
use crate::scan::{cache_digest, ReadOptions, ScanOptions};
use crate::source::files::{PathFilter, WalkOptions};
use crate::source::git::history::HistoryOptions;
use crate::verify::VerifyOptions;

/// The names a config file may have, looked for at the scan root.
pub const CONFIG_NAMES: [&str; 2] = ["keyhound.toml", ".keyhound.toml"];

/// Rules and allowlists for one run, from the flags and the config file.
pub struct Settings {
    pub rules: RuleSet,
    pub allowlists: Vec<Allowlist>,
    /// Inputs accepted as unread (`[[accept]]`).
    pub accepts: Vec<Accept>,
    /// Accounts whose keys `--verify` never sends (`[verify] skip_accounts`).
    pub verify_skip_accounts: HashSet<String>,
    /// The directory allowlist paths are relative to: the config file's, else the root the
    /// config file was looked for in.
    pub config_dir: PathBuf,
}

impl Settings {
    /// What tells a path that an allowlist for every rule covers (relative to the current
    /// directory, as reports show paths): nothing found there would be reported.
    fn allowed_paths(&self) -> Option<PathFilter> {
        let allowlists: Vec<Allowlist> = self
            .allowlists
            .iter()
            .filter(|a| a.allows_some_path())
            .cloned()
            .collect();
        if allowlists.is_empty() {
            return None;
        }
        Some(PathFilter(std::sync::Arc::new(move |path: &Path| {
            let shown = crate::source::Origin::file(path).display_path();
            allowlists
                .iter()
                .any(|a| a.allows_path(&shown, Path::new(".")).is_some())
        })))
    }
}

/// Loads the built-in rules, then the config file's rule files and the `--rules` files, then
/// applies the config file's `disabled_rules` and the enable/disable flags. The config file is
/// `--config`, or `keyhound.toml` / `.keyhound.toml` in `root`.
pub fn load_settings(args: &RuleArgs, root: &Path) -> Result<Settings> {
    let mut rules = RuleSet::builtin().context("the built-in rules are invalid")?;
    let config_path = match &args.config {
        Some(path) => Some(path.clone()),
        None => CONFIG_NAMES
            .iter()
            .map(|name| root.join(name))
            .find(|p| p.is_file()),
    };
    let mut allowlists = Vec::new();
    let mut accepts = Vec::new();
    let mut disabled = Vec::new();
    let mut verify_skip_accounts = HashSet::new();
    if let Some(path) = &config_path {
        let file = ConfigFile::load(path)?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for rule_file in &file.rules {
            rules
                .add_path(&dir.join(rule_file))
                .context("cannot load rules named in the config file")?;
        }
        allowlists = file.allowlists(path, &dir)?;
        accepts = file.accepts(path, &dir)?;
        disabled = file.disabled_rules.clone();
        for account in &file.verify.skip_accounts {
            let account = crate::aws::check_id(account)
                .map_err(|e| anyhow::anyhow!("{}: [verify] skip_accounts: {e}", path.display()))?;
            verify_skip_accounts.insert(account);
        }
    }
    for path in &args.rule_paths {
        rules.add_path(path).context("cannot load rules")?;
    }
    rules.disable(&disabled).with_context(|| {
        format!(
            "{}: disabled_rules",
            config_path
                .as_deref()
                .unwrap_or(Path::new("config"))
                .display()
        )
    })?;
    rules.enable(&args.enable)?;
    rules.disable(&args.disable)?;
    for note in rules.notes() {
        tracing::warn!("{note}");
    }
    let config_dir = match config_path.as_deref().map(Path::parent) {
        Some(Some(dir)) => dir.to_path_buf(),
        _ => root.to_path_buf(),
    };
    Ok(Settings {
        config_dir,
        rules,
        allowlists,
        accepts,
        verify_skip_accounts,
    })
}

/// `keyhound.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    /// Rule ids to turn off.
    #[serde(default)]
    disabled_rules: Vec<String>,
    /// Extra rule files, relative to the config file.
    #[serde(default)]
    rules: Vec<PathBuf>,
    #[serde(default)]
    allowlist: AllowlistSpec,
    #[serde(default)]
    verify: VerifySpec,
    /// Inputs known to be unreadable, accepted as such.
    #[serde(default)]
    accept: Vec<AcceptSpec>,
    #[serde(skip)]
    text: String,
}

/// `[[accept]]`: a path (a gitignore-style glob, relative to the config file) whose inputs may
/// be unreadable without making the scan incomplete, and why.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptSpec {
    path: Spanned<String>,
    reason: String,
}

/// `[verify]`: what live verification never sends.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifySpec {
    /// 12-digit accounts whose keys are never sent, besides `--verify-skip-accounts`.
    #[serde(default)]
    skip_accounts: Vec<String>,
}

/// `[allowlist]`, and `[allowlist.rules.<rule-id>]` for one rule.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowlistSpec {
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    regexes: Vec<Spanned<String>>,
    #[serde(default)]
    secrets: Vec<String>,
    #[serde(default)]
    rules: BTreeMap<String, AllowlistSpec>,
}

impl ConfigFile {
    fn load(path: &Path) -> Result<ConfigFile> {
        let text = crate::textfile::read(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        let mut file: ConfigFile =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        file.text = text;
        Ok(file)
    }

    /// Compiles the `[[accept]]` entries; a glob that does not compile, or an entry without a
    /// reason, is an error naming the file and line.
    fn accepts(&self, path: &Path, dir: &Path) -> Result<Vec<Accept>> {
        self.accept
            .iter()
            .map(|spec| {
                let line = self.text[..spec.path.span().start].matches('\n').count() + 1;
                if spec.reason.trim().is_empty() {
                    anyhow::bail!("{}: line {line}: accept.reason: say why", path.display());
                }
                Accept::new(dir, spec.path.get_ref(), &spec.reason).map_err(|message| {
                    anyhow::anyhow!("{}: line {line}: accept.path: {message}", path.display())
                })
            })
            .collect()
    }

    /// Compiles the allowlists; a glob or regex that does not compile is an error naming the
    /// file, line and key.
    fn allowlists(&self, path: &Path, dir: &Path) -> Result<Vec<Allowlist>> {
        let mut out = Vec::new();
        let mut specs: Vec<(Option<String>, &AllowlistSpec)> = vec![(None, &self.allowlist)];
        for (rule, spec) in &self.allowlist.rules {
            if !spec.rules.is_empty() {
                anyhow::bail!(
                    "{}: allowlist.rules.{rule}: rule allowlists cannot nest",
                    path.display()
                );
            }
            specs.push((Some(rule.clone()), spec));
        }
        for (rule, spec) in specs {
            let key = rule
                .as_ref()
                .map_or("allowlist".to_string(), |r| format!("allowlist.rules.{r}"));
            for (field, values) in [("paths", &spec.paths), ("regexes", &spec.regexes)] {
                for value in values {
                    let check = if field == "paths" {
                        Allowlist::new(dir, None, std::slice::from_ref(value.get_ref()), &[], &[])
                    } else {
                        Allowlist::new(dir, None, &[], std::slice::from_ref(value.get_ref()), &[])
                    };
                    if let Err(message) = check {
                        let line = self.text[..value.span().start].matches('\n').count() + 1;
                        anyhow::bail!("{}: line {line}: {key}.{field}: {message}", path.display());
                    }
                }
            }
            let strings =
                |v: &[Spanned<String>]| v.iter().map(|s| s.get_ref().clone()).collect::<Vec<_>>();
            out.push(
                Allowlist::new(
                    dir,
                    rule,
                    &strings(&spec.paths),
                    &strings(&spec.regexes),
                    &spec.secrets,
                )
                .map_err(|m| anyhow::anyhow!("{}: {key}: {m}", path.display()))?,
            );
        }
        Ok(out)
    }
}

/// Scan options from the `scan` flags; paths an allowlist for every rule covers are not read
/// (unless `--explain` asks what they hold).
pub fn scan_options(args: &ScanArgs, settings: &Settings) -> ScanOptions {
    let stdin = args.paths.iter().any(|p| p == Path::new("-"));
    let paths = args
        .paths
        .iter()
        .filter(|p| *p != Path::new("-"))
        .cloned()
        .collect();
    ScanOptions {
        walk: WalkOptions {
            paths,
            threads: args.read.threads,
            gitignore: args.gitignore,
            excludes: args.exclude.clone(),
            follow: args.follow,
            max_file_size: args.max_file_size,
            // `--explain` reads them, to say why what is there is not reported.
            not_read: settings.allowed_paths().filter(|_| !args.output.explain),
        },
        stdin,
        read: read_options(&args.read, &args.output),
    }
}

/// Read options from the input flags every source shares.
pub fn read_options(args: &ReadArgs, output: &OutputArgs) -> ReadOptions {
    ReadOptions {
        scan_binary: args.scan_binary,
        chunk_size: args.chunk_size,
        explain: output.explain,
        decode_depth: args.max_decode_depth,
        archives: crate::source::archive::Limits {
            max_depth: args.max_archive_depth,
            max_bytes: args.max_archive_bytes,
        },
    }
}

/// The repositories an audit covers: the list of `--repos` (a file, or `-` for standard
/// input), narrowed to `--shard`.
pub fn audit_entries(args: &AuditArgs) -> Result<Vec<RepoEntry>> {
    let (text, base) = if args.repos == Path::new("-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .context("cannot read the repository list from standard input")?;
        (text, PathBuf::from("."))
    } else {
        let text = std::fs::read_to_string(&args.repos)
            .with_context(|| format!("cannot read the repository list {}", args.repos.display()))?;
        let base = args
            .repos
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        (text, base)
    };
    let mut entries = audit::parse_list(&text, &base);
    if entries.is_empty() {
        anyhow::bail!("{} lists no repository", args.repos.display());
    }
    if let Some(shard) = args.shard {
        entries.retain(|entry| shard.holds(entry));
        tracing::info!("shard {shard}: {} repositories", entries.len());
    }
    Ok(entries)
}

/// Opens the `--cache` file for the rules and read options of a history scan; a file that
/// cannot serve as a cache is an error before anything is scanned.
pub fn open_cache(path: &Path, rules: &RuleSet, read: &ReadOptions) -> Result<Cache> {
    Ok(Cache::open(path, &cache_digest(rules, read))?)
}

/// How an audit reads and scans each repository; `rules` key the records of `--cache`, which
/// is checked here.
pub fn audit_options(args: &AuditArgs, rules: &RuleSet) -> Result<AuditOptions> {
    let read = read_options(&args.read, &args.output);
    let cache = match &args.cache {
        Some(path) => {
            open_cache(path, rules, &read)?;
            Some((path.clone(), cache_digest(rules, &read)))
        }
        None => None,
    };
    Ok(AuditOptions {
        history: HistoryOptions {
            refs: args.branches.clone(),
            all_objects: args.all_objects,
        },
        read,
        threads: args.read.threads,
        at_once: usize::from(args.concurrency),
        keep_clones: args.keep_clones.clone(),
        cache,
    })
}

/// What `keyhound scan` reads, in words, for reports that say so (the HTML page).
pub fn scan_subject(args: &ScanArgs) -> String {
    let paths: Vec<String> = args
        .paths
        .iter()
        .map(|path| match path.to_string_lossy() {
            dash if dash == "-" => "standard input".to_string(),
            shown => shown.into_owned(),
        })
        .collect();
    paths.join(", ")
}

/// What `keyhound git` reads, in words: the staged changes, a range, or the history.
pub fn git_subject(args: &GitArgs) -> String {
    let repo = args.repo.display();
    if args.staged {
        return format!("the staged changes of {repo}");
    }
    if let Some(range) = &args.range {
        return format!("the commits {range} of {repo}");
    }
    if let Some(since) = &args.since {
        return format!("the commits {since}..HEAD of {repo}");
    }
    let mut subject = format!("the history of {repo}");
    if !args.branches.is_empty() {
        subject.push_str(&format!(" (refs {})", args.branches.join(", ")));
    }
    if args.all_objects {
        subject.push_str(", and its unreachable objects");
    }
    subject
}

/// What `keyhound audit` reads, in words: the repositories of a list, or of a shard of it.
pub fn audit_subject(args: &AuditArgs) -> String {
    let list = args.repos.display();
    match &args.shard {
        Some(shard) => format!("shard {shard} of the repositories listed in {list}"),
        None => format!("the repositories listed in {list}"),
    }
}

/// What `keyhound merge` reads, in words.
pub fn merge_subject(args: &MergeArgs) -> String {
    let reports: Vec<String> = args
        .reports
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    format!("the reports {}", reports.join(", "))
}

/// Whether text output is coloured.
pub fn use_color(choice: ColorChoice, to_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            to_terminal && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
        }
    }
}

/// The endpoint of `service` as the AWS SDKs choose it: `AWS_ENDPOINT_URL_<SERVICE>`, else
/// `AWS_ENDPOINT_URL`, else `default`.
fn endpoint_for(service: &str, default: &str) -> String {
    endpoint_override(service).unwrap_or_else(|| default.to_string())
}

/// The endpoint the environment names for `service`, if it names one.
fn endpoint_override(service: &str) -> Option<String> {
    [
        format!("AWS_ENDPOINT_URL_{service}"),
        "AWS_ENDPOINT_URL".to_string(),
    ]
    .iter()
    .find_map(|name| {
        std::env::var(name)
            .ok()
            .filter(|url| !url.trim().is_empty())
    })
}

/// What `respond`'s flags ask for, with each service's endpoint from `AWS_ENDPOINT_URL_<SERVICE>`
/// or `AWS_ENDPOINT_URL` (as the AWS SDKs read them), else AWS's own.
pub fn respond_options(args: &RespondArgs) -> RespondOptions {
    RespondOptions {
        profile: args.profile.clone(),
        endpoints: Endpoints {
            sts: endpoint_for("STS", crate::verify::DEFAULT_ENDPOINT),
            iam: endpoint_for("IAM", crate::verify::iam::DEFAULT_ENDPOINT),
            ec2: endpoint_override("EC2"),
            cloudtrail: endpoint_override("CLOUDTRAIL"),
        },
        regions: args.regions.clone(),
        days: args.days,
        max_pages: args.max_pages,
        apply: args.apply,
        quarantine: args.quarantine,
        log: args.log.clone(),
        timeout: std::time::Duration::from_secs(u64::from(args.timeout)),
        settle: std::time::Duration::from_secs(u64::from(args.settle)),
    }
}

/// The verification options the flags ask for; the accounts never sent are those of
/// `--verify-skip-accounts` and of the config file.
pub fn verify_options(args: &VerifyArgs, settings: &Settings) -> Result<VerifyOptions> {
    let mut skip_accounts = match &args.verify_skip_accounts {
        Some(path) => AccountList::load(path)?.0,
        None => HashSet::new(),
    };
    skip_accounts.extend(settings.verify_skip_accounts.iter().cloned());
    Ok(VerifyOptions {
        endpoint: args
            .sts_endpoint
            .clone()
            .unwrap_or_else(|| endpoint_for("STS", crate::verify::DEFAULT_ENDPOINT)),
        iam_endpoint: args
            .analyze
            .then(|| endpoint_for("IAM", crate::verify::iam::DEFAULT_ENDPOINT)),
        concurrency: usize::from(args.verify_concurrency),
        timeout: std::time::Duration::from_secs(u64::from(args.verify_timeout)),
        skip_accounts,
        ..VerifyOptions::default()
    })
}
