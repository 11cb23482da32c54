#!/usr/bin/env python3
"""Include-layering check: fails on an include of a higher layer, and on a skip-level include that
tools/check/layering.txt does not allow. Usage: layering.py [FILE...] (default: every tracked source)."""
import os
import re
import sys

from sources import ROOT, sources

HERE = os.path.dirname(os.path.abspath(__file__))
INCLUDE = re.compile(r'^\s*#\s*include\s*"([a-z_0-9/]+\.[a-z]+)"')


def read_rules(path):
    order, allowed = [], set()
    with open(path) as f:
        for n, line in enumerate(f, 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if words[0] == "order":
                order = words[1:]
            elif words[0] == "allow" and len(words) == 3:
                allowed.add((words[1], words[2]))
            else:
                sys.exit(f"{path}:{n}: expected 'order LAYER...' or 'allow FOLDER HEADER', got: {line.strip()}")
    if not order:
        sys.exit(f"{path}: no 'order' line")
    return {name: i for i, name in enumerate(order)}, allowed


def layer_of(level, path):
    """The layer a path belongs to: the longest layer name that is a folder prefix of it (a wing such as
    pipeline/io is a layer of its own), or None."""
    names = [name for name in level if path.startswith(name + "/")]
    return max(names, key=len) if names else None


def is_allowed(allowed, folder, target, header):
    return any((folder, h) in allowed for h in ("*", header, target + "/*"))


def main(argv):
    level, allowed = read_rules(os.path.join(HERE, "layering.txt"))
    errors = checked = 0
    for rel in sources(argv):
        folder = layer_of(level, rel)
        if folder is None:
            continue
        checked += 1
        with open(os.path.join(ROOT, rel), errors="replace") as f:
            for n, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                target = layer_of(level, m.group(1)) if m else None
                if target is None:
                    continue
                header = m.group(1)
                gap = level[folder] - level[target]
                if gap < 0:
                    print(f"{rel}:{n}: includes {header}, a higher layer ({folder} is below {target})")
                    errors += 1
                elif gap > 1 and not is_allowed(allowed, folder, target, header):
                    print(f"{rel}:{n}: skip-level include of {header} from {folder}/; allow it in "
                          f"tools/check/layering.txt with the reason, or go through the layer between")
                    errors += 1
    if errors:
        print(f"layering: {errors} include(s) against the layering (order: {' < '.join(level)})")
        return 1
    print(f"layering: ok ({checked} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
