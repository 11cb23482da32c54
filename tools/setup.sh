#!/usr/bin/env bash
# Installs the Debian 12 packages lits-engine builds with (as root), or prints the one apt-get
# line to run. The CUDA toolkit is not a Debian package here: when nvcc is present the CUDA
# backend is built, otherwise the CPU-only build is made (both pass the tests).
#   tools/setup.sh           what the build and the tests need (and onnxruntime from PyPI in build-venv/)
#   tools/setup.sh --check   what `make check` needs (clang-format, python3, git)
#   tools/setup.sh --fuzz    the build's packages and what `make fuzz` adds: clang with its libFuzzer,
#                            sanitizer and OpenMP runtimes
set -euo pipefail

# python3: the tests of `lits forward` and of tools/compare_torch.py are Python scripts (standard
# library only; the PyTorch one skips without torch). libonnx-dev, libprotobuf-dev: `lits export` (ONNX
# models). python3-venv: the export's test checks the model with onnxruntime from PyPI, which this script
# installs into build-venv/ (below), since Debian's Python takes no pip installs of its own.
packages=(cmake ninja-build g++ make pkg-config zlib1g-dev libgtest-dev libcli11-dev libdnnl-dev
          libopenblas-dev libnifti2-dev libpng-dev libopenmpi-dev openmpi-bin python3 python3-venv
          libonnx-dev libprotobuf-dev)
case ${1:-} in
  "") ;;
  --check) packages=(clang-format python3 git) ;;
  --fuzz) packages+=(clang libclang-rt-14-dev libomp-14-dev) ;;
  *) echo "lits setup: unknown option '$1' (expected nothing, --check or --fuzz)" >&2; exit 2 ;;
esac

# The checker of the ONNX export's test (tests/tools/check_onnx.py, tests/CMakeLists.txt): onnxruntime
# from PyPI in a virtual environment of its own, build-venv/ at the top of the checkout (ignored by git, as
# the build folders), made once. If it cannot be installed the test falls back to ONNX's reference evaluator
# (the onnx package) or, with neither, skips saying why; nothing else depends on it. LITS_NO_PIP=1 skips it.
onnx_checker() {
  local venv
  venv="$(cd "$(dirname "$0")/.." && pwd)/build-venv"
  if [[ ${LITS_NO_PIP:-0} == 1 ]]; then
    echo "lits setup: LITS_NO_PIP=1: no onnxruntime installed (the ONNX export test will skip)"
    return 0
  fi
  if "$venv/bin/python" -c "import onnxruntime, numpy" 2>/dev/null; then
    return 0
  fi
  local pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check --timeout 60)
  echo "lits setup: installing onnxruntime from PyPI into $venv (the checker of the ONNX export's test)"
  if python3 -m venv "$venv" && "${pip[@]}" onnxruntime numpy; then
    return 0
  fi
  echo "lits setup: onnxruntime could not be installed; trying onnx for its reference evaluator" >&2
  if [[ -x $venv/bin/python ]] && "${pip[@]}" "onnx>=1.13" numpy; then
    return 0
  fi
  echo "lits setup: warning: no ONNX checker could be installed (is PyPI reachable?); the ONNX export test" \
       "will skip and say why" >&2
}

finish() {
  if [[ $mode == "" ]]; then
    onnx_checker
  fi
  exit 0
}

mode=${1:-}
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  finish
fi

line="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "lits setup: missing Debian packages: ${missing[*]}" >&2
  echo "lits setup: run as root:  $line" >&2
  exit 1
fi
echo "lits setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
for attempt in 1 2 3; do
  if apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    finish
  fi
  echo "lits setup: apt-get failed (attempt $attempt of 3), retrying in 10 s" >&2
  sleep 10
done
echo "lits setup: could not install: ${missing[*]}" >&2
exit 1
