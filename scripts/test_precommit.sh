#!/usr/bin/env bash
# Runs keyhound's hooks through the pre-commit framework (`pre-commit try-repo`), the way a
# project that lists keyhound in .pre-commit-config.yaml would: pre-commit builds keyhound with
# cargo from this repository's HEAD, then
#   - the `keyhound` hook must block a staged secret and pass a clean change;
#   - the `keyhound-files` hook must find a committed secret with --all-files;
#   - the `keyhound-system` and `keyhound-files-system` hooks do the same with the keyhound on
#     PATH (this repository's debug build), building nothing.
# Needs `pre-commit` (pip install pre-commit) and cargo. Exits non-zero on any failure.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v pre-commit >/dev/null || { echo "test_precommit.sh: pre-commit is not installed (pip install pre-commit)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PRE_COMMIT_HOME=${PRE_COMMIT_HOME:-$work/cache}
# pre-commit builds the hook with `cargo install` (the release profile); a check needs no LTO
# or debug info, and skipping them halves the build.
export CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16

repo=$work/project
git init -q -b main "$repo"
cd "$repo"
git config user.name "Pre Commit"
git config user.email "pre-commit@example.com"
echo "print('hello')" > app.py
git add app.py
git commit -qm init

fail() { echo "test_precommit.sh: FAIL: $*" >&2; exit 1; }

# 1. a clean staged change passes
echo "print('bye')" >> app.py
git add app.py
pre-commit try-repo "$root" keyhound >"$work/clean.log" 2>&1 || { cat "$work/clean.log"; fail "a clean change was blocked"; }

# 2. a staged secret is blocked (generated fake key, not a real one)
printf 'aws_access_key_id = AKIAQYLPMN5HHHFPZAM2\naws_secret_access_key = r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD\n' > credentials
git add credentials
if pre-commit try-repo "$root" keyhound >"$work/blocked.log" 2>&1; then
    cat "$work/blocked.log"; fail "a staged secret was not blocked"
fi
grep -q "aws-access-key-pair" "$work/blocked.log" || { cat "$work/blocked.log"; fail "the report does not name the rule"; }
if grep -q "r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD" "$work/blocked.log"; then
    fail "the hook printed the secret unredacted"
fi

# 3. keyhound-files scans every file with --all-files, including committed ones
git commit -qm "add credentials" --no-verify
if pre-commit try-repo "$root" keyhound-files --all-files >"$work/files.log" 2>&1; then
    cat "$work/files.log"; fail "--all-files did not find the committed secret"
fi
grep -q "credentials" "$work/files.log" || { cat "$work/files.log"; fail "the report does not name the file"; }

# 4. the system hooks use the keyhound on PATH
(cd "$root" && cargo build --quiet --locked)
export PATH="$root/target/debug:$PATH"
printf 'aws_access_key_id = AKIAQYLPMN5HGWTVRDX6\naws_secret_access_key = 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\n' > more.ini
git add more.ini
if pre-commit try-repo "$root" keyhound-system >"$work/system.log" 2>&1; then
    cat "$work/system.log"; fail "keyhound-system did not block a staged secret"
fi
grep -q "more.ini" "$work/system.log" || { cat "$work/system.log"; fail "keyhound-system does not name the file"; }
if pre-commit try-repo "$root" keyhound-files-system --all-files >"$work/files-system.log" 2>&1; then
    cat "$work/files-system.log"; fail "keyhound-files-system --all-files found nothing"
fi
grep -q "credentials" "$work/files-system.log" || { cat "$work/files-system.log"; fail "keyhound-files-system does not name the committed file"; }

echo "pre-commit hooks: 5 passed, 0 failed"
