#!/usr/bin/env bash
# Verifies the CUDA backend on a GPU machine in one command (docs/gpu.md).
#
#   tools/gpu-check.sh --prepare   on a development machine: stage what the GPU machine lacks
#                                  (GoogleTest sources, CLI11 headers, nifticlib/znz/zlib static
#                                  libraries, cuDNN/NCCL/cuBLAS headers)
#                                  into the git-ignored .gpu-deps/ (a few MB)
#   tools/gpu-check.sh --run       on the GPU machine, with .gpu-deps/ beside the tree: configure
#                                  (CUDA on, sm_90 only, oneDNN/BLAS off), build, run every test
#                                  (the *CudaMatchesCpu parity tests and the one-rank NCCL training
#                                  test run instead of skipping), run
#                                  `lits bench ops`, `lits demo --quick`, `lits bench train`,
#                                  `lits bench loader` and tools/compare_torch.py (PyTorch side by
#                                  side, when the machine has it); logs and JSON go to
#                                  $OUT (else build-gpu/out/); the last lines are a summary table.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEPS="$ROOT/.gpu-deps"

prepare() {
  set -e
  rm -rf "$DEPS"
  mkdir -p "$DEPS/cli11" "$DEPS/cuda-include"
  [ -f /usr/src/googletest/CMakeLists.txt ] || { echo "gpu-check: /usr/src/googletest missing (apt-get install libgtest-dev)" >&2; exit 1; }
  cp -r /usr/src/googletest "$DEPS/googletest"
  [ -f /usr/include/CLI/CLI.hpp ] || { echo "gpu-check: /usr/include/CLI missing (apt-get install libcli11-dev)" >&2; exit 1; }
  cp -r /usr/include/CLI "$DEPS/cli11/CLI"
  # nifticlib (+ znz, zlib) as static libraries with their headers: no -dev packages there.
  mkdir -p "$DEPS/nifti/include/nifti" "$DEPS/nifti/lib"
  cp /usr/include/nifti/*.h "$DEPS/nifti/include/nifti/"
  cp /usr/include/zlib.h /usr/include/zconf.h "$DEPS/nifti/include/" 2> /dev/null || true
  for lib in libnifti2.a libznz.a libz.a; do
    [ -f "/usr/lib/x86_64-linux-gnu/$lib" ] || { echo "gpu-check: /usr/lib/x86_64-linux-gnu/$lib missing" >&2; exit 1; }
    cp "/usr/lib/x86_64-linux-gnu/$lib" "$DEPS/nifti/lib/"
  done
  # Headers of the CUDA libraries, used only when the GPU machine's wheels lack them.
  local inc=/usr/local/cuda/include
  for h in "$inc"/cudnn*.h "$inc"/nccl.h "$inc"/nccl_net.h "$inc"/cublas*.h; do
    [ -f "$h" ] && cp "$h" "$DEPS/cuda-include/"
  done
  echo "gpu-check: staged $(du -sh "$DEPS" | cut -f1) in $DEPS"
  echo "gpu-check: now run 'bash tools/gpu-check.sh --run' on the GPU machine with carry [\".gpu-deps\"]"
}

# Folders named lib / include under the python NVIDIA wheels (nvidia/<pkg>/lib, nvidia/cu13/lib, ...).
wheel_dirs() {
  local kind="$1"
  python3 - "$kind" <<'PY' 2>/dev/null
import os, site, sys
kind = sys.argv[1]
roots = []
for p in site.getsitepackages() + [site.getusersitepackages()]:
    d = os.path.join(p, "nvidia")
    if os.path.isdir(d):
        roots.append(d)
seen = []
for r in roots:
    for dirpath, dirnames, _ in os.walk(r):
        if os.path.basename(dirpath) == kind and dirpath.count(os.sep) - r.count(os.sep) <= 3:
            seen.append(dirpath)
            dirnames[:] = []
print(";".join(seen))
PY
}

run() {
  local out="${OUT:-$ROOT/build-gpu/out}"
  mkdir -p "$out"
  local start=$SECONDS
  cd "$ROOT"
  local libs incs
  libs="$(wheel_dirs lib)"
  incs="$(wheel_dirs include)"
  [ -d "$DEPS/cuda-include" ] && incs="${incs:+$incs;}$DEPS/cuda-include"
  export LD_LIBRARY_PATH="${libs//;/:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  {
    echo "date: $(date -u)"
    nvidia-smi -L 2>&1 || true
    nvcc --version 2>&1 | tail -2
    echo "wheel lib dirs: $libs"
    echo "include hints: $incs"
  } > "$out/machine.txt"
  cat "$out/machine.txt"

  local gen=""
  command -v ninja > /dev/null && gen="-G Ninja"
  local status_configure=0 status_build=0 status_tests=0 status_bench=0 status_demo=0 status_train=0 status_torch=0
  # shellcheck disable=SC2086
  cmake -S . -B build-gpu $gen -DCMAKE_BUILD_TYPE=Release -DLITS_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
    -DLITS_ONEDNN=OFF -DLITS_BLAS=OFF -DLITS_GTEST_SOURCE="$DEPS/googletest" \
    -DLITS_CUDA_LIB_HINTS="$libs" -DLITS_CUDA_INCLUDE_HINTS="$incs" > "$out/configure.log" 2>&1 || status_configure=$?
  tail -3 "$out/configure.log"
  if [ $status_configure -eq 0 ]; then
    cmake --build build-gpu -j "$(nproc)" > "$out/build.log" 2>&1 || status_build=$?
    tail -3 "$out/build.log"
  fi
  if [ $status_configure -eq 0 ] && [ $status_build -eq 0 ]; then
    build-gpu/tools/lits --version > "$out/version.txt" 2>&1
    cat "$out/version.txt"
    timeout 300 build-gpu/tests/lits_tests --gtest_output="json:$out/tests.json" > "$out/tests.log" 2>&1 || status_tests=$?
    grep -E "^\[  (FAILED|PASSED|SKIPPED) |^\[ parity|^\[ nccl" "$out/tests.log" | tail -80
    timeout 120 build-gpu/tools/lits bench ops --device cuda --json "$out/bench_ops_cuda.json" > "$out/bench_ops_cuda.txt" 2>&1 || status_bench=$?
    cat "$out/bench_ops_cuda.txt"
    timeout 200 build-gpu/tools/lits demo --quick --device cuda --out build-gpu/demo > "$out/demo_cuda.txt" 2>&1 || status_demo=$?
    tail -12 "$out/demo_cuda.txt"
    # Training on the GPU: the Small preset's step split and samples/s (the demo above trained on it too).
    timeout 90 build-gpu/tools/lits bench train --setup Setup_Small_Liver.txt --device cuda --steps 10 \
      --json "$out/bench_train_cuda.json" > "$out/bench_train_cuda.txt" 2>&1 || status_train=$?
    tail -3 "$out/bench_train_cuda.txt"
    # The fast path (docs/gpu-fast-path.md): the Small preset at batch 4 in each precision, without and with
    # CUDA graphs. Figures only, 60 s each at most; LITS_GPU_CHECK_MATRIX=0 skips them.
    if [ "${LITS_GPU_CHECK_MATRIX:-1}" != 0 ]; then
      for precision in fp32 tf32 bf16; do
        for graphs in "" --cuda-graphs; do
          name="train_${precision}${graphs:+_graphs}"
          timeout 60 build-gpu/tools/lits bench train --setup Setup_Small_Liver.txt --device cuda --steps 10 \
            --precision "$precision" $graphs --json "$out/$name.json" > "$out/$name.txt" 2>&1 \
            || echo "FAILED ($?)" >> "$out/$name.txt"
          name="infer_${precision}${graphs:+_graphs}"
          timeout 40 build-gpu/tools/lits bench infer --setup Setup_Small_Liver.txt --device cuda --batch 4 \
            --precision "$precision" $graphs --json "$out/$name.json" > "$out/$name.txt" 2>&1 \
            || echo "FAILED ($?)" >> "$out/$name.txt"
        done
      done
    fi
    # Loader throughput on the machine's cores (a figure only; its failure does not fail the check).
    timeout 90 build-gpu/tools/lits bench loader --workers 1,4,8,16 --json "$out/bench_loader.json" \
      > "$out/bench_loader.txt" 2>&1 || echo "bench loader failed ($?)" >> "$out/bench_loader.txt"
    tail -6 "$out/bench_loader.txt"
    # PyTorch side by side (tools/compare_torch.py): parameter counts and float64 forward parity on the GPU,
    # then training and inference timings against eager float32, TF32, AMP bf16 channels_last and
    # torch.compile. A figure only, bounded in time; LITS_GPU_CHECK_TORCH=0 skips it, and the script itself
    # says "skipped" where this machine's Python has no PyTorch or no CUDA in it.
    if [ "${LITS_GPU_CHECK_TORCH:-1}" != 0 ]; then
      timeout 180 python3 tools/compare_torch.py --device cuda --lits build-gpu/tools/lits --rounds 1 \
        --json "$out/compare_torch.json" > "$out/compare_torch.txt" 2>&1 || status_torch=$?
      tail -20 "$out/compare_torch.txt"
    else
      echo "skipped (LITS_GPU_CHECK_TORCH=0)" > "$out/compare_torch.txt"
    fi
  fi

  echo
  echo "=== gpu-check summary ($((SECONDS - start)) s; logs in $out) ==="
  printf "%-12s %s\n" configure "$([ $status_configure -eq 0 ] && echo ok || echo "FAILED ($status_configure)")"
  printf "%-12s %s\n" build "$([ $status_build -eq 0 ] && echo ok || echo "FAILED ($status_build)")"
  if [ -f "$out/tests.json" ]; then
    python3 - "$out/tests.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
passed = failed = skipped = 0
fails = []
for suite in d.get("testsuites", []):
    for t in suite.get("testsuite", []):
        name = suite["name"] + "." + t["name"]
        if t.get("failures"):
            failed += 1
            fails.append(name)
        elif t.get("result") == "SKIPPED" or t.get("status") == "NOTRUN":
            skipped += 1
        else:
            passed += 1
print(f"{'tests':12s} {passed} passed, {failed} failed, {skipped} skipped")
for f in fails:
    print(f"{'  FAILED':12s} {f}")
PY
  else
    printf "%-12s %s\n" tests "not run"
  fi
  printf "%-12s %s\n" nccl "$(grep -hE '(OK|FAILED|SKIPPED) +\] DataParallel.NcclOneRankOnTheGpu|^\[ nccl' "$out/tests.log" 2>/dev/null | paste -sd';')"
  printf "%-12s %s\n" bench "$([ $status_bench -eq 0 ] && echo "ok (bench_ops_cuda.txt)" || echo "FAILED ($status_bench)")"
  printf "%-12s %s\n" demo "$([ $status_demo -eq 0 ] && grep -E "^  (liver|lesion) |^liver bar|^total" "$out/demo_cuda.txt" | tr -s ' ' | paste -sd';' || echo "FAILED ($status_demo)")"
  printf "%-12s %s\n" train "$([ $status_train -eq 0 ] && tail -2 "$out/bench_train_cuda.txt" | head -1 || echo "FAILED ($status_train)")"
  # One row per precision and graph mode: step ms, samples/s and peak memory from each run's JSON.
  for f in "$out"/train_*.json "$out"/infer_*.json; do
    [ -f "$f" ] || continue
    python3 - "$f" <<'PY'
import json, sys, os
name = os.path.basename(sys.argv[1])[:-5]
try:
    d = json.load(open(sys.argv[1]))
    if name.startswith("train"):
        print(f"{name:24s} {d['step_ms']:8.2f} ms/step {d['samples_per_s']:9.1f} samples/s {d['peak_bytes'] / 1e6:9.1f} MB peak")
    else:
        print(f"{name:24s} {d['ms_per_batch']:8.2f} ms/batch {d['slices_per_s']:8.1f} slices/s {d['peak_bytes'] / 1e6:9.1f} MB peak")
except Exception as e:
    print(f"{name:24s} no figures ({e})")
PY
  done
  if [ -f "$out/compare_torch.txt" ]; then
    printf "%-12s %s\n" torch "$([ $status_torch -eq 0 ] && grep -E "skipped|^check " "$out/compare_torch.txt" | sed 's/: parameters.*max |lits - torch|: / /' | paste -sd';' || echo "FAILED or timed out ($status_torch; compare_torch.txt)")"
  fi
  [ -f "$out/bench_loader.txt" ] && sed -n 's/^ *\([0-9][0-9]*\) .*/&/p' "$out/bench_loader.txt" | awk '{printf "%-12s %s threads: %s samples/s\n", "loader", $1, $3}'
  [ $status_configure -eq 0 ] && [ $status_build -eq 0 ] && [ $status_tests -eq 0 ] && [ $status_bench -eq 0 ]
}

case "${1:-}" in
  --prepare) prepare ;;
  --run) run ;;
  *)
    echo "usage: tools/gpu-check.sh --prepare | --run" >&2
    exit 2
    ;;
esac
