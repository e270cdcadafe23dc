#!/usr/bin/env bash
# Source-level coverage of the fuzz targets: which lines of keyhound each target's corpus
# reaches, to see what fuzzing exercises and what it never gets to.
#
# Usage: scripts/fuzz_coverage.sh [TARGET...]   (default: matcher rules settings diff)
#
# Runs each target over its corpus (fuzz/corpus/TARGET, grown by scripts/fuzz.sh; the seeds
# when there is none yet) in a build with LLVM's source-based coverage, then prints
# `llvm-cov report` for keyhound's own files that the target reached. Needs cargo-fuzz and the
# llvm-profdata and llvm-cov of rustc's LLVM version: the rustup component llvm-tools, or
# Debian's llvm-N package (the script looks in /usr/lib/llvm-N/bin, N from `rustc -vV`; set
# LLVM_BIN to point elsewhere). Reports are left in fuzz/coverage/TARGET/ (not committed).

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
targets=("$@")
((${#targets[@]})) || targets=(matcher rules settings diff)

major=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
llvm_bin=${LLVM_BIN:-/usr/lib/llvm-$major/bin}
if [[ ! -x $llvm_bin/llvm-cov || ! -x $llvm_bin/llvm-profdata ]]; then
    sysroot_bin=$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin
    if [[ -x $sysroot_bin/llvm-cov ]]; then
        llvm_bin=$sysroot_bin
    else
        echo "fuzz_coverage.sh: llvm-cov and llvm-profdata of LLVM $major are needed:" \
            "rustup component add llvm-tools, or apt-get install llvm-$major" >&2
        exit 2
    fi
fi
command -v cargo-fuzz >/dev/null || {
    echo "fuzz_coverage.sh: cargo-fuzz is needed: cargo install cargo-fuzz" >&2
    exit 2
}

cd "$root/fuzz"
host=$(rustc -vV | sed -n 's/^host: //p')
for target in "${targets[@]}"; do
    corpus=corpus/$target
    [[ -d $corpus ]] || corpus=seeds/$target
    echo "== $target: $(find "$corpus" -type f | wc -l) inputs from $corpus" >&2
    RUSTC_BOOTSTRAP=1 cargo fuzz coverage "$target" "$corpus" --llvm-path "$llvm_bin" >/dev/null 2>&1
    binary=target/$host/coverage/$host/release/$target
    report=coverage/$target/report.txt
    "$llvm_bin/llvm-cov" report "$binary" -instr-profile="coverage/$target/coverage.profdata" \
        -ignore-filename-regex='(\.cargo/registry|/rustc/|/fuzz/|/tests/)' >"$report"
    # Keep the header, the files the target reached (some line executed) and the total.
    awk 'NR == 1 || /^TOTAL/ || ($8 > 0 && $8 != $9)' "$report" |
        awk '{ printf "%-32s lines %6s of %6s  (%s)  functions %s of %s\n", $1, $8 - $9, $8, $10, $5 - $6, $5 }' |
        sed '1s/.*/file                             lines reached (cover)  functions reached/'
done
