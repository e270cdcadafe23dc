#!/usr/bin/env bash
# Checks keyhound's HTML report in a real browser: Debian's chromium and chromium-driver, and
# Selenium from PyPI, drive scripts/test_html_report.py over the page of a git history with fake
# keys planted (see that script for what it checks). Takes a few seconds once installed.
#
# Usage: scripts/test_html_report.sh [SCREENSHOT.png]   (default target/html-report.png)
#   KEYHOUND_BIN   the keyhound binary (default: built here with cargo)
# Exits 1 on any failed check, 3 when chromium, chromium-driver or Selenium cannot be installed
# (the check did not run).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
screenshot=${1:-$root/target/html-report.png}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cannot() {
    echo "$(basename "$0"): $* could not be installed: the browser check did not run" >&2
    exit 3
}

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    { apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; }; } ||
        cannot "chromium and chromium-driver (apt)"
fi
if ! python3 -m venv "$work/venv" ||
    ! "$work/venv/bin/pip" install --quiet --disable-pip-version-check "selenium>=4.20,<5"; then
    cannot "Selenium (PyPI)"
fi

keyhound=${KEYHOUND_BIN:-}
if [[ -z $keyhound ]]; then
    (cd "$root" && cargo build --quiet --locked)
    keyhound=$root/target/debug/keyhound
fi
"$work/venv/bin/python" "$root/scripts/test_html_report.py" --keyhound "$keyhound" \
    --screenshot "$screenshot"
