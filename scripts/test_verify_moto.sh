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
# Then `--verify --analyze`, with the endpoints from AWS_ENDPOINT_URL as the AWS SDKs read it:
# moto checks each IAM call against the calling key's own policies, and keyhound must report
#   - a user with an inline S3 read policy      may read S3 objects, may not create access keys
#   - a user with AdministratorAccess           administrator
#   - a user whose group grants RunInstances    may launch EC2 instances, the group's policies named
#   - a user with AWSCompromisedKeyQuarantineV2 quarantined, and may not create access keys
#   - a user who may not read IAM               its calls not visible, what it may do unknown
#   - the assumed role's session                may read S3 objects, from the role's policy
#   - IAM's policy simulator, asked only by keys allowed to, page by page, its requests checked
#     against botocore's model (scripts/iam_simulator_standin.py): a denial it knows of and the
#     policies read do not is reported as a disagreement
#
# Usage: scripts/test_verify_moto.sh      Needs python3 with venv and pip, and cargo.
# Exits 1 on any failure, 3 when moto cannot be installed (the check did not run).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
moto_pid=
standin_pid=
cleanup() {
    [[ -n $moto_pid ]] && kill "$moto_pid" 2>/dev/null || true
    [[ -n $standin_pid ]] && kill "$standin_pid" 2>/dev/null || true
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
# AWS managed policies (AdministratorAccess, the quarantine policies) are there, as in AWS.
MOTO_IAM_LOAD_MANAGED_POLICIES=true "$work/venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
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

def user_with_key(name):
    iam.create_user(UserName=name)
    while True:
        key = iam.create_access_key(UserName=name)["AccessKey"]
        if realistic(key["AccessKeyId"], key["SecretAccessKey"]):
            return key
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])

def document(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})

def allow(*actions):
    return {"Effect": "Allow", "Action": list(actions), "Resource": "*"}

self_view = iam.create_policy(PolicyName="self-view",
                              PolicyDocument=document(allow("iam:Get*", "iam:List*")))["Policy"]["Arn"]
analyzed = {}
analyzed["s3-reader"] = user_with_key("s3-reader")
iam.put_user_policy(UserName="s3-reader", PolicyName="s3-read",
                    PolicyDocument=document(allow("s3:Get*", "s3:List*")))
iam.attach_user_policy(UserName="s3-reader", PolicyArn=self_view)
analyzed["admin"] = user_with_key("admin")
iam.attach_user_policy(UserName="admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
analyzed["builder"] = user_with_key("builder")
iam.create_group(GroupName="builders")
iam.add_user_to_group(GroupName="builders", UserName="builder")
iam.put_group_policy(GroupName="builders", PolicyName="launch",
                     PolicyDocument=document(allow("ec2:RunInstances")))
iam.attach_group_policy(GroupName="builders", PolicyArn=self_view)
analyzed["leaked"] = user_with_key("leaked")
iam.attach_user_policy(UserName="leaked", PolicyArn=self_view)
iam.attach_user_policy(UserName="leaked",
                       PolicyArn="arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2")
iam.put_user_policy(UserName="leaked", PolicyName="everything", PolicyDocument=document(allow("*")))
analyzed["blind"] = user_with_key("blind")
iam.put_user_policy(UserName="blind", PolicyName="get", PolicyDocument=document(allow("s3:GetObject")))
iam.put_role_policy(RoleName="ci", PolicyName="build",
                    PolicyDocument=document(allow("s3:*", "iam:Get*", "iam:List*")))

import os
os.mkdir(f"{work}/scan")
os.mkdir(f"{work}/analyze")
write("live.ini", key["AccessKeyId"], key["SecretAccessKey"])
other = "Zq7" + key["SecretAccessKey"][3:]
write("wrong.ini", key["AccessKeyId"], other if other != key["SecretAccessKey"] else "Q" + other[1:])
write("unknown.ini", "AKIAWCZC6M3UVHZKOTPE", "r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD")
write("temporary.ini", temp["AccessKeyId"], temp["SecretAccessKey"], temp["SessionToken"])
for name, created in analyzed.items():
    write(f"../analyze/{name}.ini", created["AccessKeyId"], created["SecretAccessKey"])
write("../analyze/session.ini", temp["AccessKeyId"], temp["SecretAccessKey"], temp["SessionToken"])
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

# moto lacks IAM's policy simulator: a stand-in checked against botocore's model of IAM answers
# SimulatePrincipalPolicy (denying cloudtrail:StopLogging, as a control policy the key cannot read
# would) and hands every other IAM call to moto.
standin_port=$("$work/venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$work/venv/bin/python" "$root/scripts/iam_simulator_standin.py" "$standin_port" "$endpoint" \
    --log "$work/simulated.jsonl" --explicit-deny cloudtrail:StopLogging >"$work/standin.log" 2>&1 &
standin_pid=$!
for _ in $(seq 100); do grep -q ready "$work/standin.log" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$work/standin.log" || fail "the simulator stand-in did not start: $(cat "$work/standin.log")"

status=0
AWS_ENDPOINT_URL=$endpoint AWS_ENDPOINT_URL_IAM=http://127.0.0.1:$standin_port \
    "$keyhound" scan "$work/analyze" -f json -o "$work/analyzed.json" \
    --verify --analyze 2>"$work/stderr.txt" || status=$?
[[ $status == 1 ]] || { cat "$work/stderr.txt"; fail "keyhound --analyze exited with $status, not 1"; }
grep -q "reading what each live key may do from IAM at http://127.0.0.1:$standin_port" "$work/stderr.txt" ||
    { cat "$work/stderr.txt"; fail "keyhound did not say it reads IAM, and where"; }

"$work/venv/bin/python" - "$work" <<'PY'
import json, sys
work = sys.argv[1]
report = json.load(open(f"{work}/analyzed.json"))
by_name = {f["path"].rsplit("/", 1)[-1]: f for f in report["findings"] if f.get("pair")}
failures = []
def access_of(name):
    verification = by_name.get(name, {}).get("verification", {})
    if verification.get("status") != "live":
        failures.append(f"{name}: {verification} is not live")
        return None
    access = verification.get("access")
    if access is None:
        failures.append(f"{name}: no access in {verification}")
    return access
def expect(name, check, what):
    access = access_of(name)
    if access is not None and not check(access):
        failures.append(f"{name}: {what}: {json.dumps(access, indent=1)}")

expect("s3-reader.ini", lambda a: a["actions"]["s3:GetObject"] == "allowed"
       and a["actions"]["iam:CreateAccessKey"] == "denied" and not a["administrator"]
       and "read S3 objects" in a["summary"] and not a["not_visible"],
       "may read S3 objects and may not create access keys")
expect("admin.ini", lambda a: a["administrator"] and a["summary"] == "administrator"
       and a.get("disagreements") == ["cloudtrail:StopLogging: the policies read say allowed, "
                                      "IAM's policy simulator says explicitDeny"],
       "administrator, and the simulator's denial reported as a disagreement")
expect("builder.ini", lambda a: a["actions"]["ec2:RunInstances"] == "allowed"
       and any("group builders" in p for p in a["policies"]),
       "may launch instances through its group")
expect("leaked.ini", lambda a: a["quarantined"] == "AWSCompromisedKeyQuarantineV2"
       and a["actions"]["iam:CreateAccessKey"] == "denied",
       "quarantined by AWS")
expect("blind.ini", lambda a: a["not_visible"] and a["actions"]["s3:GetObject"] == "unknown",
       "cannot see its policies")
expect("session.ini", lambda a: a["actions"]["s3:GetObject"] == "allowed"
       and a["principal"].endswith(":assumed-role/ci/build"),
       "the role's policy")
# The simulator is asked only by keys whose policies let them ask, for every action, page by page.
ids = {name: by_name[name]["pair"]["key_id"] for name in by_name}
asked = [json.loads(line) for line in open(f"{work}/simulated.jsonl")]
askers = sorted({a["key_id"] for a in asked})
if askers != sorted([ids["admin.ini"], ids["leaked.ini"]]):
    failures.append(f"the simulator was asked by {askers}, not by the admin and leaked keys alone")
actions = len(by_name["admin.ini"]["verification"]["access"]["actions"])
for key in askers:
    pages = sorted(a["page_start"] for a in asked if a["key_id"] == key)
    if pages != list(range(0, actions, 10)) or any(a["actions"] != actions for a in asked):
        failures.append(f"{key}: pages {pages} of {actions} actions")
if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
PY

echo "verification against moto: 11 passed, 0 failed"
