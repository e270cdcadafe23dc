"""Checks scripts/aws_standin.py against moto with boto3, on 127.0.0.1 only: LookupEvents'
pages, filters, refusals and throttling, an inactive key refused by STS, and IAM handed to moto.

Usage: python scripts/test_aws_standin.py      with moto[server] 5 and boto3 in that python.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.dirname(sys.executable)
TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
work = tempfile.mkdtemp()
processes = []
results = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(argv, env=None, ready=None):
    out = open(f"{work}/{len(processes)}.out", "w+")
    processes.append(subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env))
    for _ in range(200):
        if ready():
            return
        time.sleep(0.1)
    out.seek(0)
    raise SystemExit(f"{argv[0]} did not start: {out.read()}")


def check(name, condition):
    results.append(condition)
    print(("ok    " if condition else "FAIL  ") + name)


def error_of(call):
    try:
        call()
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


def main():
    moto = f"http://127.0.0.1:{free_port()}"

    def moto_up():
        try:
            return urllib.request.urlopen(moto + "/moto-api/", timeout=1) and True
        except OSError:
            return False
    start([f"{BIN}/moto_server", "-H", "127.0.0.1", "-p", moto.rsplit(":", 1)[1]],
          dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true"), moto_up)

    setup = boto3.client("iam", endpoint_url=moto, region_name="us-east-1",
                         aws_access_key_id="AKIASETUPSETUPSETUP2", aws_secret_access_key="s" * 40)
    setup.create_user(UserName="operator")
    setup.attach_user_policy(UserName="operator",
                             PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    operator = setup.create_access_key(UserName="operator")["AccessKey"]
    setup.create_user(UserName="leaked")
    leaked = setup.create_access_key(UserName="leaked")["AccessKey"]
    urllib.request.urlopen(urllib.request.Request(moto + "/moto-api/reset-auth", data=b"0",
                                                  headers={"Content-Type": "text/plain"}))

    base = int(time.time()) - 3 * 86400
    def event(i, key, region="us-east-1"):
        return {"EventId": f"e{i}", "EventName": "ListBuckets", "ReadOnly": "true",
                "AccessKeyId": key, "EventTime": base + 60 * i, "EventSource": "s3.amazonaws.com",
                "Username": "leaked", "Resources": [],
                "CloudTrailEvent": json.dumps({"sourceIPAddress": "203.0.113.9", "awsRegion": region,
                                               "userAgent": "curl", "readOnly": True,
                                               "userIdentity": {"type": "IAMUser",
                                                                "accessKeyId": key}})}
    key = leaked["AccessKeyId"]
    events = {"us-east-1": [event(i, key) for i in range(120)] + [event(500, "AKIAOTHER")],
              "eu-west-1": [event(i, key, "eu-west-1") for i in range(3)]}
    with open(f"{work}/events.json", "w") as f:
        json.dump(events, f)

    def standin(*extra):
        port, out = free_port(), f"{work}/{len(processes)}.out"
        start([sys.executable, f"{HERE}/aws_standin.py", str(port), moto,
               "--operator", f"{operator['AccessKeyId']}:{operator['SecretAccessKey']}",
               "--events", f"{work}/events.json", "--log", f"{work}/{port}.jsonl", *extra],
              ready=lambda: "ready" in open(out).read())
        return f"http://127.0.0.1:{port}", f"{work}/{port}.jsonl"
    endpoint, log = standin("--disabled-region", "me-south-1")

    def client(service, region="us-east-1", creds=operator, **config):
        return boto3.client(service, endpoint_url=endpoint, region_name=region,
                            aws_access_key_id=creds["AccessKeyId"],
                            aws_secret_access_key=creds["SecretAccessKey"],
                            config=Config(retries={"total_max_attempts": 1}, **config))
    trail = client("cloudtrail")
    by_key = [{"AttributeKey": "AccessKeyId", "AttributeValue": key}]

    def lookup(**params):
        time.sleep(0.55)  # two a second at most
        return trail.lookup_events(**params)

    pages, token = [], {}
    while True:
        page = lookup(LookupAttributes=by_key, **token)
        pages.append(page)
        if "NextToken" not in page:
            break
        token = {"NextToken": page["NextToken"]}
    times = [e["EventTime"].timestamp() for p in pages for e in p["Events"]]
    check("120 events come in pages of 50, 50, 20, newest first",
          [len(p["Events"]) for p in pages] == [50, 50, 20] and times == sorted(times, reverse=True)
          and times[0] == base + 60 * 119)
    ranged = lookup(LookupAttributes=by_key, StartTime=base + 600, EndTime=base + 1140)
    check("StartTime and EndTime filter, inclusive",
          sorted(e["EventId"] for e in ranged["Events"]) == sorted(f"e{i}" for i in range(10, 20)))
    time.sleep(0.55)
    check("StartTime after EndTime is InvalidTimeRangeException",
          error_of(lambda: trail.lookup_events(StartTime=base + 10, EndTime=base)) ==
          "InvalidTimeRangeException")
    time.sleep(0.55)
    check("two lookup attributes are InvalidLookupAttributesException",
          error_of(lambda: trail.lookup_events(LookupAttributes=by_key * 2)) ==
          "InvalidLookupAttributesException")

    def raw(body, region="us-east-1", creds=operator, service="cloudtrail"):
        time.sleep(0.55)
        request = AWSRequest("POST", endpoint + "/", data=json.dumps(body).encode(), headers={
            "X-Amz-Target": TARGET, "Content-Type": "application/x-amz-json-1.1"})
        SigV4Auth(Credentials(creds["AccessKeyId"], creds["SecretAccessKey"]),
                  service, region).add_auth(request)
        try:
            urllib.request.urlopen(urllib.request.Request(
                endpoint + "/", data=request.body, headers=dict(request.headers.items())))
            return None
        except urllib.error.HTTPError as e:
            return json.loads(e.read())["__type"]
    check("MaxResults 0 and 51 are InvalidMaxResultsException",
          raw({"MaxResults": 0}) == raw({"MaxResults": 51}) == "InvalidMaxResultsException")
    check("an unknown member is ValidationException", raw({"Limit": 5}) == "ValidationException")
    check("an AttributeKey off the enum is InvalidLookupAttributesException",
          raw({"LookupAttributes": [{"AttributeKey": "SourceIp", "AttributeValue": "x"}]})
          == "InvalidLookupAttributesException")
    check("ISO 8601 times are taken", raw({"StartTime": "2020-01-01T00:00:00Z"}) is None)
    check("a forged NextToken is InvalidNextTokenException",
          raw({"NextToken": "forged"}) == "InvalidNextTokenException")
    check("a NextToken of another query is InvalidNextTokenException",
          raw({"NextToken": pages[0]["NextToken"]}) == "InvalidNextTokenException")
    check("a wrong secret is InvalidSignatureException",
          raw({}, creds=dict(operator, SecretAccessKey="x" * 40)) == "InvalidSignatureException")
    check("another key is UnrecognizedClientException",
          raw({}, creds=leaked) == "UnrecognizedClientException")
    check("a disabled region is UnrecognizedClientException",
          raw({}, region="me-south-1") == "UnrecognizedClientException")

    eu = client("cloudtrail", "eu-west-1")
    burst = [error_of(lambda: eu.lookup_events(LookupAttributes=by_key)) for _ in range(3)]
    check("a third call within a second is ThrottlingException",
          burst == [None, None, "ThrottlingException"])

    endpoint_first, _ = standin("--throttle-first", "1")
    first = boto3.client("cloudtrail", endpoint_url=endpoint_first, region_name="eu-west-1",
                         aws_access_key_id=operator["AccessKeyId"],
                         aws_secret_access_key=operator["SecretAccessKey"],
                         config=Config(retries={"total_max_attempts": 1}))
    check("--throttle-first 1 throttles the first call only",
          [error_of(lambda: first.lookup_events()) for _ in range(2)] == ["ThrottlingException", None])

    sts = client("sts", creds=leaked)
    check("GetCallerIdentity works while the key is Active",
          sts.get_caller_identity()["Arn"].endswith(":user/leaked"))
    iam = client("iam")
    iam.update_access_key(UserName="leaked", AccessKeyId=key, Status="Inactive")
    check("GetCallerIdentity is InvalidClientTokenId once it is Inactive",
          error_of(sts.get_caller_identity) == "InvalidClientTokenId")
    check("IAM calls go to moto", "leaked" in [u["UserName"] for u in iam.list_users()["Users"]])

    lines = [json.loads(line) for line in open(log)]
    statuses = {line["status"] for line in lines if "region" in line}
    forwarded = [line["forwarded"] for line in lines if "forwarded" in line]
    check("the log has every outcome and the forwarded calls",
          statuses == {"ok", "invalid", "throttled", "disabled"}
          and forwarded == ["GetCallerIdentity", "UpdateAccessKey", "ListUsers"]
          and any(line.get("answered") == "GetCallerIdentity" for line in lines)
          and [line["events"] for line in lines if line.get("key_id") == key
               and line["status"] == "ok"][:3] == [50, 50, 20])

    print(f"{results.count(True)} passed, {results.count(False)} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        for process in processes:
            process.terminate()
            process.wait()
        shutil.rmtree(work, ignore_errors=True)
