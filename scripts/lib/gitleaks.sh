# shellcheck shell=bash
# Sourced by the benchmarks (scripts/bench.sh, scripts/bench_git.sh) for their rows that time
# gitleaks itself beside `keyhound --rules` with gitleaks' default configuration.

# gitleaks_find ROOT: sets `gitleaks` (GITLEAKS, else `gitleaks` on PATH), `gitleaks_config`
# (GITLEAKS_CONFIG, else ../shared/compat/gitleaks-default.toml beside the repository at ROOT)
# and `gitleaks_report`, a file for gitleaks' report that is removed on exit. Fails, saying so,
# when the binary or the configuration is missing.
gitleaks_find() {
    gitleaks=${GITLEAKS:-$(command -v gitleaks || true)}
    gitleaks_config=${GITLEAKS_CONFIG:-$1/../shared/compat/gitleaks-default.toml}
    if [[ -z $gitleaks || ! -f $gitleaks_config ]]; then
        echo "no gitleaks binary or configuration: the gitleaks rows are left out" >&2
        return 1
    fi
    # gitleaks replaces its report file rather than writing into it: given /dev/null, it would
    # put a regular file in the device's place.
    gitleaks_report=$(mktemp -d)/gitleaks.json
    trap 'rm -rf "$(dirname "$gitleaks_report")"' EXIT
}
