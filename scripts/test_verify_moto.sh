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
# shellcheck source=lib/moto.sh
source "$root/scripts/lib/moto.sh"

moto_install
(cd "$root" && cargo build --quiet --locked)
keyhound=$root/target/debug/keyhound
moto_start

# Set up with authentication off, then turn it on: from then on moto checks every signature.
"$python" - "$endpoint" "$work" "$root/scripts/lib" <<'PY'
import json, os, sys
sys.path.insert(0, sys.argv[3])
from moto_setup import TRUST_ANYONE, clients, session, user_with_key, write_credentials

endpoint, work = sys.argv[1], sys.argv[2]
iam, sts = clients(endpoint, "iam", "sts")
key = user_with_key(iam, "deploy")
role = iam.create_role(RoleName="ci", AssumeRolePolicyDocument=TRUST_ANYONE)["Role"]
temp = session(sts, role["Arn"], "build")

def write(name, key_id, secret, token=None):
    write_credentials(f"{work}/scan/{name}", key_id, secret, token)

def document(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})

def allow(*actions):
    return {"Effect": "Allow", "Action": list(actions), "Resource": "*"}

self_view = iam.create_policy(PolicyName="self-view",
                              PolicyDocument=document(allow("iam:Get*", "iam:List*")))["Policy"]["Arn"]
analyzed = {}
analyzed["s3-reader"] = user_with_key(iam, "s3-reader")
iam.put_user_policy(UserName="s3-reader", PolicyName="s3-read",
                    PolicyDocument=document(allow("s3:Get*", "s3:List*")))
iam.attach_user_policy(UserName="s3-reader", PolicyArn=self_view)
analyzed["admin"] = user_with_key(iam, "admin")
iam.attach_user_policy(UserName="admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
analyzed["builder"] = user_with_key(iam, "builder")
iam.create_group(GroupName="builders")
iam.add_user_to_group(GroupName="builders", UserName="builder")
iam.put_group_policy(GroupName="builders", PolicyName="launch",
                     PolicyDocument=document(allow("ec2:RunInstances")))
iam.attach_group_policy(GroupName="builders", PolicyArn=self_view)
analyzed["leaked"] = user_with_key(iam, "leaked")
iam.attach_user_policy(UserName="leaked", PolicyArn=self_view)
iam.attach_user_policy(UserName="leaked",
                       PolicyArn="arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2")
iam.put_user_policy(UserName="leaked", PolicyName="everything", PolicyDocument=document(allow("*")))
analyzed["blind"] = user_with_key(iam, "blind")
iam.put_user_policy(UserName="blind", PolicyName="get", PolicyDocument=document(allow("s3:GetObject")))
iam.put_role_policy(RoleName="ci", PolicyName="build",
                    PolicyDocument=document(allow("s3:*", "iam:Get*", "iam:List*")))

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
PY
moto_auth_on

status=0
"$keyhound" scan "$work/scan" -f json -o "$work/report.json" --verify --sts-endpoint "$endpoint" \
    2>"$work/stderr.txt" || status=$?
[[ $status == 1 ]] || { cat "$work/stderr.txt"; fail "keyhound exited with $status, not 1"; }
grep -q "verifying 4 credentials with STS at $endpoint" "$work/stderr.txt" ||
    { cat "$work/stderr.txt"; fail "keyhound did not say what it sends where"; }

"$python" - "$work" <<'PY'
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
standin_port=$(free_port)
start_standin iam_simulator_standin.py standin.log "$standin_port" "$endpoint" \
    --log "$work/simulated.jsonl" --explicit-deny cloudtrail:StopLogging

status=0
AWS_ENDPOINT_URL=$endpoint AWS_ENDPOINT_URL_IAM=http://127.0.0.1:$standin_port \
    "$keyhound" scan "$work/analyze" -f json -o "$work/analyzed.json" \
    --verify --analyze 2>"$work/stderr.txt" || status=$?
[[ $status == 1 ]] || { cat "$work/stderr.txt"; fail "keyhound --analyze exited with $status, not 1"; }
grep -q "reading what each live key may do from IAM at http://127.0.0.1:$standin_port" "$work/stderr.txt" ||
    { cat "$work/stderr.txt"; fail "keyhound did not say it reads IAM, and where"; }

"$python" - "$work" <<'PY'
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
