//! Every input saved under `fuzz/regressions/<target>/` (inputs that once broke keyhound) and
//! `fuzz/seeds/<target>/` runs through its fuzz target's body, so `cargo test` keeps them fixed
//! without a fuzzer or a nightly compiler.

mod fuzz_targets;

use std::path::Path;

fn run_saved(target: &str, body: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut inputs = 0;
    for kind in ["regressions", "seeds"] {
        let Ok(entries) = std::fs::read_dir(root.join(kind).join(target)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let data = std::fs::read(&path).expect("saved input is readable");
            let outcome = std::panic::catch_unwind(|| body(&data));
            assert!(
                outcome.is_ok(),
                "{} breaks the {target} target",
                path.display()
            );
            inputs += 1;
        }
    }
    assert!(inputs > 0, "no saved inputs for {target}");
}

#[test]
fn matcher_inputs() {
    run_saved("matcher", fuzz_targets::matcher);
}

#[test]
fn rules_inputs() {
    run_saved("rules", fuzz_targets::rules);
}

#[test]
fn settings_inputs() {
    run_saved("settings", fuzz_targets::settings);
}

#[test]
fn diff_inputs() {
    run_saved("diff", fuzz_targets::diff);
}
