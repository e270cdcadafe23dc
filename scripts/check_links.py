"""Checks the links between keyhound's Markdown pages (README.md and docs/): every relative
link must name a file that exists and, when it names a heading (`page.md#anchor`), a heading
that page has, with the anchor GitHub derives from its text. Links to the web are not followed:
nothing here reaches the network.

Usage: python3 scripts/check_links.py      Exits 1 and names each broken link, else 0.
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchor(heading):
    """The anchor GitHub gives a heading: lower case, punctuation but hyphens and underscores
    dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def outside_code(text):
    """The lines of `text` outside fenced code blocks, and the text outside inline code."""
    fenced = False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            yield re.sub(r"`[^`]*`", "", line)


def anchors_of(path):
    found = set()
    fenced = False
    for line in open(path, encoding="utf-8").read().split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        match = None if fenced else re.match(r"^#{1,6} (.*)$", line)
        if match:
            found.add(anchor(match.group(1)))
    return found


def main():
    pages = [os.path.join(ROOT, "README.md")]
    docs = os.path.join(ROOT, "docs")
    pages += sorted(os.path.join(docs, name) for name in os.listdir(docs) if name.endswith(".md"))
    broken, checked = [], 0
    for page in pages:
        for line in outside_code(open(page, encoding="utf-8").read()):
            for target in LINK.findall(line):
                if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                    continue
                checked += 1
                path, _, fragment = target.partition("#")
                resolved = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
                shown = f"{os.path.relpath(page, ROOT)}: {target}"
                if not os.path.exists(resolved):
                    broken.append(f"{shown}: no such file")
                elif fragment and resolved.endswith(".md") and fragment not in anchors_of(resolved):
                    broken.append(f"{shown}: no such heading")
    for line in broken:
        print(line, file=sys.stderr)
    print(f"links: {checked - len(broken)} passed, {len(broken)} failed")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
