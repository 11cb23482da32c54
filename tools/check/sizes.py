#!/usr/bin/env python3
"""Size budget: every source file at most 650 lines, every function body at most 150 lines, except
what tools/check/size-debt.txt lists as known debt (with the date it was recorded and who owns the fix).
Usage: sizes.py [FILE...] (default: every tracked source)."""
import os
import re
import sys

from sources import ROOT, sources

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_FILE, MAX_FUNCTION = 650, 150
NOT_A_FUNCTION = re.compile(r"\b(namespace|class|struct|union|enum)\b|^\s*extern\s*\"C\"|=\s*$")
CONTROL = re.compile(r"^\s*(if|for|while|switch|catch|do|else)\b")


def strip(text):
    """Comments, preprocessor lines, string and character literals blanked out; newlines kept so line numbers hold."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == "#" and text[text.rfind("\n", 0, i) + 1:i].strip() == "":  # a preprocessor line
            j = i
            while True:
                j = text.find("\n", j)
                if j < 0 or text[j - 1] != "\\":
                    break
                j += 1
            j = n if j < 0 else j
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == 'R' and text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(text):
    """(name, first line, last line) of each function body at namespace or class scope."""
    code = strip(text)
    found, stack, head, line = [], [], "", 1
    head_line = 1
    for c in code:
        if c == "{":
            # Inside a function body every brace is code; elsewhere a brace after "name(...)" opens a
            # function, any other one a namespace, class or initializer.
            in_code = any(code_ for code_, _, _ in stack)
            h = head.strip()
            name = None
            if not in_code and "(" in h and not NOT_A_FUNCTION.search(h.split("(", 1)[0]) and not CONTROL.match(h):
                m = re.search(r"([~\w:<>=!+\-*/\[\]&|^%]+)\s*\(", h.split(")", 1)[0] + ")")
                name = m.group(1) if m else h[:40]
            stack.append((in_code or name is not None, name, head_line))
            head = ""
        elif c == "}":
            if stack:
                _, name, start = stack.pop()
                if name is not None:
                    found.append((name, start, line))
            head = ""
        elif c == ";":
            head = ""
        else:
            if not head.strip() and not c.isspace():
                head_line = line
            head += c
        if c == "\n":
            line += 1
    return found


def read_debt(path):
    debt = {}
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) < 3 or not re.match(r"\d{4}-\d{2}-\d{2}$", parts[-1]):
                sys.exit(f"{path}:{n}: expected 'FILE [FUNCTION] LIMIT DATE', got: {raw.strip()}")
            key = (parts[0], parts[1] if len(parts) == 4 else None)
            debt[key] = int(parts[-2])
    return debt


def main(argv):
    debt = read_debt(os.path.join(HERE, "size-debt.txt"))
    errors = checked = 0
    for rel in sources(argv):
        checked += 1
        with open(os.path.join(ROOT, rel), errors="replace") as f:
            text = f.read()
        lines = text.count("\n")
        limit = debt.get((rel, None), MAX_FILE)
        if lines > limit:
            print(f"{rel}: {lines} lines (budget {limit}); split it by what its parts do")
            errors += 1
        for name, first, last in functions(text):
            length = last - first + 1
            limit = debt.get((rel, name), MAX_FUNCTION)
            if length > limit:
                print(f"{rel}:{first}: function {name} is {length} lines (budget {limit}); split it into named steps")
                errors += 1
    if errors:
        print(f"sizes: {errors} over budget (files <= {MAX_FILE} lines, functions <= {MAX_FUNCTION}; "
              f"known debt: tools/check/size-debt.txt)")
        return 1
    print(f"sizes: ok ({checked} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
