"""A stand-in for IAM on 127.0.0.1 that answers SimulatePrincipalPolicy itself and hands every
other call to moto, which lacks it.

Each SimulatePrincipalPolicy request is checked against botocore's published model of IAM (the
`iam` service model botocore ships): every member it sends must be one the operation's input
shape has, of the shape's type (flattened lists as `Name.member.N`), every required member must
be there, and the pagination token must be one this stand-in gave. Anything else is a 400
`ValidationError`, so a request keyhound shapes wrongly fails the check instead of passing.

The simulator answers from a table: every action `allowed`, but those named in
`--explicit-deny` are `explicitDeny`, as a service control policy the key cannot read would
make them. It answers ten results a page, so keyhound has to follow the pagination. It writes
each request it answered, as JSON lines, to `--log`.

Usage: python iam_simulator_standin.py PORT MOTO_ENDPOINT --log FILE --explicit-deny ACTION...
"""

import argparse
import http.client
import json
import re
import sys
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session

PAGE = 10
MODEL = botocore.session.get_session().get_service_model("iam")
OPERATION = MODEL.operation_model("SimulatePrincipalPolicy")


def validation_error(message):
    body = (
        "<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code>"
        f"<Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId>"
        "</ErrorResponse>"
    )
    return 400, body


def check_against_model(params):
    """The input members of the request, as the model types them, or an error message."""
    shape = OPERATION.input_shape
    members = {}
    for name, values in params.items():
        if name in ("Action", "Version"):
            continue
        top = name.split(".", 1)[0]
        if top not in shape.members:
            return None, f"{top} is not a member of SimulatePrincipalPolicyRequest"
        member = shape.members[top]
        if member.type_name == "list":
            match = re.fullmatch(rf"{top}\.member\.([1-9][0-9]*)", name)
            if not match:
                return None, f"{name} is not how a member of the list {top} is sent"
            members.setdefault(top, {})[int(match.group(1))] = values[0]
        elif member.type_name == "integer":
            if not re.fullmatch(r"-?[0-9]+", values[0]):
                return None, f"{top} must be an integer"
            members[top] = int(values[0])
        else:
            members[top] = values[0]
    for required in shape.required_members:
        if required not in members:
            return None, f"{required} is required"
    for name, indexed in list(members.items()):
        if isinstance(indexed, dict):
            if sorted(indexed) != list(range(1, len(indexed) + 1)):
                return None, f"{name} members must be numbered from 1 without gaps"
            members[name] = [indexed[i] for i in sorted(indexed)]
    return members, None


class Standin(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        params = urllib.parse.parse_qs(body.decode(), keep_blank_values=True)
        if params.get("Action") == ["SimulatePrincipalPolicy"]:
            status, reply = self.simulate(params)
            self.answer(status, reply.encode())
        else:
            self.forward(body)

    def simulate(self, params):
        members, error = check_against_model(params)
        if error:
            return validation_error(error)
        actions = members.get("ActionNames", [])
        start = 0
        if "Marker" in members:
            if members["Marker"] not in self.server.markers:
                return validation_error("the Marker is not one this service gave")
            start = self.server.markers[members["Marker"]]
        page = actions[start:start + PAGE]
        results = "".join(
            "<member><EvalActionName>{}</EvalActionName><EvalResourceName>*</EvalResourceName>"
            "<EvalDecision>{}</EvalDecision><MatchedStatements/><MissingContextValues/>"
            "</member>".format(
                action, "explicitDeny" if action in self.server.denied else "allowed")
            for action in page
        )
        truncated = start + PAGE < len(actions)
        marker = ""
        if truncated:
            token = uuid.uuid4().hex
            self.server.markers[token] = start + PAGE
            marker = f"<Marker>{token}</Marker>"
        credential = re.search(r"Credential=([A-Z0-9]+)/", self.headers.get("Authorization", ""))
        with open(self.server.log, "a") as log:
            log.write(json.dumps({
                "key_id": credential.group(1) if credential else None,
                "source": members["PolicySourceArn"],
                "actions": len(actions),
                "page_start": start,
            }) + "\n")
        return 200, (
            '<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
            f"<SimulatePrincipalPolicyResult><EvaluationResults>{results}</EvaluationResults>"
            f"<IsTruncated>{str(truncated).lower()}</IsTruncated>{marker}"
            "</SimulatePrincipalPolicyResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            "</SimulatePrincipalPolicyResponse>"
        )

    def forward(self, body):
        # The request goes on as it came, its Host header included, so moto checks the very
        # signature keyhound made.
        connection = http.client.HTTPConnection(self.server.moto_host, self.server.moto_port)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "content-length"}
        connection.request("POST", self.path, body=body, headers=headers)
        response = connection.getresponse()
        self.answer(response.status, response.read())

    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("moto")
    parser.add_argument("--log", required=True)
    parser.add_argument("--explicit-deny", nargs="*", default=[])
    args = parser.parse_args()
    moto = urllib.parse.urlsplit(args.moto)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Standin)
    server.moto_host, server.moto_port = moto.hostname, moto.port
    server.log = args.log
    server.denied = set(args.explicit_deny)
    server.markers = {}
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
