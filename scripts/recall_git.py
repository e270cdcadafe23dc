#!/usr/bin/env python3
"""Scores a keyhound history report against the ground truth of a git corpus from plant.py --git.

Usage:
    keyhound git REPO.git --show-secrets -f json -o report.json
    scripts/recall_git.py REPO.git report.json [--truth T] [--decoys D]

The report must be made with --show-secrets: values are matched by content. A planted value
counts as found when a finding of the right rule holds it; it is attributed correctly when the
earliest introducing commit among its findings is the planted first appearance, and `in_head`
agrees with the truth. Principal IDs (AIDA, AROA, ...) and values in binary files are not
expected in a default scan. Any
decoy value reported above `example` confidence is a false alarm. Exits 1 on any miss,
misattribution or false alarm.
"""
import argparse
import json
import sys

from corpus_truth import RULE_FOR_KIND, expected_values, located_values, places, truth_paths
from collections import defaultdict



def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repo")
    ap.add_argument("report")
    ap.add_argument("--truth")
    ap.add_argument("--decoys")
    a = ap.parse_args()
    truth_path, decoy_path = truth_paths(a.repo, a.truth, a.decoys)

    report = json.load(open(a.report))
    findings = list(places(report["findings"]))
    by_value = defaultdict(list)
    for f in findings:
        if f.get("redacted"):
            sys.exit("the report is redacted: make it with --show-secrets")
        for _, value in located_values(f):
            by_value[value].append(f)

    expected = found = attributed = head_ok = 0
    problems = []
    skipped = defaultdict(int)
    for t in expected_values(truth_path, skipped):
        expected += 1
        hits = [f for f in by_value.get(t["value"], []) if f["rule_id"] in RULE_FOR_KIND[t["kind"]]]
        if not hits:
            problems.append(f"missed {t['kind']} {t['context']} {t['path']}:{t['line']} scenarios={t['scenarios']}")
            continue
        found += 1
        commits = [h["git"]["commit"] for h in hits if h["git"].get("commit")]
        first = min(commits, key=lambda c: c["time"]) if commits else None
        if first and (first["id"] == t["commit"] or first["id"] in t["intro_commits"]):
            attributed += 1
        else:
            problems.append(f"misattributed {t['path']}: got {first and first['id']}, planted {t['commit']}")
        in_head = any(h["git"].get("in_head") for h in hits)
        if in_head == t["in_head"]:
            head_ok += 1
        else:
            problems.append(f"in_head {in_head} but planted {t['in_head']}: {t['path']} scenarios={t['scenarios']}")

    false_alarms = 0
    decoys = 0
    for line in open(decoy_path):
        d = json.loads(line)
        decoys += 1
        for f in by_value.get(d["value"], []):
            if f["confidence"] != "example":
                false_alarms += 1
                problems.append(f"false alarm {d['kind']} {d.get('path')} as {f['rule_id']} ({f['confidence']})")

    print(f"expected {expected}, found {found} ({100.0 * found / max(expected, 1):.2f}%), "
          f"introducing commit right {attributed}, in_head right {head_ok}")
    for why, n in sorted(skipped.items()):
        print(f"not expected in a default scan: {n} {why}")
    print(f"decoys {decoys}, reported above example confidence: {false_alarms}")
    for p in problems[:30]:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
