#!/usr/bin/env bash
# Formatting check: every tracked C++/CUDA source must be as clang-format (.clang-format) writes it.
# Fix with: git ls-files '*.h' '*.cpp' '*.cu' '*.cuh' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v clang-format >/dev/null || { echo "format: clang-format not found (Debian: apt-get install clang-format)" >&2; exit 2; }
mapfile -t files < <(git ls-files '*.h' '*.hpp' '*.cpp' '*.cc' '*.cu' '*.cuh' | grep -v '^third_party/' || true)
report=$(mktemp)
trap 'rm -f "$report"' EXIT
if ! clang-format --dry-run --Werror "${files[@]}" 2>"$report"; then
  grep -E '^[^ ]+:[0-9]+:[0-9]+: error' "$report" | sed 's/: error: code should be clang-formatted.*/: not as clang-format writes it/' | sort -u -t: -k1,2 | head -n 40
  echo "format: $(grep -oE '^[^:]+' "$report" | grep -E '\.(h|hpp|cpp|cc|cu|cuh)$' | sort -u | wc -l) file(s) differ from clang-format ($(clang-format --version | grep -oE '[0-9]+\.[0-9.]+' | head -n1)); fix with: git ls-files '*.h' '*.cpp' '*.cu' '*.cuh' | xargs clang-format -i"
  exit 1
fi
echo "format: ok (${#files[@]} files, clang-format $(clang-format --version | grep -oE '[0-9]+\.[0-9.]+' | head -n1))"
