#!/usr/bin/env bash
# Speed of the pre-commit hook (`keyhound git --staged`) in a large repository: FILES tracked
# files (default 100000) and COMMITS commits of history (default 2000), built once with
# `git fast-import` under DIR (default /tmp/keyhound-staged-bench), then a few files staged.
#
# Usage: scripts/bench_staged.sh [DIR] [RUNS]
# Prints the median wall-clock time of `keyhound git --staged` and of `git diff --cached
# --quiet` (git's own cost of comparing the index with HEAD) on the same repository, timed
# alternately in the same run, and their ratio.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${1:-/tmp/keyhound-staged-bench}
runs=${2:-11}
files=${FILES:-100000}
commits=${COMMITS:-2000}

(cd "$root" && cargo build --release --quiet)
keyhound=$root/target/release/keyhound

if [[ ! -d $dir/.git ]]; then
    rm -rf "$dir"
    git init -q "$dir"
    python3 - "$files" "$commits" <<'PY' | git -C "$dir" fast-import --quiet
import sys
files, commits = int(sys.argv[1]), int(sys.argv[2])
mark = 0
def blob(text):
    global mark
    mark += 1
    data = text.encode()
    sys.stdout.write(f"blob\nmark :{mark}\ndata {len(data)}\n{text}\n")
    return mark
# one commit with every file, then a long history of small edits
marks = [blob(f"// file {i}\nfn f{i}() -> u32 {{ {i} }}\n") for i in range(files)]
t = 1700000000
sys.stdout.write(f"commit refs/heads/main\ncommitter Bench <bench@example.com> {t} +0000\ndata 7\ninitial\n")
for i, m in enumerate(marks):
    sys.stdout.write(f"M 100644 :{m} src/d{i // 1000}/f{i}.rs\n")
for c in range(1, commits):
    i = (c * 7919) % files
    m = blob(f"// file {i} edit {c}\nfn f{i}() -> u32 {{ {c} }}\n")
    sys.stdout.write(f"commit refs/heads/main\ncommitter Bench <bench@example.com> {t + c} +0000\ndata 4\nedit\n")
    sys.stdout.write(f"M 100644 :{m} src/d{i // 1000}/f{i}.rs\n")
PY
    git -C "$dir" checkout -q -f main
fi
# a typical pre-commit change: a few modified files, one of them with a key
git -C "$dir" reset -q --hard
for i in 1 2 3; do echo "// staged change $i" >> "$dir/src/d0/f$i.rs"; done
printf 'aws_access_key_id = AKIAQYLPMN5HHHFPZAM2\n' >> "$dir/src/d0/f4.rs"
git -C "$dir" add src/d0

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
time_ms() { local s e; s=$EPOCHREALTIME; "$@" >/dev/null 2>&1 || true; e=$EPOCHREALTIME; awk -v s="$s" -v e="$e" 'BEGIN {printf "%.1f\n", (e - s) * 1000}'; }

"$keyhound" git "$dir" --staged -q >/dev/null 2>&1 || true
git -C "$dir" diff --cached --quiet || true
ks=() gs=()
for ((i = 0; i < runs; i++)); do
    ks+=("$(time_ms "$keyhound" git "$dir" --staged -q)")
    gs+=("$(time_ms git -C "$dir" diff --cached --quiet)")
done
k=$(printf '%s\n' "${ks[@]}" | median)
g=$(printf '%s\n' "${gs[@]}" | median)
echo "repo: $dir ($(git -C "$dir" ls-files | wc -l) tracked files, $(git -C "$dir" rev-list --count HEAD) commits), 4 files staged"
echo "keyhound git --staged:     ${k} ms (median of $runs, alternating)"
echo "git diff --cached --quiet: ${g} ms (median of $runs, alternating)"
awk -v k="$k" -v g="$g" 'BEGIN {printf "keyhound / git diff:       %.2f x\n", k / g}'
