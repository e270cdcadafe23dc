# Shared by the scripts that check keyhound against moto (PyPI `moto[server]`), an AWS stand-in
# nobody wrote for keyhound: moto checks every request's SigV4 signature with botocore's signer.
# Source it after `set -euo pipefail`; it defines `work` (a temporary directory removed on
# exit, kept for a look when KEYHOUND_KEEP_WORK is set), `python`, and the functions below.
# Everything listens on 127.0.0.1 only.

work=$(mktemp -d)
python=$work/venv/bin/python
moto_pids=()
moto_cleanup() {
    for pid in "${moto_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    if [[ -n ${KEYHOUND_KEEP_WORK:-} ]]; then
        echo "kept $work" >&2
    else
        rm -rf "$work"
    fi
}
trap moto_cleanup EXIT

# fail MESSAGE: the check failed.
fail() { echo "$(basename "$0"): FAIL: $*" >&2; exit 1; }

# moto_install: a venv with moto and boto3; exits 3 when PyPI cannot be reached (the check
# did not run).
moto_install() {
    if ! python3 -m venv "$work/venv" ||
        ! "$work/venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]>=5,<6" "boto3>=1.34,<2"; then
        echo "$(basename "$0"): moto could not be installed from PyPI: the check did not run" >&2
        exit 3
    fi
}

# free_port: a TCP port free on 127.0.0.1 now.
free_port() {
    "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# moto_start: starts moto with AWS's managed policies loaded, as in AWS, and sets `endpoint`.
moto_start() {
    local port
    port=$(free_port)
    MOTO_IAM_LOAD_MANAGED_POLICIES=true "$work/venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
    moto_pids+=($!)
    endpoint=http://127.0.0.1:$port
    "$python" - "$endpoint" <<'PY' || fail "moto did not start: $(cat "$work/moto.log")"
import sys, time, urllib.request
for _ in range(200):
    try:
        urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=1)
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
}

# moto_auth_on: from now on moto checks every request's signature against its IAM.
moto_auth_on() {
    "$python" - "$endpoint" <<'PY'
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(
    f"{sys.argv[1]}/moto-api/reset-auth", data=b"0", method="POST",
    headers={"Content-Type": "text/plain"}))
PY
}

# start_standin NAME LOG_NAME ARGS...: starts a stand-in script of scripts/ in the background and
# waits for it to say `ready`.
start_standin() {
    local script=$1 log=$2
    shift 2
    "$python" "$root/scripts/$script" "$@" >"$work/$log" 2>&1 &
    moto_pids+=($!)
    for _ in $(seq 100); do grep -q ready "$work/$log" 2>/dev/null && return 0; sleep 0.1; done
    fail "$script did not start: $(cat "$work/$log")"
}
