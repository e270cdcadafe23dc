//! Every input saved under `fuzz/regressions/<target>/` (inputs that once broke keyhound) and
//! the seed inputs of each target (`fuzz/seeds/<target>/`, the fixture files for the matcher, the
//! built-in rule file for rules) run through its fuzz target's body, so `cargo test` keeps them
//! fixed without a fuzzer or a nightly compiler.

mod fuzz_targets;

use std::path::Path;

fn run_saved(target: &str, body: fn(&[u8]), seeds: Vec<Vec<u8>>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut inputs = seeds;
    for kind in ["regressions", "seeds"] {
        let Ok(entries) = std::fs::read_dir(root.join(kind).join(target)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            inputs.push(std::fs::read(&path).expect("saved input is readable"));
        }
    }
    if root.is_dir() {
        assert!(!inputs.is_empty(), "no saved inputs for {target}");
    } else {
        // A packaged crate: cargo leaves out `fuzz/`, a package of its own.
        eprintln!("fuzz/ is not here: only the built-in inputs of {target} run");
    }
    for (i, data) in inputs.iter().enumerate() {
        let outcome = std::panic::catch_unwind(|| body(data));
        assert!(outcome.is_ok(), "input {i} breaks the {target} target");
    }
}

/// Every file below `dir`, in path order.
fn files_below(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)
            .expect("fixture directory")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn matcher_inputs() {
    // Each fixture file, with a leading byte that picks the chunk size and the matcher's
    // configuration (explaining, decoding depth), as scripts/fuzz.sh seeds the corpus.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let seeds = ["positive", "negative"]
        .iter()
        .flat_map(|d| files_below(&root.join(d)))
        .enumerate()
        .map(|(i, path)| {
            let mut input = vec![(i * 37 % 256) as u8];
            input.extend(std::fs::read(path).expect("fixture is readable"));
            input
        })
        .collect();
    run_saved("matcher", fuzz_targets::matcher, seeds);
}

#[test]
fn rules_inputs() {
    let builtin = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/aws.toml"));
    run_saved(
        "rules",
        fuzz_targets::rules,
        vec![builtin.expect("rules/aws.toml")],
    );
}

#[test]
fn settings_inputs() {
    run_saved("settings", fuzz_targets::settings, Vec::new());
}

#[test]
fn diff_inputs() {
    run_saved("diff", fuzz_targets::diff, Vec::new());
}
