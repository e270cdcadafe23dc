#!/usr/bin/env bash
# End-to-end speed of `keyhound scan` beside ripgrep, on the same corpus in the same run.
#
# Usage: scripts/bench.sh [CORPUS_DIR] [RUNS]
#   CORPUS_DIR  directory to scan (default /tmp/corpora/planted); generated with
#               ../shared/bench/plant.py if it does not exist
#   RUNS        timed runs of each command (default 5)
#   THREADS     environment variable: threads for both tools (default: nproc)
#   GITLEAKS    environment variable: a gitleaks binary (default: `gitleaks` on PATH). When
#               there is one, two more rows compare keyhound and gitleaks with gitleaks' own
#               default configuration (GITLEAKS_CONFIG, default
#               ../shared/compat/gitleaks-default.toml): `keyhound --rules` against `gitleaks dir`.
#
# rg is the floor: it looks for one or two literals and does nothing else, while keyhound runs
# its prefilter, rule regexes, validators and report. Both read every file (rg with -uuu, which
# also searches the binary files keyhound skips by default). One untimed run of each command
# warms the page cache, then the commands alternate so that drift in machine load hits all of
# them alike. The figures are medians of wall-clock time.

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
corpus=${1:-/tmp/corpora/planted}
runs=${2:-5}
threads=${THREADS:-$(nproc)}

die() {
    echo "bench.sh: $*" >&2
    exit 2
}

[[ $runs =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, not '$runs'"
[[ $threads =~ ^[1-9][0-9]*$ ]] || die "THREADS must be a positive integer, not '$threads'"
command -v rg >/dev/null ||
    die "ripgrep (rg) is needed for the comparison; install it with: apt-get install ripgrep"

if [[ ! -d $corpus ]]; then
    plant=$root/../shared/bench/plant.py
    [[ -f $plant ]] ||
        die "corpus $corpus does not exist and its generator $plant was not found"
    command -v python3 >/dev/null || die "python3 is needed to generate the corpus"
    echo "generating $corpus (200 MB, 1000 planted credential sets)..." >&2
    mkdir -p "$(dirname "$corpus")"
    (cd "$root" && python3 ../shared/bench/plant.py "$corpus" --size-mb 200 --count 1000 --seed 1)
fi

echo "building keyhound (release)..." >&2
(cd "$root" && cargo build --release --quiet)
keyhound=$root/target/release/keyhound

bytes=$(du -sb "$corpus" | cut -f1)
files=$(find "$corpus" -type f | wc -l)

# Names and command lines of the measured commands, in the order they alternate.
names=(keyhound "keyhound depth 0" "keyhound no archives" "rg AKIA" "rg AKIA|ASIA")
# shellcheck source=scripts/lib/gitleaks.sh
source "$root/scripts/lib/gitleaks.sh"
gitleaks_find "$root" && names+=("keyhound gl rules" gitleaks)
run_cmd() {
    case $1 in
    0) "$keyhound" scan "$corpus" -q -f json -o /dev/null -j "$threads" ;;
    1) "$keyhound" scan "$corpus" -q -f json -o /dev/null -j "$threads" --max-decode-depth 0 ;;
    2) "$keyhound" scan "$corpus" -q -f json -o /dev/null -j "$threads" --max-archive-depth 0 ;;
    3) rg -c AKIA --no-ignore -uuu -j "$threads" "$corpus" >/dev/null ;;
    4) rg -c 'AKIA|ASIA' --no-ignore -uuu -j "$threads" "$corpus" >/dev/null ;;
    5) "$keyhound" scan "$corpus" -q -f json -o /dev/null -j "$threads" --rules "$gitleaks_config" ;;
    6) GOMAXPROCS=$threads "$gitleaks" dir "$corpus" -c "$gitleaks_config" --no-banner \
        --log-level error -f json -r "$gitleaks_report" --exit-code 0 ;;
    esac
}

# Runs command $1 once; fails the script unless it exits with its "found" or "not found" status
# (keyhound exits 1 when it reports findings, rg exits 1 when nothing matched).
run_checked() {
    local status=0
    run_cmd "$1" || status=$?
    ((status <= 1)) || die "'${names[$1]}' failed with exit status $status"
}

# Prints the wall-clock seconds that one run of command $1 takes.
time_once() {
    local start end
    start=$EPOCHREALTIME
    run_checked "$1"
    end=$EPOCHREALTIME
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.4f\n", e - s }'
}

# Prints the median of its arguments.
median() {
    printf '%s\n' "$@" | sort -n |
        awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "warming the page cache..." >&2
for i in "${!names[@]}"; do
    run_checked "$i"
done

declare -a times
for ((r = 1; r <= runs; r++)); do
    echo "run $r/$runs..." >&2
    for i in "${!names[@]}"; do
        times[i]+="$(time_once "$i") "
    done
done

# What each tool found, from one more (untimed) run, to show that both did the work.
findings=$("$keyhound" scan "$corpus" -q -f json -j "$threads" 2>/dev/null |
    sed -n 's/^ *"findings": \([0-9]*\),*$/\1/p' | tail -n 1 || true)
rg_lines=$(rg -c AKIA --no-ignore -uuu -j "$threads" "$corpus" | awk -F: '{ n += $NF } END { print n + 0 }')

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo
echo "machine:  $(nproc) CPUs, ${cpu:-unknown CPU}"
echo "threads:  $threads (keyhound -j $threads, rg -j $threads)"
echo "versions: $("$keyhound" --version), $(rg --version | head -n 1)"
echo "corpus:   $corpus, $files files, $bytes bytes ($(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB)"
echo "found:    keyhound ${findings:-?} findings; rg $rg_lines lines with AKIA"
echo "runs:     $runs of each, alternating, after one warm-up run each"
echo
printf '%-18s %10s %10s %16s\n' command "median s" "MB/s" "keyhound/this"
# shellcheck disable=SC2086 # each entry is a space-separated list of times
kh_median=$(median ${times[0]})
for i in "${!names[@]}"; do
    # shellcheck disable=SC2086
    m=$(median ${times[i]})
    mbps=$(awk -v b="$bytes" -v t="$m" 'BEGIN { printf "%.0f", b / 1e6 / t }')
    if ((i == 0)); then
        ratio=-
    else
        ratio=$(awk -v rg="$m" -v kh="$kh_median" 'BEGIN { printf "%.2f", rg / kh }')
    fi
    printf '%-18s %10.3f %10s %16s\n' "${names[i]}" "$m" "$mbps" "$ratio"
done
if ((${#names[@]} > 5)); then
    # shellcheck disable=SC2086
    gl_ratio=$(awk -v gl="$(median ${times[6]})" -v kh="$(median ${times[5]})" 'BEGIN { printf "%.2f", gl / kh }')
    echo
    echo "with gitleaks' rules ($gitleaks_config):"
    echo "  keyhound --rules is $gl_ratio times as fast as $("$gitleaks" version 2>/dev/null | sed 's/^/gitleaks /')"
fi
echo
echo "keyhound/this: keyhound's throughput over that command's (its median time / keyhound's);"
echo "1.00 means as fast as that command, 0.25 a quarter of its speed. 'keyhound depth 0' is"
echo "keyhound without decoding (--max-decode-depth 0): its row is what decoding costs."
