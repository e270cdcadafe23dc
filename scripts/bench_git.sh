#!/usr/bin/env bash
# Speed of a full-history audit (`keyhound git REPO`) beside what reading the history costs
# git itself, on the same repository in the same run:
#   keyhound      keyhound git REPO, one scanning thread per core
#   keyhound -j1  the same on one thread
#   cat-file      git cat-file --batch-all-objects --batch --unordered  (every object read
#                 once, in pack order: git's fast path)
#   log -p        git log -p --all  (what scanners that read line diffs pay; skip with LOG_P=0)
#   cache cold    keyhound git REPO --cache FILE on a new cache file (with CACHE=1)
#   cache warm    the same again, the cache holding every blob: a re-audit with nothing new
#   keyhound gl   keyhound git REPO --rules GITLEAKS_CONFIG  } with a gitleaks binary (GITLEAKS,
#   gitleaks      gitleaks git REPO -c GITLEAKS_CONFIG       } default `gitleaks` on PATH) and
#                 its default configuration (GITLEAKS_CONFIG, default
#                 ../shared/compat/gitleaks-default.toml)
#
# Usage: scripts/bench_git.sh REPO [RUNS]     (RUNS defaults to 5)
# Prints the median wall-clock seconds and peak RSS of each command, and keyhound's time as a
# multiple of cat-file's and log -p's.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo=${1:?usage: scripts/bench_git.sh REPO [RUNS]}
runs=${2:-5}
log_p=${LOG_P:-1}
cache=${CACHE:-0}
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be a positive integer" >&2; exit 2; }
git_dir=$(git -C "$repo" rev-parse --absolute-git-dir 2>/dev/null || echo "$repo")

(cd "$root" && cargo build --release --quiet)
keyhound=$root/target/release/keyhound

declare -A times rss
commands=(keyhound "keyhound -j1" cat-file)
[[ $log_p == 1 ]] && commands+=("log -p")
[[ $cache == 1 ]] && commands+=("cache cold" "cache warm")
# shellcheck source=scripts/lib/gitleaks.sh
source "$root/scripts/lib/gitleaks.sh"
gitleaks_find "$root" && commands+=("keyhound gl" gitleaks)
cache_file=$(mktemp -d)/bench.cache

run() { # name -> appends "seconds kb" to the arrays
    local name=$1 out
    case $name in
        keyhound) out=$( { /usr/bin/time -f '%e %M' "$keyhound" git "$repo" -q --no-progress -f json -o /dev/null; } 2>&1 >/dev/null | tail -1) || true ;;
        "keyhound -j1") out=$( { /usr/bin/time -f '%e %M' "$keyhound" git "$repo" -j1 -q --no-progress -f json -o /dev/null; } 2>&1 >/dev/null | tail -1) || true ;;
        cat-file) out=$( { /usr/bin/time -f '%e %M' git --git-dir "$git_dir" cat-file --batch-all-objects --batch --unordered >/dev/null; } 2>&1 | tail -1) ;;
        "log -p") out=$( { /usr/bin/time -f '%e %M' git --git-dir "$git_dir" log -p --all >/dev/null; } 2>&1 | tail -1) ;;
        "cache cold")
            rm -f "$cache_file" "$cache_file-wal" "$cache_file-shm"
            out=$( { /usr/bin/time -f '%e %M' "$keyhound" git "$repo" -q --no-progress --cache "$cache_file" -f json -o /dev/null; } 2>&1 >/dev/null | tail -1) || true ;;
        "keyhound gl") out=$( { /usr/bin/time -f '%e %M' "$keyhound" git "$repo" -q --no-progress --rules "$gitleaks_config" -f json -o /dev/null; } 2>&1 >/dev/null | tail -1) || true ;;
        gitleaks) out=$( { /usr/bin/time -f '%e %M' "$gitleaks" git "$repo" -c "$gitleaks_config" --no-banner --log-level error -f json -r "$gitleaks_report" --exit-code 0; } 2>&1 >/dev/null | tail -1) || true ;;
        "cache warm") out=$( { /usr/bin/time -f '%e %M' "$keyhound" git "$repo" -q --no-progress --cache "$cache_file" -f json -o /dev/null; } 2>&1 >/dev/null | tail -1) || true ;;
    esac
    times[$name]+="${out% *} "
    rss[$name]+="${out#* } "
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

for name in "${commands[@]}"; do run "$name" >/dev/null; times[$name]=""; rss[$name]=""; done
for ((i = 0; i < runs; i++)); do
    for name in "${commands[@]}"; do run "$name"; done
done

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "repo:    $git_dir ($(git --git-dir "$git_dir" rev-list --all --count) commits, $(git --git-dir "$git_dir" count-objects -v | awk '/size-pack/ {print $2}') KiB packed)"
echo "runs:    $runs of each, alternating, after one warm-up run each"
echo
printf '%-13s %10s %14s\n' command "median s" "peak RSS MiB"
declare -A med
for name in "${commands[@]}"; do
    med[$name]=$(echo "${times[$name]}" | median)
    printf '%-13s %10.2f %14.0f\n' "$name" "${med[$name]}" "$(echo "${rss[$name]}" | median | awk '{print $1/1024}')"
done
echo
awk -v k="${med[keyhound]}" -v c="${med[cat-file]}" 'BEGIN {printf "keyhound / cat-file:     %.2f x\n", k / c}'
awk -v k="${med[keyhound -j1]}" -v c="${med[cat-file]}" 'BEGIN {printf "keyhound -j1 / cat-file: %.2f x\n", k / c}'
[[ $log_p == 1 ]] && awk -v k="${med[keyhound]}" -v l="${med[log -p]}" 'BEGIN {printf "keyhound / log -p:       %.2f x\n", k / l}'
if [[ $cache == 1 ]]; then
    awk -v k="${med[cache cold]}" -v c="${med[cat-file]}" 'BEGIN {printf "cache cold / cat-file:   %.2f x\n", k / c}'
    awk -v k="${med[cache warm]}" -v c="${med[cat-file]}" 'BEGIN {printf "cache warm / cat-file:   %.2f x\n", k / c}'
    awk -v w="${med[cache warm]}" -v k="${med[keyhound]}" 'BEGIN {printf "cache warm / keyhound:   %.2f x\n", w / k}'
fi
if [[ -n ${med[gitleaks]:-} ]]; then
    awk -v g="${med[gitleaks]}" -v k="${med[keyhound gl]}" 'BEGIN {printf "gitleaks / keyhound, gitleaks rules: %.2f x\n", g / k}'
fi
rm -rf "$(dirname "$cache_file")"
exit 0
