"""What the moto checks set up, with authentication still off: boto3 clients, IAM users with
realistic keys, assumed-role sessions, and credentials files for keyhound to find.

keyhound reports key IDs of AWS's alphabet (base32 after the prefix) and secrets that mix cases
and digits; moto draws from a wider alphabet, so every credential here is drawn until it is
realistic.
"""

import json
import re

import boto3

# Any key does while moto's authentication is off.
SETUP_KEY = dict(aws_access_key_id="AKIASETUPSETUPSETUP2", aws_secret_access_key="setup" * 8)
TRUST_ANYONE = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})


def clients(endpoint, *services, **credentials):
    """boto3 clients of `services` at moto's `endpoint`, with the setup key unless told."""
    keys = credentials or SETUP_KEY
    return [boto3.client(s, endpoint_url=endpoint, region_name="us-east-1", **keys)
            for s in services]


def realistic(key_id, secret):
    return (re.fullmatch(r"A[KS]IA[A-Z2-7]{16}", key_id)
            and re.search(r"[A-Z]", secret) and re.search(r"[a-z]", secret)
            and re.search(r"[0-9]", secret))


def user_with_key(iam, name):
    """Creates the user `name` and returns an access key of it that is realistic."""
    iam.create_user(UserName=name)
    while True:
        key = iam.create_access_key(UserName=name)["AccessKey"]
        if realistic(key["AccessKeyId"], key["SecretAccessKey"]):
            return key
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])


def session(sts, role_arn, name):
    """Temporary credentials of a session of `role_arn` that are realistic."""
    while True:
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=name)["Credentials"]
        if realistic(credentials["AccessKeyId"], credentials["SecretAccessKey"]):
            return credentials


def write_credentials(path, key_id, secret, token=None):
    """A shared credentials file with one profile, as people leave them around."""
    text = f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n"
    if token:
        text += f"aws_session_token = {token}\n"
    with open(path, "w") as f:
        f.write(text)
