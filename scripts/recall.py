#!/usr/bin/env python3
"""Scores a keyhound JSON report against the ground truth of a corpus from shared/bench/plant.py.

Usage:
    keyhound scan CORPUS -f json -o report.json
    scripts/recall.py CORPUS report.json [--truth T] [--decoys D]

A truth value counts as found when a finding of the matching rule sits at its path and byte
offset. Values in binary files and principal IDs (AIDA, AROA, ...) are expected to be missed by a
default scan and are listed separately. Any decoy reported above `example` confidence is a false
alarm. Exits 1 when recall is below 100% of the expected values or there is any false alarm.
"""
import argparse
import json
import os
import sys

from corpus_truth import RULE_FOR_KIND, expected_values, located_values, places, not_expected, truth_paths
from collections import Counter



def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus")
    ap.add_argument("report")
    ap.add_argument("--truth")
    ap.add_argument("--decoys")
    a = ap.parse_args()
    corpus = a.corpus.rstrip("/")
    truth_path, decoy_path = truth_paths(corpus, a.truth, a.decoys)

    report = json.load(open(a.report))
    findings = list(places(report["findings"]))
    found = {}
    pairs = 0
    for f in findings:
        path = os.path.relpath(f["path"], corpus)
        pairs += f["rule_id"] == "aws-access-key-pair"
        for offset, _ in located_values(f):
            found.setdefault((path, offset), []).append(f)

    expected = missed = 0
    skipped = Counter()
    misses = []
    matched_keys = set()
    for t in expected_values(truth_path, skipped):
        expected += 1
        hits = [f for f in found.get((t["path"], t["offset"]), []) if f["rule_id"] in RULE_FOR_KIND[t["kind"]]]
        if hits:
            matched_keys.add((t["path"], t["offset"]))
        else:
            missed += 1
            misses.append(t)

    # Planted pairs: a key ID and a secret of the same credential at the same site.
    by_site = {}
    for line in open(truth_path):
        t = json.loads(line)
        if not_expected(t) is None and t["kind"] in ("aws_access_key_id", "aws_secret_access_key"):
            by_site.setdefault((t["path"], t["site"], t["cred"]), {})[t["kind"]] = t
    planted_pairs = [s for s in by_site.values() if len(s) == 2]
    pair_findings = {
        (os.path.relpath(f["path"], corpus), f["offset"], f["pair"]["offset"])
        for f in findings if f.get("pair")
    }
    pairs_reported = sum(
        (s["aws_secret_access_key"]["path"], s["aws_secret_access_key"]["offset"],
         s["aws_access_key_id"]["offset"]) in pair_findings
        for s in planted_pairs
    )
    unpaired = [s for s in planted_pairs
                if (s["aws_secret_access_key"]["path"], s["aws_secret_access_key"]["offset"],
                    s["aws_access_key_id"]["offset"]) not in pair_findings]

    false_alarms = []
    decoys = 0
    for line in open(decoy_path):
        d = json.loads(line)
        decoys += 1
        for f in found.get((d["path"], d.get("offset")), []):
            if f["confidence"] != "example":
                false_alarms.append((d, f))

    unplanned = [f for key, fs in found.items() if key not in matched_keys for f in fs
                 if f["confidence"] != "example"]

    print(f"expected {expected}, found {expected - missed}, recall {100.0 * (expected - missed) / max(expected, 1):.2f}%")
    for why, n in sorted(skipped.items()):
        print(f"not expected in a default scan: {n} {why}")
    print(f"decoys {decoys}, reported above example confidence: {len(false_alarms)}")
    print(f"key pair findings (an ID and its secret together): {pairs}; "
          f"planted pairs {len(planted_pairs)}, reported as pairs {pairs_reported}")
    for s in unpaired[:10]:
        t = s["aws_secret_access_key"]
        print(f"  not paired: {t['context']} {t['path']}:{t['line']}")
    print(f"findings at no planted position (above example confidence): {len(unplanned)}")
    for t in misses[:20]:
        print(f"  missed {t['kind']} {t['context']} {t['path']}:{t['line']} layout={t['layout']}")
    for d, f in false_alarms[:20]:
        print(f"  false alarm {d['kind']} {d['path']}:{d['line']} as {f['rule_id']} ({f['confidence']})")
    for f in unplanned[:20]:
        print(f"  unplanned {f['rule_id']} {f['path']}:{f['line']} ({f['confidence']}) {f['snippet'][:100]}")
    return 1 if missed or false_alarms else 0


if __name__ == "__main__":
    sys.exit(main())
