#!/usr/bin/env python3
"""Writes the letter-trigram table keyhound uses to tell identifier words from random base64.

Usage: scripts/identifier_trigrams.py DIR... > src/matcher/trigrams.bin

Every file under the directories is read as text; each word (a camel-case part of a run of
letters, `accessKeyId` -> `access`, `Key`, `Id`) of three letters or more is lower-cased and
prefixed with `^`, and its trigrams are counted. The table holds, for each trigram, how much
more likely it is in those words than in random letters: the log of P(c | a b) * 26, in tenths
of a nat, clamped to a signed byte. Index ((a * 26) + b) * 26 + c, with a = 26 for the start
of a word and b, c letters (0 = `a`).

The committed table was made from git's Documentation directory and its C, shell, Perl and
Python sources (git v2.55.0-618-g1a3e64c6c4): English prose and code identifiers, the two
sources of the words in symbol names, paths and search indexes.
"""

import collections
import math
import pathlib
import re
import sys

LETTERS = "abcdefghijklmnopqrstuvwxyz"
START = 26


def count(directories):
    counts = collections.Counter()
    for directory in directories:
        for path in sorted(pathlib.Path(directory).rglob("*")):
            if not path.is_file():
                continue
            text = path.read_text(errors="ignore")
            for run in re.findall(r"[A-Za-z]+", text):
                for word in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", run):
                    if len(word) < 3:
                        continue
                    codes = [START] + [LETTERS.index(ch) for ch in word.lower()]
                    for i in range(len(codes) - 2):
                        counts[tuple(codes[i : i + 3])] += 1
    return counts


def table(counts):
    contexts = collections.Counter()
    for (a, b, _), n in counts.items():
        contexts[(a, b)] += n
    out = bytearray()
    for a in range(27):
        for b in range(26):
            for c in range(26):
                p = (counts[(a, b, c)] + 0.5) / (contexts[(a, b)] + 13)
                tenths = round(math.log(p * 26) * 10)
                out.append(max(-128, min(127, tenths)) & 0xFF)
    return bytes(out)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.stdout.buffer.write(table(count(sys.argv[1:])))


if __name__ == "__main__":
    main()
