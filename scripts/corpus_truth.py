"""What the recall scripts share: where a plant.py corpus keeps its ground truth, and which
planted values a default keyhound scan is expected to report, under which rules."""
import json
import os

# IDs of principals (users, roles, groups, ...): not credentials, off by default.
PRINCIPAL_PREFIXES = {"AIDA", "AROA", "AGPA", "AIPA", "ANPA", "ANVA", "APKA", "ASCA"}

# truth `kind` -> keyhound rules that may report it (a key ID and its secret close together
# are one `aws-access-key-pair` finding)
RULE_FOR_KIND = {
    "aws_access_key_id": {"aws-access-key-id", "aws-access-key-id-legacy", "aws-access-key-pair"},
    "aws_secret_access_key": {"aws-secret-access-key", "aws-access-key-pair"},
    "aws_session_token": {"aws-session-token"},
}


def places(findings):
    """One finding per place: each finding of a report repeated with each of its `locations`
    (a secret found in many places is one finding listing them all)."""
    for f in findings:
        for location in f.get("locations") or [f]:
            yield {**f, **location}


def located_values(finding):
    """(offset, value) of each value a finding reports: its secret, and a pair's key ID."""
    out = [(finding["offset"], finding["secret"])]
    if finding.get("pair"):
        out.append((finding["pair"]["offset"], finding["pair"]["key_id"]))
    return out


def truth_paths(corpus, truth=None, decoys=None):
    """The truth and decoy files plant.py writes beside CORPUS, unless given."""
    corpus = corpus.rstrip("/")
    name = os.path.basename(corpus)
    base = os.path.dirname(corpus) or "."
    return (truth or os.path.join(base, name + ".truth.jsonl"),
            decoys or os.path.join(base, name + ".decoys.jsonl"))


def not_expected(t):
    """Why a default scan is not expected to report planted value `t`, or None."""
    if t.get("binary") or t.get("context") == "binary":
        return "in binary files"
    if t["kind"] == "aws_access_key_id" and (t.get("prefix") or "")[:4] in PRINCIPAL_PREFIXES:
        return "principal IDs"
    return None


def expected_values(truth_path, skipped):
    """The planted values a default scan should report; counts the others in `skipped` by reason."""
    for line in open(truth_path):
        t = json.loads(line)
        why = not_expected(t)
        if why:
            skipped[why] += 1
            continue
        yield t
