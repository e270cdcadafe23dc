#!/usr/bin/env bash
# Checks `keyhound respond` against moto (IAM, STS, EC2) and scripts/aws_standin.py (CloudTrail's
# LookupEvents, checked against botocore's model, and STS refusing a deactivated key as AWS
# does), on 127.0.0.1 only. The operator is an administrator of moto's account; the report, made
# by `keyhound scan --show-secrets -f json`, holds:
#   - deploy's long-term key, used (CloudTrail: 120 events in us-east-1, writes and denials)
#   - a temporary key of the role `ci`, seen in eu-west-1
#   - a key of another account                 not yours: nothing asked beyond its account
#   - a canary token                           never touched: no call names it
# and keyhound must:
#   - dry run: exit 1, plan the deactivation and the revocation, change nothing in moto, make
#     no write call, read all three pages of events through throttling
#   - --apply by an operator who may only read: exit 2, the refusal on the card, nothing changed
#   - --apply --quarantine: exit 0, deploy's key Inactive and AWSCompromisedKeyQuarantineV3
#     attached in moto, the role's older sessions revoked, STS now refusing the key, the other
#     account's key untouched
#   - --apply again, in every region EC2 lists: exit 0, no write call, nothing changed
#   - a region not enabled for the account: one line on the card, the rest goes on
#   - a report that is not a report, and no operator credentials: exit 2 with one clear line
#
# Usage: scripts/test_respond_moto.sh      Needs python3 with venv and pip, and cargo.
# Exits 1 on any failure, 3 when moto cannot be installed (the check did not run).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/moto.sh
source "$root/scripts/lib/moto.sh"

moto_install
# The stand-in is checked first, on its own, so that a fault of its shows as its own.
"$python" "$root/scripts/test_aws_standin.py" || fail "the stand-in's own check"
(cd "$root" && cargo build --quiet --locked)
keyhound=$root/target/debug/keyhound
moto_start

mkdir "$work/scan"
"$python" - "$endpoint" "$work" "$root/scripts/lib" <<'PY'
import json, random, sys, time
sys.path.insert(0, sys.argv[3])
from moto_setup import TRUST_ANYONE, clients, session, user_with_key, write_credentials

endpoint, work = sys.argv[1], sys.argv[2]
iam, sts = clients(endpoint, "iam", "sts")

def write(name, key_id, secret, token=None):
    write_credentials(f"{work}/scan/{name}", key_id, secret, token)

operator = user_with_key(iam, "responder")
iam.attach_user_policy(UserName="responder",
                       PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
deploy = user_with_key(iam, "deploy")
# An operator who may read but not change IAM: their --apply must fail, and say so.
reader = user_with_key(iam, "reader")
iam.put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=json.dumps({
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
        "iam:Get*", "iam:List*", "sts:GetCallerIdentity", "sts:GetAccessKeyInfo",
        "ec2:DescribeRegions", "cloudtrail:LookupEvents"]}]}))
role = iam.create_role(RoleName="ci", AssumeRolePolicyDocument=TRUST_ANYONE)["Role"]
temp = session(sts, role["Arn"], "build")

# Another account's user and key, made with credentials of a role in that account.
other_creds = sts.assume_role(RoleArn="arn:aws:iam::111122223333:role/admin",
                              RoleSessionName="setup")["Credentials"]
[other_iam] = clients(endpoint, "iam", aws_access_key_id=other_creds["AccessKeyId"],
                     aws_secret_access_key=other_creds["SecretAccessKey"],
                     aws_session_token=other_creds["SessionToken"])
other = user_with_key(other_iam, "theirs")

# A canary: a key ID that encodes an account of a canary-token service (rules/canaries.toml).
def key_id_of_account(account):
    z = (1 << 47) | (int(account) << 7) | random.getrandbits(7)
    value = (z << 32) | random.getrandbits(32)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return "AKIA" + "".join(alphabet[(value >> (5 * (15 - i))) & 31] for i in range(16))
canary = key_id_of_account("052310077262")

write("deploy.ini", deploy["AccessKeyId"], deploy["SecretAccessKey"])
write("session.ini", temp["AccessKeyId"], temp["SecretAccessKey"], temp["SessionToken"])
write("theirs.ini", other["AccessKeyId"], other["SecretAccessKey"])
write("canary.ini", canary, "Kq3vXw9Zt2LmN8pR4sYb7HcJ6dF1gA5eUoQiWxTz")

# CloudTrail: 120 events of deploy's key in us-east-1 over the last days (reads, two writes,
# a burst of denials), and the session's calls in eu-west-1.
now = time.time()
def event(key_id, seconds, name, source, read_only, error=None, role=None, region="us-east-1"):
    record = {"eventVersion": "1.08", "eventTime": seconds, "eventName": name,
              "eventSource": source, "awsRegion": region, "sourceIPAddress": "203.0.113.9",
              "userAgent": "aws-cli/2.15.0", "readOnly": read_only,
              "userIdentity": {"type": "IAMUser", "accessKeyId": key_id}}
    if error:
        record["errorCode"] = error
    if role:
        record["userIdentity"] = {"type": "AssumedRole", "accessKeyId": key_id,
            "sessionContext": {"sessionIssuer": {"type": "Role", "userName": role,
                "arn": f"arn:aws:iam::123456789012:role/{role}"}}}
    return {"EventId": f"{key_id}-{seconds}", "EventName": name,
            "ReadOnly": "true" if read_only else "false", "AccessKeyId": key_id,
            "EventTime": seconds, "EventSource": source, "Username": "deploy",
            "Resources": [], "CloudTrailEvent": json.dumps(record)}
deploy_events = [event(deploy["AccessKeyId"], int(now - 3600 * (i + 1)), "GetObject",
                       "s3.amazonaws.com", True) for i in range(110)]
deploy_events += [event(deploy["AccessKeyId"], int(now - 600 - i), "ListUsers",
                        "iam.amazonaws.com", True, error="AccessDenied") for i in range(8)]
deploy_events += [event(deploy["AccessKeyId"], int(now - 300), "PutBucketPolicy",
                        "s3.amazonaws.com", False),
                  event(deploy["AccessKeyId"], int(now - 200), "CreateAccessKey",
                        "iam.amazonaws.com", False, error="AccessDenied")]
session_events = [event(temp["AccessKeyId"], int(now - 900), "RunInstances",
                        "ec2.amazonaws.com", False, role="ci", region="eu-west-1")]
json.dump({"us-east-1": deploy_events, "eu-west-1": session_events},
          open(f"{work}/events.json", "w"))
json.dump({"operator": [operator["AccessKeyId"], operator["SecretAccessKey"]],
           "reader": [reader["AccessKeyId"], reader["SecretAccessKey"]],
           "deploy": deploy["AccessKeyId"], "session": temp["AccessKeyId"],
           "theirs": other["AccessKeyId"], "canary": canary},
          open(f"{work}/ids.json", "w"))
PY
moto_auth_on

operator=$("$python" -c 'import json, sys; print(":".join(json.load(open(sys.argv[1]))["operator"]))' "$work/ids.json")
standin_port=$(free_port)
start_standin aws_standin.py standin.log "$standin_port" "$endpoint" --operator "$operator" \
    --events "$work/events.json" --log "$work/standin.jsonl" --throttle-first 1 \
    --disabled-region ap-east-1

"$keyhound" scan "$work/scan" -f json --show-secrets -o "$work/report.json" 2>/dev/null || true

export AWS_ACCESS_KEY_ID=${operator%%:*} AWS_SECRET_ACCESS_KEY=${operator#*:}
export AWS_ENDPOINT_URL=http://127.0.0.1:$standin_port AWS_REGION=us-east-1
# Nothing may look for instance credentials: no address but 127.0.0.1 is ever reached.
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=$work/none AWS_SHARED_CREDENTIALS_FILE=$work/none
unset AWS_PROFILE AWS_SESSION_TOKEN

respond() { # respond NAME STATUS ARGS...: runs respond, expects exit STATUS, keeps its output
    local name=$1 expected=$2 status=0
    shift 2
    "$keyhound" respond "$work/report.json" --log "$work/calls.jsonl" \
        "$@" >"$work/$name.out" 2>"$work/$name.err" || status=$?
    [[ $status == "$expected" ]] ||
        { cat "$work/$name.out" "$work/$name.err"; fail "respond $* exited with $status, not $expected"; }
}
writes() { # the write calls the stand-in forwarded to moto
    grep -o '"forwarded": *"[A-Za-z]*"' "$work/standin.jsonl" | grep -E '"(Update|Attach|Put|Delete|Create)' || true
}

regions=us-east-1,eu-west-1
respond dry 1 -f json --regions $regions,ap-east-1
[[ -z $(writes) ]] || fail "the dry run wrote: $(writes)"
respond dry-text 1 --regions $regions
respond dry-markdown 1 -f markdown --regions $regions
grep -q '^### `AKIA' "$work/dry-markdown.out" || fail "no card in the Markdown: $(cat "$work/dry-markdown.out")"
grep -q 'aws iam update-access-key' "$work/dry-text.out" || fail "no command in the text: $(cat "$work/dry-text.out")"

reader=$("$python" -c 'import json, sys; print(":".join(json.load(open(sys.argv[1]))["reader"]))' "$work/ids.json")
AWS_ACCESS_KEY_ID=${reader%%:*} AWS_SECRET_ACCESS_KEY=${reader#*:} \
    respond denied 2 -f json --apply --regions us-east-1
respond apply 0 -f json --apply --quarantine --settle 10 --regions $regions
# The regions enabled for the account, as EC2 lists them, this time.
respond again 0 -f json --apply --quarantine --settle 10

"$python" - "$work" "$endpoint" "$root/scripts/lib" <<'PY'
import json, sys
work, endpoint = sys.argv[1], sys.argv[2]
ids = json.load(open(f"{work}/ids.json"))
failures = []
def cards(name):
    return {card["key_id"]: card for card in json.load(open(f"{work}/{name}.out"))["keys"]}
def check(condition, what):
    if not condition:
        failures.append(what)

dry, denied, applied, again = cards("dry"), cards("denied"), cards("apply"), cards("again")
deploy, session, theirs, canary = ids["deploy"], ids["session"], ids["theirs"], ids["canary"]
card = dry[deploy]
check(card["owned"] is True and card["user"] == "deploy" and card["status_before"] == "Active",
      f"deploy's card: {card}")
check([s["action"] for s in card["plan"]] == ["iam:UpdateAccessKey"], f"deploy's plan: {card['plan']}")
check(card["actions"] == [] and card["status_after"] == "Active", f"the dry run acted: {card}")
activity = card["activity"]
check(activity["events"] == 120, f"deploy's events: {activity['events']}")
check(not activity["complete"] and activity["problems"] == [
      "ap-east-1: the region refused the operator's credentials (is it enabled for the account?)"],
      f"a region not enabled: {activity['problems']}")
check([c["event"] for c in activity["changes"]] == ["CreateAccessKey", "PutBucketPolicy"],
      f"changes: {activity['changes']}")
check(activity["denied"] == 9 and activity["error_codes"] == {"AccessDenied": 9},
      f"denials: {activity['error_codes']}")
check(activity["source_ips"] == {"203.0.113.9": 120}, f"source IPs: {activity['source_ips']}")
card = dry[session]
check(card["role"] == "ci" and [s["action"] for s in card["plan"]] == ["iam:PutRolePolicy"],
      f"the session's card: {card}")
card = dry[theirs]
check(card["owned"] is False and card["account"] == "111122223333"
      and card["verdict"].startswith("not yours") and card["plan"] == [] and card["activity"] is None,
      f"another account's card: {card}")
card = dry[canary]
check(card["verdict"].startswith("never touched") and card["account"] == "052310077262",
      f"the canary's card: {card}")

card = denied[deploy]
check(card["actions"] == [{"action": "iam:UpdateAccessKey", "result": "refused: AccessDenied (HTTP 403)"}]
      and card["verdict"] == "containment failed: see the actions" and card["status_after"] == "Active",
      f"deploy when the operator may not write: {card}")
card = applied[deploy]
check(card["status_before"] == "Active" and card["status_after"] == "Inactive"
      and all(a["result"] == "done" for a in card["actions"])
      and card["quarantined"] == "AWSCompromisedKeyQuarantineV3"
      and card["reverified"].startswith("refused by STS"), f"deploy after --apply: {card}")
card = applied[session]
check(card["status_after"] == "Revoked" and card["actions"] == [{"action": "iam:PutRolePolicy",
      "result": "done"}], f"the session after --apply: {card}")
for key, card in again.items():
    check(card["actions"] == [] and card["plan"] == [], f"the second --apply acted on {key}: {card}")
check(again[deploy]["verdict"] == "contained: Inactive, nothing to change", again[deploy]["verdict"])
check(len(again[deploy]["activity"]["regions"]) > 2 and "eu-west-1" in again[deploy]["activity"]["regions"],
      f"the enabled regions: {again[deploy]['activity']['regions']}")

# What moto holds now: deploy's key inactive and quarantined, the role's sessions revoked,
# the other account's key as it was.
sys.path.insert(0, sys.argv[3])
from moto_setup import clients
[admin] = clients(endpoint, "iam", aws_access_key_id=ids["operator"][0],
                  aws_secret_access_key=ids["operator"][1])
status = {k["AccessKeyId"]: k["Status"] for k in admin.list_access_keys(UserName="deploy")["AccessKeyMetadata"]}
check(status == {deploy: "Inactive"}, f"moto's keys of deploy: {status}")
attached = [p["PolicyName"] for p in admin.list_attached_user_policies(UserName="deploy")["AttachedPolicies"]]
check(attached == ["AWSCompromisedKeyQuarantineV3"], f"deploy's policies: {attached}")
revoke = admin.get_role_policy(RoleName="ci", PolicyName="AWSRevokeOlderSessions")["PolicyDocument"]
check(revoke["Statement"][0]["Effect"] == "Deny", f"the revocation: {revoke}")

# The call log: every call, never a secret, the canary never named, nothing about the other
# account's key beyond STS's GetAccessKeyInfo.
calls = [json.loads(line) for line in open(f"{work}/calls.jsonl")]
text = open(f"{work}/calls.jsonl").read()
check(all(set(c) >= {"time", "action", "key_id", "account", "result", "request_id"} for c in calls),
      "a log line lacks a field")
check(not any(c["key_id"] == canary for c in calls), "a call named the canary")
check({c["action"] for c in calls if c["key_id"] == theirs} == {"sts:GetAccessKeyInfo"},
      f"calls about the other account's key: {[c['action'] for c in calls if c['key_id'] == theirs]}")
check(ids["operator"][1] not in text, "a secret in the call log")
writes = [c["action"] for c in calls if c["action"].split(":")[1].startswith(("Update", "Attach", "Put"))]
check(writes == ["iam:UpdateAccessKey", "iam:UpdateAccessKey", "iam:AttachUserPolicy",
                 "iam:PutRolePolicy"], f"the writes of all runs (the first refused): {writes}")
# CloudTrail was read page by page, through throttling, within its rate.
lookups = [json.loads(l) for l in open(f"{work}/standin.jsonl") if '"region"' in l]
check(any(l["status"] == "throttled" for l in lookups), "no lookup was throttled")
# (The read-only operator is not the one the stand-in knows: its lookups are refused as
# another account's would be.)
invalid = [l for l in lookups if l["status"] == "invalid" and l["error"] != "UnrecognizedClientException"]
check(not invalid, f"lookups keyhound shaped wrongly: {invalid}")
pages = [l for l in lookups if l["region"] == "us-east-1" and l["status"] == "ok" and l["key_id"] == deploy]
check(len(pages) >= 3 and sum(l["events"] for l in pages[:3]) == 120, f"us-east-1 pages: {pages[:3]}")
if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
PY

# Bad input: a file that is not a report, and no operator credentials: one clear line, exit 2.
echo '{"findings": 3}' >"$work/not-a-report.json"
status=0
"$keyhound" respond "$work/not-a-report.json" >/dev/null 2>"$work/bad.err" || status=$?
[[ $status == 2 ]] && grep -q "is not a keyhound JSON report" "$work/bad.err" ||
    fail "a file that is not a report: exit $status, $(cat "$work/bad.err")"
status=0
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$keyhound" respond "$work/report.json" \
    >/dev/null 2>"$work/nocreds.err" || status=$?
[[ $status == 2 ]] && grep -q "no operator credentials" "$work/nocreds.err" ||
    fail "no operator credentials: exit $status, $(cat "$work/nocreds.err")"

echo "respond against moto: 6 passed, 0 failed"
