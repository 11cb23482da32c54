"""The files the checks read: the tracked C++/CUDA sources (or the ones named on the command line)."""
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCE = re.compile(r"\.(h|hpp|cpp|cc|cu|cuh)$")


def sources(argv):
    files = argv or subprocess.run(["git", "-C", ROOT, "ls-files"], capture_output=True, text=True,
                                   check=True).stdout.split()
    return [f for f in files if SOURCE.search(f) and not f.startswith("third_party/")]
