#!/usr/bin/env bash
# Installs the Debian 12 packages lits-engine builds with (as root), or prints the one apt-get
# line to run. The CUDA toolkit is not a Debian package here: when nvcc is present the CUDA
# backend is built, otherwise the CPU-only build is made (both pass the tests).
#   tools/setup.sh           what the build and the tests need
#   tools/setup.sh --check   what `make check` needs (clang-format, python3, git)
#   tools/setup.sh --fuzz    the build's packages and what `make fuzz` adds: clang with its libFuzzer,
#                            sanitizer and OpenMP runtimes
set -euo pipefail

# python3: the tests of `lits forward` and of tools/compare_torch.py are Python scripts (standard
# library only; the PyTorch one skips without torch).
packages=(cmake ninja-build g++ make pkg-config zlib1g-dev libgtest-dev libcli11-dev libdnnl-dev
          libopenblas-dev libnifti2-dev libpng-dev libopenmpi-dev openmpi-bin python3)
case ${1:-} in
  "") ;;
  --check) packages=(clang-format python3 git) ;;
  --fuzz) packages+=(clang libclang-rt-14-dev libomp-14-dev) ;;
  *) echo "lits setup: unknown option '$1' (expected nothing, --check or --fuzz)" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
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
    exit 0
  fi
  echo "lits setup: apt-get failed (attempt $attempt of 3), retrying in 10 s" >&2
  sleep 10
done
echo "lits setup: could not install: ${missing[*]}" >&2
exit 1
