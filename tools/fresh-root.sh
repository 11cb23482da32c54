#!/usr/bin/env bash
# Runs a command in a brand-new Debian 12 root, as on a new user's machine: CI's way to prove that the
# README's commands work where nothing was installed before (a machine that built the project once
# keeps every package, which hides a missing install step).
#
# usage: tools/fresh-root.sh [--cuda] [--keep] [--] [COMMAND...]
#   COMMAND  run in a clone of this repository's committed HEAD (default: make test); uncommitted
#            changes are not in the clone
#   --cuda   make this machine's CUDA toolkit visible inside, read-only, with nvcc on PATH (as
#            NVIDIA's install guide sets it up); without it the root has no CUDA toolkit
#   --keep   keep the root afterwards and print its path
#
# Needs root (debootstrap, chroot, bind mounts) and the Debian package registry. The minimal base root
# (debootstrap --variant=minbase bookworm) is made once, about a minute, and cached as a tarball in
# $LITS_FRESH_CACHE (default /var/cache/lits-fresh-root). Inside, only `make` is installed before the
# command: everything else must come from the project's own set-up. JOBS and CI are passed through, and
# this machine's network settings: resolver, apt sources, and pip's certificate bundle.
# Exit status: the command's (2 when the root could not be made).
set -euo pipefail

cuda=0 keep=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --cuda) cuda=1; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '6,17p' "$0" | cut -c3-; exit 0 ;;
    --) shift; break ;;
    -*) echo "fresh-root: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
done
command_line=${*:-make test}
fail() { echo "fresh-root: $*" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || fail "needs root (debootstrap, chroot and bind mounts)"
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)

# ---- the cached base root ----
cache=${LITS_FRESH_CACHE:-/var/cache/lits-fresh-root}
base=$cache/bookworm-minbase.tar.gz
if [[ ! -s $base ]]; then
  if ! command -v debootstrap >/dev/null; then
    echo "fresh-root: installing debootstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null ||
      fail "could not install debootstrap"
  fi
  # The mirror this machine's apt uses (deb822 sources first, then the classic list).
  mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
  [[ -n $mirror ]] || mirror=$(sed -n 's/^deb  *\(\[[^]]*\] *\)\{0,1\}\([^ ]*\).*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n1)
  [[ -n $mirror ]] || fail "no Debian mirror found in /etc/apt"
  mkdir -p "$cache"
  staging=$(mktemp -d "$cache/staging.XXXXXX")
  echo "fresh-root: making the base root (debootstrap minbase bookworm from $mirror; log: $cache/debootstrap.log)"
  if ! debootstrap --variant=minbase bookworm "$staging" "$mirror" >"$cache/debootstrap.log" 2>&1; then
    rm -rf --one-file-system "$staging"
    fail "debootstrap failed; see $cache/debootstrap.log"
  fi
  tar -C "$staging" -czf "$base.partial" . && mv "$base.partial" "$base"   # no half-written cache
  rm -rf --one-file-system "$staging"
fi

# ---- a new root from it, cleaned up however the command ends ----
root=$(mktemp -d /tmp/lits-fresh-root.XXXXXX)
mounts=()
finish() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null || true; done
  if [[ $keep -eq 1 ]]; then echo "fresh-root: kept $root"; else rm -rf --one-file-system "$root"; fi
}
trap finish EXIT
trap 'exit 130' INT TERM
bind_mount() {  # SOURCE TARGET-INSIDE [ro]
  mkdir -p "$root$2"
  mount --bind "$1" "$root$2"
  mounts+=("$root$2")
  if [[ ${3:-} == ro ]]; then mount -o remount,bind,ro "$root$2"; fi
}

tar -C "$root" -xzf "$base"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
cp /etc/apt/sources.list "$root/etc/apt/" 2>/dev/null || true
cp -r /etc/apt/sources.list.d/. "$root/etc/apt/sources.list.d/" 2>/dev/null || true
for m in /proc /sys /dev /dev/pts /dev/shm; do bind_mount "$m" "$m"; done
# Like the resolver and the apt sources, this machine's TLS trust for PyPI goes in (the bundle pip uses
# here: PIP_CERT, else pip.conf's cert), so that set-up steps installing from PyPI reach it as they do
# here; a new user's machine has its own.
pip_env=()
pip_cert=${PIP_CERT:-$(sed -n 's/^ *cert *= *//p' /etc/pip.conf 2>/dev/null | head -n1)}
if [[ -n $pip_cert && -f $pip_cert ]]; then
  cp "$pip_cert" "$root/etc/lits-host-pip-ca.crt"
  pip_env=(PIP_CERT=/etc/lits-host-pip-ca.crt)
fi

path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
cuda_env=()
if [[ $cuda -eq 1 ]]; then
  toolkit=""
  if [[ -e /usr/local/cuda ]]; then toolkit=$(readlink -f /usr/local/cuda)
  elif command -v nvcc >/dev/null; then toolkit=$(dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")"); fi
  [[ -n $toolkit && -x $toolkit/bin/nvcc ]] || fail "--cuda: no CUDA toolkit here (/usr/local/cuda or nvcc on PATH)"
  bind_mount "$toolkit" "$toolkit" ro
  [[ $toolkit == /usr/local/cuda ]] || ln -sfn "$toolkit" "$root/usr/local/cuda"
  path=/usr/local/cuda/bin:$path
  cuda_env=(CUDA_HOME=/usr/local/cuda)
fi

git clone -q --no-hardlinks "$repo" "$root/src/lits-engine"
echo "fresh-root: $(git -C "$root/src/lits-engine" log -1 --format='%h %s')"
echo "fresh-root: new Debian 12 root${cuda_env:+ with the CUDA toolkit ($toolkit, read-only)}; running: $command_line"
start=$SECONDS status=0
chroot "$root" /usr/bin/env -i HOME=/root PATH="$path" LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
  CI="${CI:-}" ${JOBS:+JOBS="$JOBS"} "${cuda_env[@]}" "${pip_env[@]}" bash -c '
    set -e
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends make >/dev/null
    cd /src/lits-engine
    eval "$1"' fresh-root "$command_line" || status=$?
echo "fresh-root: '$command_line' exited $status after $((SECONDS - start)) s"
exit $status
