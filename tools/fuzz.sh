#!/usr/bin/env bash
# Runs the libFuzzer targets of a LITS_FUZZ build (tests/fuzz, docs/robustness.md) one after another for a
# bounded time each, then prints one table: executions, executions per second, corpus size, peak memory
# and crashes per target. The corpus grows across runs in BUILD/fuzz/corpus/TARGET (seeded from
# BUILD/fuzz/seeds, which lits_fuzz_seeds writes); a crash, leak, sanitizer report, timeout (10 s per
# input) or out-of-memory (2 GB) leaves its input in BUILD/fuzz/crashes/ and makes the script fail.
#   tools/fuzz.sh BUILD SECONDS [TARGET...]     targets: nifti npy safetensors json setup (default: all)
# Reproduce a finding: BUILD/tests/fuzz/lits_fuzz_TARGET BUILD/fuzz/crashes/TARGET-crash-...
set -uo pipefail

if [ $# -lt 2 ] || ! [[ $2 =~ ^[0-9]+$ ]] || [ "$2" -lt 1 ]; then
  echo "usage: tools/fuzz.sh BUILD SECONDS [TARGET...]   (SECONDS: a whole number >= 1)" >&2
  exit 2
fi
build=$1 seconds=$2
shift 2
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(nifti npy safetensors json setup)

fuzz=$build/fuzz
mkdir -p "$fuzz/crashes" "$fuzz/logs"
"$build/tests/fuzz/lits_fuzz_seeds" "$fuzz/seeds" || exit 1

failed=0
rows=()
for t in "${targets[@]}"; do
  exe=$build/tests/fuzz/lits_fuzz_$t
  if [ ! -x "$exe" ]; then
    echo "tools/fuzz.sh: no fuzz target '$t' ($exe not built; targets: nifti npy safetensors json setup)" >&2
    exit 2
  fi
  mkdir -p "$fuzz/corpus/$t"
  log=$fuzz/logs/$t.log
  echo "fuzz $t: ${seconds} s (log $log)"
  # Leaks are reported too (ASan's leak checker): a reader that loses memory on bad input is a finding.
  "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$fuzz/crashes/$t-" "$fuzz/corpus/$t" "$fuzz/seeds/$t" >"$log" 2>&1
  rc=$?
  stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
  execs=$(stat number_of_executed_units) rate=$(stat average_exec_per_sec) rss=$(stat peak_rss_mb)
  corpus=$(find "$fuzz/corpus/$t" -type f | wc -l)
  verdict=clean
  if [ $rc -ne 0 ]; then
    verdict="FAILED (exit $rc)"
    failed=1
    grep -m3 -E "ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error|Test unit written" "$log" | sed 's/^/  /'
  fi
  rows+=("$(printf '%-12s %6s %12s %8s %8s %9s  %s' "$t" "$seconds" "${execs:-?}" "${rate:-?}" "$corpus" \
    "${rss:-?}" "$verdict")")
done

printf '\n%-12s %6s %12s %8s %8s %9s  %s\n' target seconds executions exec/s corpus "peak MB" result
printf '%s\n' "${rows[@]}"
exit $failed
