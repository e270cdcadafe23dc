#!/usr/bin/env bash
# The scan step of keyhound's GitHub Action: works out from the workflow's event what to scan,
# runs keyhound once (a JSON report, and the HTML page for people), renders the JSON report as
# SARIF, as workflow annotations and as the job summary, and writes the step's outputs.
#
# What is scanned (mode `auto`; `diff` is the same but fails on an event without a range, and
# `full` always audits the whole history):
#   pull_request, pull_request_target  the commits the pull request adds: base.sha..head.sha
#   push                               the commits the push adds: before..after, or the whole
#                                      history of `after` when there is no old tip to compare
#   anything else (schedule, ...)      the whole history of every ref
#
# Environment (action.yml sets the KEYHOUND_* variables from its inputs):
#   KEYHOUND_MODE   auto | diff | full
#   KEYHOUND_ARGS   more keyhound arguments, split as a shell splits words
#   KEYHOUND_SARIF  auto (upload, except for pull requests from forks and pull_request_target)
#                   | true | false
#   KEYHOUND_FAIL   true: secrets found fail the job | false: report only
#   KEYHOUND        the keyhound binary (default: keyhound on PATH)
#   GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_WORKSPACE, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
#   RUNNER_TEMP     as the runner sets them
#
# The event is read, and KEYHOUND_ARGS split, with python3: it is on every GitHub-hosted
# runner, where jq is not always on self-hosted ones.
#
# Outputs: verdict (clean, secrets, incomplete or error), findings (secrets that fail the scan),
# sarif-file, json-file and html-file (the reports, empty when keyhound did not run), upload-sarif
# (true or false) and fail-job (true when the action's last step must fail the job: it runs after
# the uploads, so alerts are filed and the page kept before the job fails).
#
# Exit status: 0 when every input was read, whatever was found; 2 when the scan could not run or
# could not read everything (an incomplete scan is never reported clean).
set -euo pipefail

KEYHOUND=${KEYHOUND:-keyhound}
MODE=${KEYHOUND_MODE:-auto}
SARIF=${KEYHOUND_SARIF:-auto}
FAIL=${KEYHOUND_FAIL:-true}
EVENT=${GITHUB_EVENT_NAME:-}
OUTPUT=${GITHUB_OUTPUT:-/dev/null}
SUMMARY=${GITHUB_STEP_SUMMARY:-/dev/null}

# A commit id that stands for "no commit" in push events (git's SHA-1 and SHA-256 forms).
NO_COMMIT_PATTERN='^0+$'

# The plan, set by the plan_* functions: the keyhound git arguments that select what to scan,
# the same in words for the summary, or why there is nothing to scan.
scan_args=()
scope=""
nothing=""

# ---------------------------------------------------------------------------------------------
# Reporting

# Text for a workflow command's message: the runner reads %, CR and LF as escapes.
command_data() {
    local text=${1//'%'/%25}
    text=${text//$'\r'/%0D}
    printf '%s' "${text//$'\n'/%0A}"
}

# Writes the step's outputs: verdict, findings, sarif-file, upload-sarif, fail-job, and the
# JSON and HTML reports (json-file, html-file) when keyhound wrote them.
write_outputs() {
    {
        echo "verdict=$1"
        echo "findings=$2"
        echo "sarif-file=$3"
        echo "upload-sarif=$4"
        echo "fail-job=$5"
        echo "json-file=${json_file:-}"
        echo "html-file=${html_file:-}"
    } >>"$OUTPUT"
}

# Ends the step on an error: an error annotation, a line in the job summary, exit status 2.
die() {
    echo "::error title=keyhound::$(command_data "$1")"
    printf '## keyhound: scan failed\n\n%s\n\n' "$1" >>"$SUMMARY"
    write_outputs error 0 "" false false
    exit 2
}

# ---------------------------------------------------------------------------------------------
# Reading the event and the inputs

# The value at a dotted path of the event JSON: empty when absent or null, true or false for a
# boolean.
event_field() {
    python3 - "$GITHUB_EVENT_PATH" "$1" <<'PY'
import json
import sys

with open(sys.argv[1], encoding="utf-8") as event:
    value = json.load(event)
for key in sys.argv[2].split("."):
    value = value.get(key) if isinstance(value, dict) else None
if isinstance(value, bool):
    value = "true" if value else "false"
print("" if value is None else value)
PY
}

# Dies unless the event is a JSON file this script can read.
need_event() {
    [[ -r ${GITHUB_EVENT_PATH:-} ]] || die "the $EVENT event's payload (GITHUB_EVENT_PATH) cannot be read"
    python3 -c 'import json, sys; json.load(open(sys.argv[1], encoding="utf-8"))' "$GITHUB_EVENT_PATH" ||
        die "the $EVENT event's payload at $GITHUB_EVENT_PATH is not JSON"
}

# Dies unless $1, the event's field $2, is a commit id.
need_commit_id() {
    [[ $1 =~ ^[0-9a-f]{40}([0-9a-f]{24})?$ ]] ||
        die "the $EVENT event has no commit id at $2 (found '$1')"
}

lowercase() {
    printf '%s' "$1" | tr '[:upper:]' '[:lower:]'
}

# Splits KEYHOUND_ARGS into user_args as a shell would (quotes group words); rule_args gets the
# ones that choose rules, which `keyhound merge` needs too to describe them.
split_args() {
    user_args=()
    rule_args=()
    [[ -n ${KEYHOUND_ARGS:-} ]] || return 0
    local words="$work/args"
    python3 -c 'import shlex, sys
for word in shlex.split(sys.argv[1]):
    sys.stdout.write(word + "\0")' "$KEYHOUND_ARGS" >"$words" ||
        die "cannot split the args input into words: $KEYHOUND_ARGS"
    local word
    while IFS= read -r -d '' word; do
        user_args+=("$word")
    done <"$words"
    local i=0
    while ((i < ${#user_args[@]})); do
        case ${user_args[i]} in
            --rules | --config | --enable-rule | --disable-rule)
                rule_args+=("${user_args[i]}" "${user_args[i + 1]:-}")
                i=$((i + 1))
                ;;
            --rules=* | --config=* | --enable-rule=* | --disable-rule=*)
                rule_args+=("${user_args[i]}")
                ;;
        esac
        i=$((i + 1))
    done
}

# ---------------------------------------------------------------------------------------------
# What to scan

has_commit() {
    git cat-file -e "$1^{commit}" 2>/dev/null
}

is_shallow() {
    [[ $(git rev-parse --is-shallow-repository) == true ]]
}

# Fetches commit $1 (the $2 of the event) from origin unless the clone has it.
ensure_commit() {
    has_commit "$1" && return 0
    echo "keyhound: the $2 commit $1 is not in the clone; fetching it from origin"
    if git fetch --no-tags --quiet origin "$1" && has_commit "$1"; then
        return 0
    fi
    die "the $2 commit $1 is not in the clone and could not be fetched from origin. \
Check out the repository with actions/checkout and fetch-depth: 0, so the clone has the history \
the scan compares."
}

# Dies unless $1 and $2 share history in this clone: the range between them needs the commit
# they both come from, which a shallow clone cuts off.
need_shared_history() {
    git merge-base "$1" "$2" >/dev/null && return 0
    if is_shallow; then
        die "commits $1 and $2 share no history in this shallow clone. Check out the \
repository with actions/checkout and fetch-depth: 0, so the clone has the history the scan \
compares."
    fi
    die "commits $1 and $2 share no history: there is no range between them to scan"
}

# Dies in a shallow clone: a history audit of it would not see the history it cut off.
need_whole_history() {
    if is_shallow; then
        die "this clone is shallow, so an audit of its history would miss what the clone cut \
off. Check out the repository with actions/checkout and fetch-depth: 0."
    fi
}

plan_full() {
    need_whole_history
    scan_args=()
    scope="the whole history of every ref"
}

# The whole history of one commit.
plan_history_of() {
    need_whole_history
    scan_args=(--branch "$1")
    scope="the whole history of $1 ($2)"
}

plan_pull_request() {
    local base head number
    base=$(event_field pull_request.base.sha)
    head=$(event_field pull_request.head.sha)
    number=$(event_field pull_request.number)
    need_commit_id "$base" pull_request.base.sha
    need_commit_id "$head" pull_request.head.sha
    if [[ $base == "$head" ]]; then
        nothing="pull request #$number has no commits beyond its base ($base)."
        return
    fi
    ensure_commit "$base" "pull request's base"
    ensure_commit "$head" "pull request's head"
    if git merge-base --is-ancestor "$head" "$base"; then
        nothing="the base of pull request #$number already holds its head $head."
        return
    fi
    need_shared_history "$base" "$head"
    scan_args=(--range "$base..$head")
    scope="the commits pull request #$number adds ($base..$head)"
}

plan_push() {
    local before after
    if [[ $(event_field deleted) == true ]]; then
        nothing="the push deleted $(event_field ref)."
        return
    fi
    after=$(event_field after)
    before=$(event_field before)
    need_commit_id "$after" after
    if [[ $before == "$after" ]]; then
        nothing="the push moved no commits (before and after are both $after)."
        return
    fi
    if [[ $before =~ $NO_COMMIT_PATTERN ]]; then
        plan_history_of "$after" "a new branch or tag, or a repository's first push"
        return
    fi
    need_commit_id "$before" before
    if ! has_commit "$before"; then
        # Only a force push leaves the old tip out of a full clone: nothing reaches it now.
        plan_history_of "$after" "a force push whose old tip $before is gone"
        return
    fi
    if git merge-base --is-ancestor "$after" "$before"; then
        nothing="the push only moved the branch back to $after, which it already held."
        return
    fi
    if ! git merge-base "$before" "$after" >/dev/null; then
        plan_history_of "$after" "a push of history unrelated to the old tip $before"
        return
    fi
    # A fast-forward, or a force push whose old tip is still in the clone: before..after is
    # every commit `after` reaches and the old tip did not, so a force push onto another line
    # of history is scanned for all it brings that the branch did not have.
    scan_args=(--range "$before..$after")
    scope="the commits the push adds ($before..$after)"
}

plan() {
    if [[ $MODE == full ]]; then
        plan_full
        return
    fi
    case $EVENT in
        pull_request | pull_request_target)
            need_event
            plan_pull_request
            ;;
        push)
            need_event
            plan_push
            ;;
        *)
            [[ $MODE == auto ]] ||
                die "mode diff scans what a pull request or push adds; a $EVENT event has no \
range (use mode full)"
            plan_full
            ;;
    esac
}

# Whether to upload SARIF, for sarif=auto: not for pull requests from forks (their token cannot
# write security events) nor for pull_request_target (code scanning would file the pull
# request's findings under the base branch, whose ref and commit such runs carry).
auto_upload() {
    case $EVENT in
        pull_request_target) echo false ;;
        pull_request)
            local head_repo base_repo
            head_repo=$(event_field pull_request.head.repo.full_name)
            base_repo=$(event_field repository.full_name)
            # A deleted fork has no head repository: still a fork.
            if [[ -n $head_repo && $(lowercase "$head_repo") == $(lowercase "$base_repo") ]]; then
                echo true
            else
                echo false
            fi
            ;;
        *) echo true ;;
    esac
}

# ---------------------------------------------------------------------------------------------
# Scanning and rendering

# keyhound merge of the report into format $1 (more merge arguments follow). merge exits as the
# scan would have: 2 for a report of an incomplete scan that found nothing failing, so that
# status is expected then, and any other status is an error.
render() {
    local status=0 expected=0
    [[ $verdict == incomplete ]] && expected=2
    "$KEYHOUND" merge "$report" --quiet --exit-code 0 \
        ${rule_args[@]+"${rule_args[@]}"} --format "$@" || status=$?
    ((status == expected)) || die "keyhound merge --format $1 failed with exit status $status"
}

main() {
    case $MODE in auto | diff | full) ;; *) die "mode must be auto, diff or full, not '$MODE'" ;; esac
    case $SARIF in auto | true | false) ;; *) die "sarif must be auto, true or false, not '$SARIF'" ;; esac
    case $FAIL in true | false) ;; *) die "fail must be true or false, not '$FAIL'" ;; esac

    cd "${GITHUB_WORKSPACE:-.}"
    git rev-parse --git-dir >/dev/null ||
        die "$(pwd) is not a git repository: run actions/checkout (with fetch-depth: 0) before keyhound"

    work=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/keyhound.XXXXXX")
    report="$work/keyhound.json"
    split_args
    plan
    if [[ -n $nothing ]]; then
        echo "keyhound: nothing to scan: $nothing"
        printf '## keyhound: nothing to scan\n\nNo secrets can have been added: %s\n\n' "$nothing" \
            >>"$SUMMARY"
        write_outputs clean 0 "" false false
        return 0
    fi

    echo "keyhound: scanning $scope"
    local status=0
    local page="$work/keyhound.html"
    "$KEYHOUND" git ${scan_args[@]+"${scan_args[@]}"} --format json --output "$report" \
        --report "html:$page" ${user_args[@]+"${user_args[@]}"} || status=$?
    # keyhound writes its report whenever it reads its input to the end: 0 clean, 1 secrets
    # found, 2 with a report saying so when some input could not be read. Anything else is an
    # error, reported by keyhound above.
    case $status in
        0 | 1 | 2) ;;
        *) die "keyhound failed with exit status $status (its error is above)" ;;
    esac
    [[ -s $report ]] || die "keyhound could not scan $scope (exit status $status; its error is above)"
    json_file=$report
    html_file=$page
    local counts
    counts=$(python3 -c 'import json, sys
summary = json.load(open(sys.argv[1], encoding="utf-8"))["summary"]
print(summary["failing_findings"], str(summary["incomplete"]).lower())' "$report") ||
        die "keyhound's report $report cannot be read"
    local findings=${counts% *} incomplete=${counts#* }
    case $status in
        0) verdict=clean ;;
        1) verdict=secrets ;;
        2)
            [[ $incomplete == true ]] ||
                die "keyhound could not scan $scope (exit status 2; its error is above)"
            verdict=incomplete
            ;;
    esac

    local upload=$SARIF
    [[ $upload == auto ]] && upload=$(auto_upload)
    # An incomplete scan's SARIF would close the alerts of secrets it could not read.
    [[ $verdict == incomplete ]] && upload=false

    local sarif_file="$work/keyhound.sarif"
    render sarif --output "$sarif_file"
    if [[ $upload == false ]]; then
        # Annotations on the lines of the diff: what code scanning would show, without it.
        render github
    fi
    render markdown --output "$work/summary.md"
    {
        cat "$work/summary.md"
        echo "Scanned: $scope."
        echo
        if [[ $verdict == secrets && $FAIL == false ]]; then
            echo "Reporting only (\`fail: false\`): these secrets do not fail the job."
            echo
        fi
    } >>"$SUMMARY"

    local fail_job=false
    [[ $verdict == secrets && $FAIL == true ]] && fail_job=true
    write_outputs "$verdict" "$findings" "$sarif_file" "$upload" "$fail_job"
    if [[ $verdict == incomplete ]]; then
        echo "::error title=keyhound::the scan is incomplete: some inputs could not be read \
(see the job summary)"
        exit 2
    fi
}

main "$@"
