#!/usr/bin/env bash
# Checks `keyhound scan --verify` against moto (PyPI `moto[server]`), an AWS stand-in that nobody
# wrote for keyhound: moto checks every request's SigV4 signature with botocore's own signer and
# answers GetCallerIdentity as STS does. Runs only on 127.0.0.1.
#
# moto creates an IAM user with an access key, and a role assumed for temporary credentials;
# keyhound must then report:
#   - the user's key pair                       live, with the user's ARN
#   - the user's key ID with another secret     wrong-secret
#   - a key ID moto never issued                invalid
#   - the temporary key, secret and token       live, with the assumed role's ARN
#
# Usage: scripts/test_verify_moto.sh      Needs python3 with venv and pip, and cargo.
# Exits 1 on any failure, 3 when moto cannot be installed (the check did not run).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
moto_pid=
cleanup() {
    [[ -n $moto_pid ]] && kill "$moto_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "test_verify_moto.sh: FAIL: $*" >&2; exit 1; }

if ! python3 -m venv "$work/venv" ||
    ! "$work/venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]>=5,<6" "boto3>=1.34,<2"; then
    echo "test_verify_moto.sh: moto could not be installed from PyPI: the check did not run" >&2
    exit 3
fi

(cd "$root" && cargo build --quiet --locked)
keyhound=$root/target/debug/keyhound

port=$("$work/venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$work/venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
endpoint=http://127.0.0.1:$port
"$work/venv/bin/python" - "$endpoint" <<'PY' || fail "moto did not start: $(cat "$work/moto.log")"
import sys, time, urllib.request
for _ in range(200):
    try:
        urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=1)
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY

# Set up with authentication off, then turn it on: from then on moto checks every signature.
"$work/venv/bin/python" - "$endpoint" "$work" <<'PY'
import json, re, sys, urllib.request
import boto3

endpoint, work = sys.argv[1], sys.argv[2]
aws = dict(endpoint_url=endpoint, region_name="us-east-1",
           aws_access_key_id="AKIASETUPSETUPSETUP2", aws_secret_access_key="setup" * 8)
iam = boto3.client("iam", **aws)
sts = boto3.client("sts", **aws)

# keyhound reports key IDs of AWS's alphabet (base32 after the prefix) and secrets that mix
# cases and digits; moto draws from a wider alphabet, so draw until a credential is realistic.
def realistic(key_id, secret):
    return (re.fullmatch(r"A[KS]IA[A-Z2-7]{16}", key_id)
            and re.search(r"[A-Z]", secret) and re.search(r"[a-z]", secret)
            and re.search(r"[0-9]", secret))

iam.create_user(UserName="deploy")
while True:
    key = iam.create_access_key(UserName="deploy")["AccessKey"]
    if realistic(key["AccessKeyId"], key["SecretAccessKey"]):
        break
    iam.delete_access_key(UserName="deploy", AccessKeyId=key["AccessKeyId"])

trust = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
role = iam.create_role(RoleName="ci", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
while True:
    temp = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="build")["Credentials"]
    if realistic(temp["AccessKeyId"], temp["SecretAccessKey"]):
        break

def write(name, key_id, secret, token=None):
    text = f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n"
    if token:
        text += f"aws_session_token = {token}\n"
    with open(f"{work}/scan/{name}", "w") as f:
        f.write(text)

import os
os.mkdir(f"{work}/scan")
write("live.ini", key["AccessKeyId"], key["SecretAccessKey"])
other = "Zq7" + key["SecretAccessKey"][3:]
write("wrong.ini", key["AccessKeyId"], other if other != key["SecretAccessKey"] else "Q" + other[1:])
write("unknown.ini", "AKIAWCZC6M3UVHZKOTPE", "r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD")
write("temporary.ini", temp["AccessKeyId"], temp["SecretAccessKey"], temp["SessionToken"])
json.dump({"user": key["AccessKeyId"], "temporary": temp["AccessKeyId"]},
          open(f"{work}/ids.json", "w"))

urllib.request.urlopen(urllib.request.Request(
    f"{endpoint}/moto-api/reset-auth", data=b"0", method="POST",
    headers={"Content-Type": "text/plain"}))
PY

status=0
"$keyhound" scan "$work/scan" -f json -o "$work/report.json" --verify --sts-endpoint "$endpoint" \
    2>"$work/stderr.txt" || status=$?
[[ $status == 1 ]] || { cat "$work/stderr.txt"; fail "keyhound exited with $status, not 1"; }
grep -q "verifying 4 credentials with STS at $endpoint" "$work/stderr.txt" ||
    { cat "$work/stderr.txt"; fail "keyhound did not say what it sends where"; }

"$work/venv/bin/python" - "$work" <<'PY'
import json, sys
work = sys.argv[1]
report = json.load(open(f"{work}/report.json"))
ids = json.load(open(f"{work}/ids.json"))
by_path = {f["path"].rsplit("/", 1)[-1]: f for f in report["findings"] if f.get("pair")}
failures = []
def expect(name, status, arn=None):
    finding = by_path.get(name)
    if finding is None:
        failures.append(f"{name}: no key pair finding"); return
    verification = finding.get("verification", {})
    if verification.get("status") != status:
        failures.append(f"{name}: {verification} is not {status}")
    elif arn and not verification.get("arn", "").endswith(arn):
        failures.append(f"{name}: ARN {verification.get('arn')} does not end in {arn}")
expect("live.ini", "live", ":user/deploy")
expect("wrong.ini", "wrong-secret")
expect("unknown.ini", "invalid")
expect("temporary.ini", "live", ":assumed-role/ci/build")
text = open(f"{work}/report.json").read()
for line in open(f"{work}/scan/live.ini"):
    if "secret" in line and line.split("=")[1].strip() in text:
        failures.append("a secret in the report")
if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
PY

echo "verification against moto: 4 passed, 0 failed"
