//! Flags → a validated configuration: compiled rules and scan options, built once per run.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::{ColorChoice, ReadArgs, RuleArgs, ScanArgs};
use crate::rules::RuleSet;
use crate::scan::{ReadOptions, ScanOptions};
use crate::source::files::WalkOptions;

/// Loads the built-in rules, then the user's rule files, then applies enable/disable flags.
pub fn load_rules(args: &RuleArgs) -> Result<RuleSet> {
    let mut rules = RuleSet::builtin().context("the built-in rules are invalid")?;
    for path in &args.rule_paths {
        rules.add_path(path).context("cannot load rules")?;
    }
    rules.enable(&args.enable)?;
    rules.disable(&args.disable)?;
    Ok(rules)
}

/// Scan options from the `scan` flags.
pub fn scan_options(args: &ScanArgs) -> ScanOptions {
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
        },
        stdin,
        read: read_options(&args.read),
    }
}

/// Read options from the input flags every source shares.
pub fn read_options(args: &ReadArgs) -> ReadOptions {
    ReadOptions {
        scan_binary: args.scan_binary,
        chunk_size: args.chunk_size,
    }
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
