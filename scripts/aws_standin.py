"""A stand-in for AWS on 127.0.0.1 that fills the two gaps moto leaves for `keyhound respond`,
and hands every other call to moto.

moto lacks CloudTrail's LookupEvents, so this stand-in answers it from a file of events
(`--events`, JSON `{"REGION": [event, ...]}`, each event of botocore's `Event` shape). And moto
still accepts an IAM access key after it was made Inactive, where AWS refuses it; so a
GetCallerIdentity signed by a key moto lists as Inactive is refused here as STS refuses it (403
`InvalidClientTokenId`), which is what tells `respond` that a deactivation took.

LookupEvents is held to what AWS would hold a caller to, so a request keyhound shapes or signs
wrongly fails here instead of passing:
  - The SigV4 signature is recomputed with botocore's own signer from the operator's secret
    (`--operator KEYID:SECRET`), over the headers the Authorization header names, with the
    request's X-Amz-Date; the key must be the operator's and the scope `cloudtrail`'s. The
    region is read from the credential scope, as an AWS endpoint is one region.
  - A region named by `--disabled-region` answers as a region not enabled for the account does.
  - More than two requests in any one second for one region are throttled, the documented
    limit of LookupEvents (only requests let through count, as a token bucket would), and
    `--throttle-first N` throttles the first N of each region regardless, so a client's backoff
    is exercised deterministically.
  - The body is checked against botocore's model of CloudTrail (the operation's input shape):
    members, required members, types, enums, lengths and the range of MaxResults; plus the
    documented limit of one lookup attribute, StartTime not after EndTime, and a NextToken this
    stand-in gave for the same query. A fault is a 400 under the model's own error name where it
    has one (InvalidMaxResultsException, ...), else ValidationException.
  - Events are filtered by the lookup attribute and by StartTime/EndTime (inclusive), newest
    first, MaxResults a page (50 when absent), and each reply is checked against the output shape
    before it goes out. Unlike AWS, events older than 90 days are still found.
  - Also as AWS: X-Amz-Date must be within 15 minutes of now, and Host must be signed.

Everything else goes to moto as it came, its Host header included, so moto checks the very
signature the client made.

`--log FILE` gets one JSON line a request: for each LookupEvents
  {"region", "key_id", "max_results", "next_token", "status", "error", "events", "time"}
(status "ok", "throttled", "disabled" or "invalid"; key_id the AccessKeyId looked up), for a
refused GetCallerIdentity {"answered": "GetCallerIdentity", "key_id", "status": 403, "error"},
and for each forwarded call {"forwarded": OPERATION, "status"}: OPERATION is the Action of a
query-protocol call, the operation of an X-Amz-Target (the whole target then in "target"), or
"METHOD /path" of a REST call.

Usage: python aws_standin.py PORT MOTO_ENDPOINT --operator KEYID:SECRET --events FILE
           --log FILE [--throttle-first N] [--disabled-region REGION ...]
"""

import argparse
import collections
import datetime
import hashlib
import hmac
import http.client
import json
import re
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

CLOUDTRAIL = botocore.session.get_session().get_service_model("cloudtrail")
LOOKUP = CLOUDTRAIL.operation_model("LookupEvents")
TARGET_PREFIX = CLOUDTRAIL.metadata["targetPrefix"]
CONTENT_TYPE = "application/x-amz-json-" + CLOUDTRAIL.metadata["jsonVersion"]
SERVICE = CLOUDTRAIL.metadata["endpointPrefix"]
EVENT_SHAPE = LOOKUP.output_shape.members["Events"].member
# The documentation gives 50 as both the default and the most a page holds; the model holds the
# latter.
DEFAULT_PAGE = LOOKUP.input_shape.members["MaxResults"].metadata["max"]
# The model's constraints set no length on LookupAttributes, but its documentation does:
# "Currently the list can contain only one item."
MOST_ATTRIBUTES = 1
RATE = 2  # LookupEvents requests a second, per account, per region
SKEW = 15 * 60  # AWS refuses a signature made further than this from its own clock

# A fault in one of these members is answered under the model's own error for it.
ERRORS = {name: error for name, error in {
    "LookupAttributes": "InvalidLookupAttributesException",
    "MaxResults": "InvalidMaxResultsException",
    "EventCategory": "InvalidEventCategoryException",
    "NextToken": "InvalidNextTokenException",
    "StartTime": "InvalidTimeRangeException",
    "EndTime": "InvalidTimeRangeException",
}.items() if error in {shape.name for shape in LOOKUP.error_shapes}}

INVALID_TOKEN = "The security token included in the request is invalid."
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade", "content-length",
              # botocore never signs Expect; this server has already answered it.
              "expect"}


class Refusal(Exception):
    """An error answer in AWS's JSON protocol, and what the log calls it."""

    def __init__(self, error, message, outcome="invalid", status=400):
        super().__init__(message)
        self.error, self.message, self.outcome, self.status = error, message, outcome, status


def timestamp(value, on_the_wire):
    """Epoch seconds from a model timestamp, or None. AWS's JSON protocol sends epoch numbers;
    requests may also carry ISO 8601, which AWS accepts."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and not on_the_wire:
        try:
            parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.timezone.utc)
        return parsed.timestamp()
    return None


def shape_faults(shape, value, where, reply=False):
    """Each way `value` departs from the model's `shape`, as (member path, kind, message).
    A reply (`reply=True`) must send timestamps as numbers, as AWS's JSON protocol does."""
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            yield where, "type", f"{where} must be a structure (a JSON object)"
            return
        for name in value:
            if name not in shape.members:
                yield where, "unknown", f"{name} is not a member of {shape.name}"
        for name in shape.required_members:
            if value.get(name) is None:
                yield f"{where}.{name}", "required", f"{where}.{name} is required"
        for name, member in value.items():
            # AWS takes a member sent as null for a member not sent.
            if name in shape.members and member is not None:
                yield from shape_faults(shape.members[name], member, f"{where}.{name}", reply)
    elif kind == "list":
        if not isinstance(value, list):
            yield where, "type", f"{where} must be a list"
            return
        if len(value) < meta.get("min", 0) or len(value) > meta.get("max", len(value)):
            yield where, "length", f"{where} must have {meta.get('min', 0)} to {meta.get('max')} items"
        for index, item in enumerate(value):
            yield from shape_faults(shape.member, item, f"{where}[{index}]", reply)
    elif kind == "string":
        if not isinstance(value, str):
            yield where, "type", f"{where} must be a string"
            return
        if shape.enum and value not in shape.enum:
            yield where, "enum", f"{where} must be one of {', '.join(shape.enum)}, not {value!r}"
        if len(value) < meta.get("min", 0) or len(value) > meta.get("max", len(value)):
            yield where, "length", (f"{where} must be {meta.get('min', 0)} to "
                                    f"{meta.get('max', 'any number of')} characters long")
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            yield where, "type", f"{where} must be an integer"
            return
        if value < meta.get("min", value) or value > meta.get("max", value):
            yield where, "range", (f"{where} must be from {meta.get('min', '-')} to "
                                   f"{meta.get('max', '-')}, not {value}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            yield where, "type", f"{where} must be a boolean"
    elif kind == "timestamp":
        if timestamp(value, on_the_wire=reply) is None:
            yield where, "type", (f"{where} must be epoch seconds"
                                  + ("" if reply else " or an ISO 8601 time"))
    else:
        yield where, "type", f"{where}: the stand-in does not check {kind} members"


def load_events(path):
    """The events by region, newest first, each checked against the model's Event shape."""
    with open(path) as f:
        by_region = json.load(f)
    if not isinstance(by_region, dict):
        raise SystemExit(f"{path}: not an object of regions")
    events = {}
    for region, listed in by_region.items():
        checked = []
        for index, event in enumerate(listed):
            faults = list(shape_faults(EVENT_SHAPE, event, f"{region}[{index}]"))
            if faults:
                raise SystemExit(f"{path}: {faults[0][2]}")
            try:
                json.loads(event.get("CloudTrailEvent", "{}"))
            except ValueError:
                raise SystemExit(f"{path}: {region}[{index}].CloudTrailEvent is not JSON")
            event = dict(event)
            if "EventTime" in event:
                event["EventTime"] = timestamp(event["EventTime"], on_the_wire=False)
            checked.append(event)
        # sorted() is stable: events of one time stay in the file's order.
        events[region] = sorted(checked, key=lambda e: -e.get("EventTime", 0))
    return events


def matches(event, attribute):
    key, value = attribute["AttributeKey"], attribute["AttributeValue"]
    if key in ("ResourceType", "ResourceName"):
        return any(resource.get(key) == value for resource in event.get("Resources", []))
    return event.get(key) == value


def parse_authorization(header):
    """(key ID, date, region, service, signed header names, signature) of a SigV4
    Authorization header, or a Refusal."""
    algorithm, _, rest = header.partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        raise Refusal("IncompleteSignatureException",
                      f"Unsupported AWS 'algorithm': '{algorithm}'")
    fields = {}
    for part in rest.split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    scope = fields.get("Credential", "").split("/")
    if (len(scope) != 5 or scope[4] != "aws4_request" or "SignedHeaders" not in fields
            or not re.fullmatch(r"[0-9a-f]{64}", fields.get("Signature", ""))):
        raise Refusal("IncompleteSignatureException",
                      f"Authorization header requires 'Credential', 'SignedHeaders' and "
                      f"'Signature' parameters: {header!r}")
    key_id, date, region, service, _ = scope
    return key_id, date, region, service, fields["SignedHeaders"].split(";"), fields["Signature"]


class SignedHeadersOnly(SigV4Auth):
    """botocore's SigV4 signer, over the headers the request says it signed rather than every
    header it has, so the signature can be recomputed as the client made it."""

    def __init__(self, credentials, service, region, signed):
        super().__init__(credentials, service, region)
        self.signed = signed

    def headers_to_sign(self, request):
        chosen = HTTPHeaders()
        for name in self.signed:
            for value in request.headers.get_all(name) or []:
                chosen[name] = value
        return chosen


class Standin(BaseHTTPRequestHandler):
    # HTTP/1.1, as AWS speaks it: keep-alive, and Expect: 100-continue answered.
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.read_body()
        target = self.headers.get("X-Amz-Target", "")
        if target.rpartition(".")[2] == LOOKUP.name:
            self.lookup_events(target, body)
            return
        if self.form(body).get("Action") == ["GetCallerIdentity"] and self.refuse_inactive():
            return
        self.forward(body)

    def do_GET(self):
        self.forward(self.read_body())

    do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def form(self, body):
        if not self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            return {}
        return urllib.parse.parse_qs(body.decode(errors="replace"), keep_blank_values=True)

    # CloudTrail LookupEvents

    def lookup_events(self, target, body):
        entry = {"region": None, "key_id": None, "max_results": None, "next_token": False,
                 "status": "invalid", "error": None, "events": 0, "time": time.time()}
        try:
            request = json.loads(body)
        except ValueError:
            request = None
        if isinstance(request, dict):
            # Read as far as the request allows, so even a refused one is logged for what it was.
            attributes = request.get("LookupAttributes")
            if isinstance(attributes, list):
                entry["key_id"] = next((a.get("AttributeValue") for a in attributes
                                        if isinstance(a, dict)
                                        and a.get("AttributeKey") == "AccessKeyId"), None)
            entry["max_results"] = request.get("MaxResults")
            entry["next_token"] = request.get("NextToken") is not None
        try:
            reply = self.lookup(target, body, request, entry)
            entry["status"], entry["events"] = "ok", len(reply["Events"])
            status = 200
        except Refusal as refusal:
            entry["status"], entry["error"] = refusal.outcome, refusal.error
            status, reply = refusal.status, {"__type": refusal.error, "message": refusal.message}
        except Exception as fault:  # pylint: disable=broad-except
            # The stand-in's own fault (its reply off the model, say): said loudly, and never
            # passed off as an answer of AWS's.
            traceback.print_exc()
            entry["error"] = "InternalFailure"
            status, reply = 500, {"__type": "InternalFailure", "message": str(fault)}
        self.server.write_log(entry)
        headers = {"x-amzn-RequestId": str(uuid.uuid4())}
        if status != 200:
            headers["x-amzn-ErrorType"] = reply["__type"]
        self.answer(status, json.dumps(reply).encode(), CONTENT_TYPE, headers)

    def lookup(self, target, body, request, entry):
        server = self.server
        if target != f"{TARGET_PREFIX}.{LOOKUP.name}":
            raise Refusal("UnknownOperationException", f"{target} is not an operation of "
                          f"CloudTrail, whose target prefix is {TARGET_PREFIX}")
        region = self.authenticate(body, entry)
        with server.lock:
            server.seen[region] += 1
            if server.seen[region] <= server.throttle_first:
                raise Refusal("ThrottlingException", "Rate exceeded", "throttled")
            now = time.monotonic()
            window = server.admitted[region]
            while window and window[0] <= now - 1:
                window.popleft()
            if len(window) >= RATE:
                raise Refusal("ThrottlingException", "Rate exceeded", "throttled")
            window.append(now)
        if self.headers.get("Content-Type", "").split(";")[0].strip() != CONTENT_TYPE:
            raise Refusal("ValidationException", f"the Content-Type of a CloudTrail request is "
                          f"{CONTENT_TYPE}, not {self.headers.get('Content-Type')!r}")
        if not isinstance(request, dict):
            raise Refusal("ValidationException", "the body is not a JSON object")
        faults = list(shape_faults(LOOKUP.input_shape, request, LOOKUP.input_shape.name))
        if faults:
            where, kind, message = faults[0]
            member = where.split(".")[1].split("[")[0] if "." in where else None
            # A member sent as the wrong type is a fault of the request's form, not its values.
            error = ERRORS.get(member, "ValidationException") if kind not in ("type", "unknown") \
                else "ValidationException"
            raise Refusal(error, message)
        attributes = request.get("LookupAttributes") or []
        if len(attributes) > MOST_ATTRIBUTES:
            raise Refusal(ERRORS.get("LookupAttributes", "ValidationException"),
                          f"LookupAttributes may hold {MOST_ATTRIBUTES} item, not {len(attributes)}")
        start = timestamp(request["StartTime"], False) if request.get("StartTime") is not None else None
        end = timestamp(request["EndTime"], False) if request.get("EndTime") is not None else None
        if start is not None and end is not None and start > end:
            raise Refusal(ERRORS.get("StartTime", "ValidationException"),
                          "StartTime must not be after EndTime")
        # A token stands for where the next page starts in one query: the same region and
        # filters (MaxResults may change from page to page).
        query = json.dumps([region, attributes, start, end, request.get("EventCategory")],
                           sort_keys=True)
        offset = 0
        if request.get("NextToken") is not None:
            with server.lock:
                given = server.tokens.get(request["NextToken"])
            if given is None or given[0] != query:
                raise Refusal(ERRORS.get("NextToken", "ValidationException"),
                              "The NextToken is not valid for these parameters" if given
                              else "The NextToken is not one this service gave")
            offset = given[1]
        size = request.get("MaxResults") or DEFAULT_PAGE
        if request.get("EventCategory") == "insight":
            found = []  # the events file holds management events only
        else:
            found = [event for event in server.events.get(region, [])
                     if all(matches(event, attribute) for attribute in attributes)
                     and (start is None or event.get("EventTime", 0) >= start)
                     and (end is None or event.get("EventTime", 0) <= end)]
        reply = {"Events": found[offset:offset + size]}
        if offset + size < len(found):
            token = uuid.uuid4().hex + uuid.uuid4().hex
            with server.lock:
                server.tokens[token] = (query, offset + size)
            reply["NextToken"] = token
        faults = list(shape_faults(LOOKUP.output_shape, reply, LOOKUP.output_shape.name, True))
        if faults:
            raise AssertionError(f"the stand-in's own reply is off the model: {faults[0][2]}")
        return reply

    def authenticate(self, body, entry):
        """The region the request was signed for, once its signature is the operator's."""
        header = self.headers.get("Authorization")
        if not header:
            raise Refusal("MissingAuthenticationTokenException", "Missing Authentication Token")
        key_id, date, region, service, signed, signature = parse_authorization(header)
        entry["region"] = region
        if region in self.server.disabled:
            # What an endpoint of a region the account has not enabled answers, whoever signs.
            raise Refusal("UnrecognizedClientException", INVALID_TOKEN, "disabled")
        if service != SERVICE:
            raise Refusal("InvalidSignatureException",
                          f"Credential should be scoped to correct service: '{SERVICE}'.")
        if key_id != self.server.operator[0]:
            raise Refusal("UnrecognizedClientException", INVALID_TOKEN)
        amz_date = self.headers.get("X-Amz-Date")
        if amz_date is None:
            raise Refusal("IncompleteSignatureException",
                          "Authorization header requires existence of a 'X-Amz-Date' header.")
        try:
            signed_at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc)
        except ValueError:
            raise Refusal("IncompleteSignatureException", f"X-Amz-Date {amz_date!r} is not "
                          "an ISO 8601 basic time such as 20240101T000000Z")
        if date != amz_date[:8]:
            raise Refusal("InvalidSignatureException", f"Date in Credential scope does not "
                          f"match YYYYMMDD from ISO-8601 version of date from HTTP: "
                          f"'{date}' != '{amz_date[:8]}'")
        if abs(time.time() - signed_at.timestamp()) > SKEW:
            raise Refusal("InvalidSignatureException", f"Signature expired: {amz_date} is more "
                          "than 15 minutes from the current time.")
        if "host" not in signed:
            raise Refusal("InvalidSignatureException", "'Host' must be a signed header.")
        for name in signed:
            if self.headers.get(name) is None:
                raise Refusal("InvalidSignatureException",
                              f"The request signed the header {name!r} but does not send it.")
        claimed = self.headers.get("X-Amz-Content-SHA256")
        if claimed is not None and claimed != hashlib.sha256(body).hexdigest():
            raise Refusal("InvalidSignatureException", "X-Amz-Content-SHA256 is not the "
                          "SHA-256 of the body")
        host = self.headers.get("Host", "%s:%d" % self.server.server_address)
        request = AWSRequest(method=self.command, url=f"http://{host}{self.path}", data=body,
                             headers=self.headers)
        request.context["timestamp"] = amz_date
        signer = SignedHeadersOnly(Credentials(*self.server.operator), service, region, signed)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected, signature):
            raise Refusal("InvalidSignatureException",
                          "The request signature we calculated does not match the signature "
                          "you provided. Check your AWS Secret Access Key and signing method. "
                          "Consult the service documentation for details.")
        return region

    # STS GetCallerIdentity with an inactive key

    def refuse_inactive(self):
        """Answers as STS does when the signing key is an IAM user's key moto lists as
        Inactive; False (the call goes to moto) for any other key."""
        match = re.search(r"Credential=(AKIA[A-Z0-9]+)/", self.headers.get("Authorization", ""))
        if not match:
            return False
        key_id = match.group(1)
        iam = self.server.iam
        try:
            user = iam.get_access_key_last_used(AccessKeyId=key_id)["UserName"]
            keys = [key for page in iam.get_paginator("list_access_keys").paginate(UserName=user)
                    for key in page["AccessKeyMetadata"]]
        except ClientError:
            return False  # a key moto does not know: moto answers for it
        if not any(k["AccessKeyId"] == key_id and k["Status"] == "Inactive" for k in keys):
            return False
        body = (
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            "<Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>"
            f"<Message>{INVALID_TOKEN}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        )
        self.server.write_log({"answered": "GetCallerIdentity", "key_id": key_id,
                               "status": 403, "error": "InvalidClientTokenId"})
        self.answer(403, body.encode(), "text/xml")
        return True

    # Everything else

    def forward(self, body):
        connection = http.client.HTTPConnection(self.server.moto_host, self.server.moto_port,
                                                timeout=120)
        # Headers go on as they came, the Host header and repeats included, so moto checks the
        # very signature the client made.
        connection.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for name, value in self.headers.items():
            if name.lower() not in HOP_BY_HOP:
                connection.putheader(name, value)
        if body or self.command in ("POST", "PUT", "PATCH"):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        # The operation by name, Action or the last part of X-Amz-Target, so a test can tell
        # writes (Update..., Put...) from reads whichever protocol carried them.
        action = (self.form(body).get("Action")
                  or urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("Action"))
        target = self.headers.get("X-Amz-Target")
        entry = {"forwarded": action[0] if action else target.rpartition(".")[2] if target
                 else f"{self.command} {urllib.parse.urlsplit(self.path).path}"}
        if target and not action:
            entry["target"] = target
        entry["status"] = response.status
        self.server.write_log(entry)
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        if self.command == "HEAD":
            length = response.getheader("Content-Length")
            if length is not None:
                self.send_header("Content-Length", length)
            self.end_headers()
            return
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def answer(self, status, body, content_type, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in dict(headers).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_):
        pass


class Server(ThreadingHTTPServer):
    def write_log(self, entry):
        with self.lock, open(self.log, "a") as log:
            log.write(json.dumps(entry) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument("moto", help="moto's endpoint, such as http://127.0.0.1:5000")
    parser.add_argument("--operator", required=True, metavar="KEYID:SECRET",
                        help="the operator's key: it alone may call LookupEvents, and it asks "
                             "moto for keys' status")
    parser.add_argument("--events", required=True, help="JSON {REGION: [event, ...]}")
    parser.add_argument("--log", required=True)
    parser.add_argument("--throttle-first", type=int, default=0, metavar="N")
    parser.add_argument("--disabled-region", nargs="+", default=[], action="extend",
                        metavar="REGION")
    args = parser.parse_args()
    key_id, colon, secret = args.operator.partition(":")
    if not colon or not key_id or not secret:
        parser.error("--operator takes KEYID:SECRET")
    moto = urllib.parse.urlsplit(args.moto)
    server = Server(("127.0.0.1", args.port), Standin)
    server.moto_host, server.moto_port = moto.hostname, moto.port
    server.operator = (key_id, secret)
    server.events = load_events(args.events)
    server.log = args.log
    server.throttle_first = args.throttle_first
    server.disabled = set(args.disabled_region)
    server.lock = threading.Lock()
    server.seen = collections.Counter()
    server.admitted = collections.defaultdict(collections.deque)
    server.tokens = {}
    server.iam = boto3.client("iam", endpoint_url=args.moto, region_name="us-east-1",
                              aws_access_key_id=key_id, aws_secret_access_key=secret)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
