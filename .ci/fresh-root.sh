#!/usr/bin/env bash
# Runs the README's two set-up commands, exactly as written, in a fresh Debian 12 root: a
# machine that has nothing but apt, so a missing install step fails here and not on a user's
# machine. Usage: bash .ci/fresh-root.sh [--no-cuda]  (as root; CI calls it).
#
# The CUDA toolkit is NVIDIA's, not a Debian package. Where this machine has one at
# /usr/local/cuda, it is mounted read-only at the same place in the root, with its loader
# configuration, as on a user's machine with the toolkit installed: scripts/test.sh then builds
# and tests the real nvcc build as well as cudasim. --no-cuda leaves it out (a machine without the toolkit: cudasim only).
#
# The root is made by mmdebstrap (--variant=apt) from this machine's own apt sources and
# cached as a tarball under ${XDG_CACHE_HOME:-$HOME/.cache}/ember; a tarball older than 7 days
# is made anew, so the root follows Debian's point releases. Every run unpacks a new copy,
# puts `git archive HEAD` of the project in /ember, and runs there:
#   scripts/train.sh --epochs 1   (must end with train_mlp's accuracy line)
#   scripts/test.sh               (each ctest summary must say 100% passed; the last is
#                                  printed again at the end)
# The script runs in a mount namespace of its own (unshare), so its mounts (proc, dev, sys, the
# toolkit) are never seen outside it and vanish with it even if it is killed; on every exit it
# can handle (failure, INT, TERM) it stops the commands in the root, undoes the mounts and
# removes the copy. A copy left by a killed run is removed by the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
project=$PWD

die() {
  echo "fresh-root: $*" >&2
  exit 1
}
[ "$(id -u)" -eq 0 ] || die "must run as root (mmdebstrap, mount and chroot)"
if [ -z "${EMBER_FRESH_ROOT_NAMESPACE:-}" ]; then
  exec env EMBER_FRESH_ROOT_NAMESPACE=1 unshare --mount --propagation private -- \
    bash "$project/.ci/fresh-root.sh" "$@"
fi
cuda_home=""
case "${1:-}" in
  --no-cuda) ;;
  "") if [ -x /usr/local/cuda/bin/nvcc ]; then cuda_home=$(readlink -f /usr/local/cuda); fi ;;
  *) die "unknown argument '$1' (usage: bash .ci/fresh-root.sh [--no-cuda])" ;;
esac
started=$SECONDS
partial=""
root=""
child=""
cleanup() {
  local rc=$?
  trap '' INT TERM
  set +e
  # The commands in the root run in a session of their own: stop all of them.
  if [ -n "$child" ] && kill -0 -- -"$child" 2>/dev/null; then
    kill -TERM -- -"$child" 2>/dev/null
    for _ in $(seq 50); do kill -0 -- -"$child" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- -"$child" 2>/dev/null
    wait "$child" 2>/dev/null
  fi
  [ -n "$partial" ] && rm -f "$partial"
  if [ -n "$root" ]; then
    for m in "$cuda_home" /sys /dev /proc; do
      if [ -n "$m" ] && mountpoint -q "$root$m"; then umount -R "$root$m" || umount -R -l "$root$m"; fi
    done
    # Remove the copy only when nothing is mounted below it any more.
    if ! grep -qF " $root/" /proc/self/mounts; then
      rm -rf --one-file-system "$root" "$root.lock"
    else
      echo "fresh-root: $root still has mounts; left in place" >&2
    fi
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
elapsed() { printf '%dm%02ds' $(((SECONDS - $1) / 60)) $(((SECONDS - $1) % 60)); }

# ---- the cached root -----------------------------------------------------------------------
cache=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/ember
tarball=$cache/debian12-apt-root.tar
sources=""
for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
  if [ -s "$f" ] && grep -qv '^[[:space:]]*#' "$f"; then
    sources=$f
    break
  fi
done
if [ -z "$(find "$tarball" -maxdepth 0 -mtime -7 2>/dev/null)" ]; then
  [ -n "$sources" ] || die "no apt sources on this machine (/etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list): cannot make a fresh Debian 12 root"
  if ! command -v mmdebstrap >/dev/null; then
    echo "== fresh root: installing mmdebstrap =="
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends mmdebstrap >/dev/null || die "cannot install mmdebstrap"
  fi
  echo "== fresh root: mmdebstrap --variant=apt bookworm from $sources =="
  mkdir -p "$cache"
  # mmdebstrap picks the output format by the name's extension: the partial file ends in .tar.
  partial=$cache/.debian12-apt-root.$$.tar
  if ! mmdebstrap --quiet --variant=apt bookworm "$partial" "$sources"; then
    rm -f "$partial"
    die "mmdebstrap could not make a Debian 12 root from $sources (are the apt sources reachable?)"
  fi
  mv -f "$partial" "$tarball"
  partial=""
else
  echo "== fresh root: cached $tarball (made $(date -r "$tarball" '+%F %R')) =="
fi

# ---- a copy of it, with the project ----------------------------------------------------------
# Copies whose run was killed (their lock is free) go first; a running copy holds its lock.
for old in /var/tmp/ember-fresh-root.*; do
  [ -d "$old" ] && [ -e "$old.lock" ] || continue
  if flock -n "$old.lock" true; then rm -rf --one-file-system "$old" "$old.lock"; fi
done
root=$(mktemp -d /var/tmp/ember-fresh-root.XXXXXX)
exec 9>"$root.lock"
flock 9

tar -xf "$tarball" -C "$root"
grep -qx 'VERSION_ID="12"' "$root/etc/os-release" ||
  die "the root made from $sources is not Debian 12 ($(grep -h '^PRETTY_NAME=' "$root/etc/os-release"))"
mkdir -p "$root/ember"
git -C "$project" archive HEAD | tar -x -C "$root/ember"
# This machine's network settings, as a fresh machine on the same network is given them: the
# resolver, and the CA bundle pip trusts here (PIP_CERT, or the system bundle) as the root's
# pip configuration -- a network that inspects TLS signs with a CA of its own, which a fresh
# root's bundle lacks (the safetensors interop test pip-installs from PyPI).
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
host_ca=${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}
if [ -s "$host_ca" ]; then
  cp -L "$host_ca" "$root/etc/ember-network-ca.crt"
  printf '[global]\ncert = /etc/ember-network-ca.crt\n' >"$root/etc/pip.conf"
fi
mount -t proc proc "$root/proc" || die "cannot mount proc in $root"
mount --rbind /dev "$root/dev" || die "cannot mount /dev in $root"
mount --rbind /sys "$root/sys" || die "cannot mount /sys in $root"
if [ -n "$cuda_home" ]; then
  # As NVIDIA's installer leaves it: the toolkit's folder, /usr/local/cuda pointing to it, and
  # its lib folder on the loader's path (ld.so.conf.d), copied from this machine.
  mkdir -p "$root$cuda_home"
  mount --bind "$cuda_home" "$root$cuda_home" || die "cannot mount $cuda_home in $root"
  mount -o remount,bind,ro "$root$cuda_home" || die "cannot make $root$cuda_home read-only"
  [ "$cuda_home" = /usr/local/cuda ] || ln -sfn "$cuda_home" "$root/usr/local/cuda"
  for conf in /etc/ld.so.conf.d/*cuda*.conf; do
    [ -f "$conf" ] && cp "$conf" "$root/etc/ld.so.conf.d/"
  done
  chroot "$root" /sbin/ldconfig
fi
echo "== fresh root ready in $root ($(elapsed $started)); CUDA toolkit: ${cuda_home:-none} =="
if nvidia-smi -L >/dev/null 2>&1; then
  echo "fresh-root: note: this machine has a GPU, but the root has no driver, so its /cuda cases" \
    "are skipped there; run scripts/test.sh on this machine itself to run them on the GPU" >&2
fi

# Runs $1 in the root (a clean environment, as a new login would have), in a session of its
# own so that cleanup can stop all of it, printing its output as it comes and keeping it in $2.
# Waiting with `wait` lets INT and TERM be handled at once, not when the command ends.
in_root() {
  : >"$2"
  setsid chroot "$root" /usr/bin/env -i HOME=/root \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb \
    /bin/bash -c "cd /ember && $1" >"$2" 2>&1 </dev/null &
  child=$!
  tail -n +1 -f --pid="$child" "$2" &
  local follower=$! status=0
  wait "$child" || status=$?
  child=""
  wait "$follower" || true
  return $status
}

# ---- the README's two commands -------------------------------------------------------------
step=$SECONDS
echo "== fresh root: scripts/train.sh --epochs 1 =="
in_root "scripts/train.sh --epochs 1" "$root/train.log" || die "scripts/train.sh --epochs 1 failed"
last=$(tail -n 1 "$root/train.log")
[[ "$last" == "done: test accuracy "* ]] || die "scripts/train.sh did not end with the accuracy line (last line: '$last')"
train_time=$(elapsed $step)
echo "== fresh root: scripts/train.sh --epochs 1 took $train_time =="

step=$SECONDS
echo "== fresh root: scripts/test.sh =="
in_root "scripts/test.sh" "$root/test.log" || die "scripts/test.sh failed"
summaries=$(grep -c '^[0-9]*% tests passed' "$root/test.log" || true)
[ "$summaries" -ge 1 ] && [ "$(grep -c '^100% tests passed' "$root/test.log")" -eq "$summaries" ] ||
  die "scripts/test.sh: not every ctest summary reports 100% passed"
if [ -n "$cuda_home" ]; then
  grep -q '^== nvcc build' "$root/test.log" || die "scripts/test.sh did not run the nvcc build, though the CUDA toolkit is mounted"
fi
echo "== fresh root: scripts/train.sh --epochs 1 took $train_time, scripts/test.sh took $(elapsed $step); fresh-root total $(elapsed $started) =="
# ctest's summary (the last build's) is the last word.
last_summary=$(grep -n '^[0-9]*% tests passed' "$root/test.log" | tail -n 1 | cut -d: -f1)
tail -n +"$last_summary" "$root/test.log"
