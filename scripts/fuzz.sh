#!/usr/bin/env bash
# Runs keyhound's fuzz targets (fuzz/fuzz_targets) with libFuzzer through cargo-fuzz.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  how long each target runs (default 600)
#   TARGET   matcher, rules, settings, diff, archive, image, gitleaks, report, aws_reply, cache
#            (default: all ten, one after the other)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). It runs on the stable toolchain: cargo-fuzz's
# sanitizer flags are nightly-only, so the script sets RUSTC_BOOTSTRAP=1 for the fuzz build
# alone. Each target starts from fuzz/seeds/TARGET plus, for the matcher, every fixture file
# and, for rules, the built-in rule file; a target with a dictionary in fuzz/dicts/ gets it
# with -dict. Its corpus grows in fuzz/corpus/TARGET (not committed). A crash leaves its input
# in fuzz/artifacts/TARGET: copy it to fuzz/regressions/TARGET/ so `cargo test` keeps it fixed.
# scripts/fuzz_coverage.sh shows which source lines the corpora reach.

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-600}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(matcher rules settings diff archive image gitleaks report aws_reply cache)

command -v cargo-fuzz >/dev/null || {
    echo "fuzz.sh: cargo-fuzz is needed: cargo install cargo-fuzz" >&2
    exit 2
}

cd "$root/fuzz"
for target in "${targets[@]}"; do
    corpus=corpus/$target
    mkdir -p "$corpus"
    cp -n seeds/"$target"/* "$corpus"/ 2>/dev/null || true
    if [[ $target == rules ]]; then
        cp -n "$root/rules/aws.toml" "$corpus"/
    fi
    if [[ $target == matcher ]]; then
        # Fixture files as matcher inputs: a leading byte picks the chunk size.
        find "$root/fixtures/positive" "$root/fixtures/negative" -type f | while read -r file; do
            name=$corpus/fixture-$(basename "$file")
            [[ -e $name ]] || { printf '\x05'; head -c 65536 "$file"; } >"$name"
        done
    fi
    dict=()
    [[ -f dicts/$target.dict ]] && dict=(-dict="dicts/$target.dict")
    echo "== $target, ${seconds}s" >&2
    RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "$corpus" -- "${dict[@]}" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
done
