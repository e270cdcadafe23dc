//! Command-line definitions only: this module mirrors flags, [`crate::config`] gives them meaning.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::Format;
use crate::rules::Confidence;

/// Finds leaked AWS credentials in files and directories.
///
/// keyhound reads everything under the given paths (hidden and git-ignored files included),
/// reports access key IDs, secret access keys, session tokens and other AWS credentials, and
/// redacts the secrets it prints unless --show-secrets is given. It sends nothing anywhere.
#[derive(Debug, Parser)]
#[command(name = "keyhound", version = env!("KEYHOUND_VERSION"), max_term_width = 100)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories (`-` for standard input).
    Scan(ScanArgs),
    /// Scan a git repository: its whole history, a commit range, or the staged changes.
    Git(GitArgs),
    /// Audit the whole history of many repositories, reporting each key once with every
    /// repository it is in.
    Audit(AuditArgs),
    /// Merge JSON reports (of an audit's shards, or of any runs) into one report in any format.
    Merge(MergeArgs),
    /// After a leak: an incident card for each key a JSON report found (whose it is, its status,
    /// last use and CloudTrail activity) and the plan to contain it, carried out with --apply.
    /// Runs with your own AWS credentials, loaded as the AWS CLI loads them.
    Respond(RespondArgs),
    /// Install keyhound as a git pre-commit hook.
    #[command(subcommand)]
    Hook(HookCommand),
    /// List or check rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), for `man -l -` or a man directory.
    Man,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files and directories to scan; `-` reads standard input.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub rules: RuleArgs,

    /// Honour .gitignore, .ignore and git exclude files (by default ignored files are scanned too).
    #[arg(long, help_heading = "Input")]
    pub gitignore: bool,

    /// Skip paths matching GLOB (gitignore syntax; repeatable).
    #[arg(long, value_name = "GLOB", help_heading = "Input")]
    pub exclude: Vec<String>,

    /// Follow symbolic links (loops are detected and reported).
    #[arg(short = 'L', long, help_heading = "Input")]
    pub follow: bool,

    /// Skip files larger than SIZE (bytes, or with a K, M or G suffix); each skip is reported.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Input")]
    pub max_file_size: Option<u64>,

    #[command(flatten)]
    pub read: ReadArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct GitArgs {
    /// The repository (any directory inside it; a bare repository's directory).
    #[arg(value_name = "REPO", default_value = ".")]
    pub repo: PathBuf,

    /// Scan only what the commits of BASE..HEAD add (the pull-request gate).
    #[arg(long, value_name = "BASE..HEAD", conflicts_with_all = ["since", "staged"], help_heading = "Mode")]
    pub range: Option<String>,

    /// Shorthand for --range REV..HEAD.
    #[arg(
        long,
        value_name = "REV",
        conflicts_with = "staged",
        help_heading = "Mode"
    )]
    pub since: Option<String>,

    /// Scan only the lines staged in the index (the pre-commit hook).
    #[arg(long, help_heading = "Mode")]
    pub staged: bool,

    /// Limit a history scan to the history of REF (repeatable; default: every ref).
    #[arg(long = "branch", value_name = "REF", conflicts_with_all = ["range", "since", "staged"], help_heading = "History")]
    pub branches: Vec<String>,

    /// Also scan blobs that no ref reaches (dangling commits, dropped stashes, old packs).
    #[arg(long, conflicts_with_all = ["range", "since", "staged"], help_heading = "History")]
    pub all_objects: bool,

    /// Keep what each blob held in the database FILE (created if absent), and scan only blobs
    /// it has not seen with these rules: a re-audit costs only what is new.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["range", "since", "staged"], help_heading = "History")]
    pub cache: Option<PathBuf>,

    /// Also scan the history of each checked-out submodule.
    #[arg(long, conflicts_with_all = ["range", "since", "staged"], help_heading = "History")]
    pub recurse_submodules: bool,

    /// No progress display on stderr (it is shown only on a terminal anyway).
    #[arg(long, help_heading = "History")]
    pub no_progress: bool,

    #[command(flatten)]
    pub read: ReadArgs,

    #[command(flatten)]
    pub rules: RuleArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The repositories, one a line: a local path (bare or not; relative to the list's
    /// directory) or a clone URL (https://, ssh://, file://, user@host:path). `#` starts a
    /// comment; `-` reads the list from standard input.
    #[arg(long, value_name = "FILE", help_heading = "Audit")]
    pub repos: PathBuf,

    /// Audit only shard K of N (0-based): N processes given 0/N to N-1/N audit every
    /// repository exactly once between them (`keyhound merge` joins their reports).
    #[arg(long, value_name = "K/N", help_heading = "Audit")]
    pub shard: Option<crate::audit::Shard>,

    /// Repositories audited at once.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=256), help_heading = "Audit")]
    pub concurrency: u16,

    /// Keep the clones of URL entries in DIR, and fetch into them instead of cloning next time
    /// (by default each is cloned into a temporary directory and deleted after its audit).
    #[arg(long, value_name = "DIR", help_heading = "Audit")]
    pub keep_clones: Option<PathBuf>,

    /// Limit each history scan to the history of REF (repeatable; default: every ref).
    #[arg(long = "branch", value_name = "REF", help_heading = "History")]
    pub branches: Vec<String>,

    /// Also scan blobs that no ref reaches.
    #[arg(long, help_heading = "History")]
    pub all_objects: bool,

    /// Keep what each blob held in the database FILE (created if absent; one file can serve
    /// every repository and several audits at once), and scan only blobs it has not seen with
    /// these rules.
    #[arg(long, value_name = "FILE", help_heading = "History")]
    pub cache: Option<PathBuf>,

    /// No progress display on stderr (it is shown only on a terminal anyway).
    #[arg(long, help_heading = "History")]
    pub no_progress: bool,

    #[command(flatten)]
    pub read: ReadArgs,

    #[command(flatten)]
    pub rules: RuleArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON reports written by keyhound (`-f json`).
    #[arg(value_name = "REPORT", required = true)]
    pub reports: Vec<PathBuf>,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Text, help_heading = "Output")]
    pub format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// Also write the report in FORMAT to PATH, exactly as `-f FORMAT -o PATH` alone would
    /// (repeatable): one run writes, say, SARIF, JSON and HTML.
    #[arg(long = "report", value_name = "FORMAT:PATH", value_parser = report_target::<Format>, help_heading = "Output")]
    pub report_targets: Vec<ReportTarget<Format>>,

    /// When to colour text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", help_heading = "Output")]
    pub color: ColorChoice,

    /// Exit status when the merged reports hold findings that fail.
    #[arg(long, value_name = "N", default_value_t = 1, help_heading = "Output")]
    pub exit_code: u8,

    /// No summary on stderr.
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,

    /// Rules to describe in SARIF output besides the built-in ones (those the merged runs used).
    #[command(flatten)]
    pub rules: RuleArgs,
}

#[derive(Debug, Args)]
pub struct RespondArgs {
    /// JSON reports written by keyhound (`scan`, `git`, `audit` or `merge` with `-f json`).
    #[arg(value_name = "REPORT", required = true)]
    pub reports: Vec<PathBuf>,

    /// Carry the plan out: deactivate each active key of your account (never delete it),
    /// revoke a temporary key's role sessions, then check the key again.
    #[arg(long)]
    pub apply: bool,

    /// With --apply, also attach AWS's quarantine policy (AWSCompromisedKeyQuarantineV3) to
    /// each key's user.
    #[arg(long)]
    pub quarantine: bool,

    /// The AWS profile of your credentials (default: AWS_PROFILE, then the default chain).
    #[arg(long, value_name = "NAME", help_heading = "AWS")]
    pub profile: Option<String>,

    /// Regions whose CloudTrail is searched, comma-separated (default: every region enabled
    /// for the account).
    #[arg(
        long,
        value_name = "REGION,...",
        value_delimiter = ',',
        help_heading = "AWS"
    )]
    pub regions: Option<Vec<String>>,

    /// How many days of CloudTrail events are searched (CloudTrail keeps 90).
    #[arg(long, value_name = "N", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=90), help_heading = "AWS")]
    pub days: u32,

    /// The most pages of 50 events read per region and key; the card says when there were more.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000), help_heading = "AWS")]
    pub max_pages: u32,

    /// How long, in seconds, a deactivated key is checked again until STS refuses it.
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u16).range(0..=900), help_heading = "AWS")]
    pub settle: u16,

    /// Each request's time limit, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=600), help_heading = "AWS")]
    pub timeout: u16,

    /// Append every AWS call (action, key ID, account, time, result, request ID) to FILE as
    /// JSON lines. Never a secret.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub log: Option<PathBuf>,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = CardFormat::Text, help_heading = "Output")]
    pub format: CardFormat,

    /// Write the cards to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// Also write the cards in FORMAT to PATH, exactly as `-f FORMAT -o PATH` alone would
    /// (repeatable).
    #[arg(long = "report", value_name = "FORMAT:PATH", value_parser = report_target::<CardFormat>, help_heading = "Output")]
    pub report_targets: Vec<ReportTarget<CardFormat>>,
}

/// How `respond` writes its cards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CardFormat {
    Text,
    Json,
    Markdown,
    /// One self-contained page, as `--format html` of the other commands.
    Html,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Write a pre-commit hook that runs `keyhound git --staged` (honours core.hooksPath).
    Install(HookInstallArgs),
}

#[derive(Debug, Args)]
pub struct HookInstallArgs {
    /// The repository.
    #[arg(value_name = "REPO", default_value = ".")]
    pub repo: PathBuf,

    /// Replace an existing pre-commit hook that is not keyhound's.
    #[arg(long)]
    pub force: bool,
}

/// How inputs are read, for every source.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// Scan binary inputs too (those with a NUL byte in their first 8 KiB are skipped by default).
    #[arg(long, help_heading = "Input")]
    pub scan_binary: bool,

    /// Number of scanning threads (default: one per core).
    #[arg(
        short = 'j',
        long,
        value_name = "N",
        default_value_t = 0,
        help_heading = "Input"
    )]
    pub threads: usize,

    /// Layers of encoding to look through around keywords: base64, %XX, \u escapes, HTML
    /// references, split string literals (0: none).
    #[arg(long, value_name = "N", default_value_t = crate::matcher::DEFAULT_DECODE_DEPTH, value_parser = clap::value_parser!(u8).range(0..=4), help_heading = "Input")]
    pub max_decode_depth: u8,

    /// Archives (zip, jar, tar, ...) opened one inside another; compressed streams (gzip, bzip2,
    /// xz, zstd) are opened around them. 0 opens none.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u8).range(0..=16), help_heading = "Input")]
    pub max_archive_depth: u8,

    /// Bytes inflated from one archive, at every depth, before the rest of it is skipped
    /// (bytes, or with a K, M or G suffix): the bound on archive bombs.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size, help_heading = "Input")]
    pub max_archive_bytes: u64,

    /// Bytes each read chunk owns (for testing chunk boundaries).
    #[arg(long, hide = true, default_value_t = crate::source::DEFAULT_CHUNK_SIZE)]
    pub chunk_size: usize,
}

#[derive(Debug, Args)]
pub struct RuleArgs {
    /// Load extra rules from a TOML file or a directory of them (repeatable); a rule with the id
    /// of a built-in rule replaces it.
    #[arg(long = "rules", value_name = "PATH", help_heading = "Rules")]
    pub rule_paths: Vec<PathBuf>,

    /// Turn on a rule that is off by default, such as aws-principal-id (repeatable).
    #[arg(long = "enable-rule", value_name = "ID", help_heading = "Rules")]
    pub enable: Vec<String>,

    /// Turn a rule off (repeatable).
    #[arg(long = "disable-rule", value_name = "ID", help_heading = "Rules")]
    pub disable: Vec<String>,

    /// Config file (default: keyhound.toml or .keyhound.toml at the scan root or repository root).
    #[arg(long, value_name = "FILE", help_heading = "Rules")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Text, help_heading = "Output")]
    pub format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// Also write the report in FORMAT to PATH, exactly as `-f FORMAT -o PATH` alone would
    /// (repeatable): one scan writes, say, SARIF for code scanning, JSON for the archive and
    /// HTML for people (`--report sarif:keyhound.sarif --report html:keyhound.html`).
    #[arg(long = "report", value_name = "FORMAT:PATH", value_parser = report_target::<Format>, help_heading = "Output")]
    pub report_targets: Vec<ReportTarget<Format>>,

    /// When to colour text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", help_heading = "Output")]
    pub color: ColorChoice,

    /// Print secrets in full (they are redacted by default).
    #[arg(long, help_heading = "Output")]
    pub show_secrets: bool,

    /// Name AWS accounts in reports from FILE: TOML (`"123456789012" = "prod"`) or CSV
    /// (`123456789012,prod`).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub accounts: Option<PathBuf>,

    /// After the report, list on stderr every candidate that was not reported and why:
    /// the check it failed (entropy, character mix, placeholder, context, longer token), the
    /// allow marker or allowlist entry, or --min-confidence.
    #[arg(long, alias = "why", help_heading = "Output")]
    pub explain: bool,

    /// Report only findings of this confidence or higher (example < low < medium < high).
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = Confidence::Example, help_heading = "Output")]
    pub min_confidence: Confidence,

    /// Fail only on findings not in this baseline file (see --write-baseline).
    #[arg(long, value_name = "FILE", help_heading = "Baseline")]
    pub baseline: Option<PathBuf>,

    /// Write the fingerprints of this scan's findings to FILE, to accept them as a baseline.
    #[arg(long, value_name = "FILE", help_heading = "Baseline")]
    pub write_baseline: Option<PathBuf>,

    /// With --baseline: rewrite the baseline file without the entries no longer found.
    #[arg(long, requires = "baseline", help_heading = "Baseline")]
    pub prune_baseline: bool,

    /// Exit status to use when secrets are found.
    #[arg(long, value_name = "N", default_value_t = 1, help_heading = "Output")]
    pub exit_code: u8,

    /// Print no summary or warnings on stderr, only errors.
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,

    #[command(flatten)]
    pub verify: VerifyArgs,
}

/// Live verification: off unless `--verify` is given, and then the only network use.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Ask AWS whether each key pair found still works: one signed STS GetCallerIdentity
    /// call per distinct credential (it needs no permission and changes nothing; the secret
    /// itself is never sent, only the key ID and a signature). Canary tokens, documentation
    /// examples and --verify-skip-accounts are never sent.
    #[arg(long, help_heading = "Verification")]
    pub verify: bool,

    /// For each key that verifies live, read what it may do: its own IAM policies, with
    /// read-only calls signed by the key itself (GetUser, ListAttachedUserPolicies,
    /// GetPolicyVersion, …; the role's for a session), evaluated here for a list of
    /// high-impact actions. Nothing is ever written.
    #[arg(long, requires = "verify", help_heading = "Verification")]
    pub analyze: bool,

    /// The STS endpoint to ask (another partition, a proxy, a test stand-in). Without it,
    /// `AWS_ENDPOINT_URL_STS` or `AWS_ENDPOINT_URL` as the AWS SDKs read them, else STS's
    /// global endpoint. IAM's endpoint (`--analyze`) comes from `AWS_ENDPOINT_URL_IAM` or
    /// `AWS_ENDPOINT_URL`, else IAM's global endpoint.
    #[arg(
        long,
        value_name = "URL",
        requires = "verify",
        help_heading = "Verification"
    )]
    pub sts_endpoint: Option<String>,

    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64), requires = "verify", help_heading = "Verification")]
    pub verify_concurrency: u16,

    /// Seconds each request may take.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=600), requires = "verify", help_heading = "Verification")]
    pub verify_timeout: u16,

    /// Report only the findings verification gave this status (for audits: `live`). The exit
    /// status still counts every finding, so a gate never passes a leak because it is dead.
    #[arg(
        long,
        value_enum,
        value_name = "STATUS",
        requires = "verify",
        help_heading = "Verification"
    )]
    pub verify_only: Option<VerifyStatus>,

    /// Never send keys of the accounts listed in FILE (one 12-digit ID a line; `#` comments).
    #[arg(
        long,
        value_name = "FILE",
        requires = "verify",
        help_heading = "Verification"
    )]
    pub verify_skip_accounts: Option<PathBuf>,
}

/// A verification outcome, as `--verify-only` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyStatus {
    /// The key works.
    Live,
    /// No such key, or deactivated.
    Invalid,
    /// The key ID exists; the secret found is not its pair.
    WrongSecret,
    /// Expired temporary credentials.
    Expired,
    /// No trustworthy answer.
    Unknown,
    /// Not sent.
    Skipped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is unset.
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Print the id, severity and name of every loaded rule.
    List(ListArgs),
    /// Load rule files and run their examples; fails naming each rule and example that breaks.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub rules: RuleArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Rule files or directories to check (default: the built-in rules).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// A report file asked for with `--report FORMAT:PATH`, in a format `F` of the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTarget<F> {
    pub format: F,
    pub path: PathBuf,
}

/// Parses `FORMAT:PATH`: a format of `F` by name, then (after the first `:`, so a path may
/// hold colons) the file.
fn report_target<F: ValueEnum>(text: &str) -> Result<ReportTarget<F>, String> {
    let formats = || {
        F::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value())
            .map(|v| v.get_name().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some((name, path)) = text.split_once(':') else {
        return Err(format!(
            "`{text}` is not FORMAT:PATH, such as html:keyhound.html (formats: {})",
            formats()
        ));
    };
    let format = F::from_str(name, true)
        .map_err(|_| format!("`{name}` is not a format (formats: {})", formats()))?;
    if path.is_empty() {
        return Err(format!("`{text}` names no file after `{name}:`"));
    }
    Ok(ReportTarget {
        format,
        path: PathBuf::from(path),
    })
}

/// Parses `123`, `64K`, `10M`, `2G` (binary multiples).
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, multiplier) = match text.char_indices().last() {
        Some((i, 'k' | 'K')) => (&text[..i], 1u64 << 10),
        Some((i, 'm' | 'M')) => (&text[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&text[..i], 1 << 30),
        _ => (text, 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(multiplier))
        .ok_or_else(|| format!("`{text}` is not a size such as 500000, 512K, 10M or 1G"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn report_targets_name_a_format_then_a_file() {
        let target = report_target::<Format>("html:out/report.html").unwrap();
        assert_eq!(target.format, Format::Html);
        assert_eq!(target.path, PathBuf::from("out/report.html"));
        // Only the first colon ends the format's name.
        let target = report_target::<Format>("SARIF:C:\\reports\\a.sarif").unwrap();
        assert_eq!(target.format, Format::Sarif);
        assert_eq!(target.path, PathBuf::from("C:\\reports\\a.sarif"));
        let missing = report_target::<Format>("report.html").unwrap_err();
        assert!(missing.contains("is not FORMAT:PATH"), "{missing}");
        assert!(missing.contains("markdown, html)"), "{missing}");
        let unknown = report_target::<Format>("pdf:a.pdf").unwrap_err();
        assert!(
            unknown.starts_with("`pdf` is not a format (formats: text, json"),
            "{unknown}"
        );
        assert!(report_target::<Format>("json:")
            .unwrap_err()
            .contains("names no file"));
        let card = report_target::<CardFormat>("markdown:cards.md").unwrap();
        assert_eq!(card.format, CardFormat::Markdown);
        assert!(report_target::<CardFormat>("sarif:a").is_err());
        let page = report_target::<CardFormat>("html:cards.html").unwrap();
        assert_eq!(page.format, CardFormat::Html);
    }

    #[test]
    fn sizes_parse_with_suffixes() {
        assert_eq!(parse_size("512").unwrap(), 512);
        assert_eq!(parse_size("4K").unwrap(), 4096);
        assert_eq!(parse_size("10m").unwrap(), 10 << 20);
        assert!(parse_size("ten").is_err());
        assert!(parse_size("99999999999G").is_err());
    }
}
