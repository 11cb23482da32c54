#!/usr/bin/env python3
"""Citation check: every Markdown document a tracked file names is a file of this repository (found
relative to the naming file or to the root), every section it cites ("... section N.M") is a heading of
that document, and no path leads out of the repository (a "../" that climbs above the root). A clone must hold every document its sources point to. The history notes of
docs/ (a section whose heading says History) may name documents that no longer exist.
Usage: references.py [FILE...] (default: every tracked text file)."""
import os
import re
import subprocess
import sys

from sources import ROOT

TEXT = re.compile(r"(\.(h|hpp|cpp|cc|cu|cuh|md|txt|sh|py|cmake)|Makefile|/run)$")
# A document name, optionally with the sections cited: "docs/reference.md sections 6.2-6.3, 7.1".
CITATION = re.compile(r"([A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md)\b(?:\s+sections?\s+([0-9][0-9.]*(?:\s*[-,]\s*[0-9][0-9.]*)*))?")
OUTSIDE = re.compile(r"(?<![\w.])\.\./[A-Za-z0-9_.-]+")
HEADING = re.compile(r"^#+\s+([0-9]+(?:\.[0-9]+)*)\.?\s")


def tracked():
    out = subprocess.run(["git", "-C", ROOT, "ls-files"], capture_output=True, text=True, check=True).stdout
    return [f for f in out.split() if TEXT.search(f) and not f.startswith("third_party/")]


def resolve(citing, name):
    """The repository file a document name means: relative to the citing file, or to the root."""
    for base in (os.path.dirname(citing), ""):
        path = os.path.normpath(os.path.join(base, name))
        if not path.startswith("..") and os.path.isfile(os.path.join(ROOT, path)):
            return path
    return None


_sections = {}


def sections_of(path):
    if path not in _sections:
        with open(os.path.join(ROOT, path), errors="replace") as f:
            _sections[path] = {m.group(1) for m in map(HEADING.match, f) if m}
    return _sections[path]


def cited_sections(text):
    """"6.2-6.3, 7.1" -> ["6.2", "6.3", "7.1"] (a range names its two ends)."""
    return [s.strip().rstrip(".") for s in re.split(r"[-,]", text) if s.strip().rstrip(".")]


def main(argv):
    files = argv or tracked()
    errors = 0
    for rel in files:
        history = False
        with open(os.path.join(ROOT, rel), errors="replace") as f:
            for n, line in enumerate(f, 1):
                if rel.endswith(".md") and line.startswith("#"):
                    history = "History" in line
                if history:
                    continue
                for m in OUTSIDE.finditer(line):
                    target = os.path.normpath(os.path.join(os.path.dirname(rel), m.group(0)))
                    if target.startswith(".."):
                        print(f"{rel}:{n}: '{m.group(0)}' points outside the repository")
                        errors += 1
                for m in CITATION.finditer(line):
                    name, cited = m.group(1), m.group(2)
                    path = resolve(rel, name)
                    if path is None:
                        print(f"{rel}:{n}: cites '{name}', which is not a file of this repository")
                        errors += 1
                        continue
                    for s in cited_sections(cited or ""):
                        if s not in sections_of(path):
                            print(f"{rel}:{n}: cites {path} section {s}, which has no such heading")
                            errors += 1
    if errors:
        print(f"references: {errors} citation(s) of documents or sections that a clone does not have")
        return 1
    print(f"references: ok ({len(files)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
