#!/usr/bin/env bash
# Installs Bulkhead's build and test dependencies from Debian 12's archive.
# Idempotent: quiet and quick when everything is already there. Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang clang-format libclang-rt-14-dev
  catch2 libbenchmark-dev
  libsqlite3-dev libprotobuf-dev protobuf-compiler
  libxen-dev libseccomp-dev libcap-dev
  busybox-static uidmap iproute2 util-linux procps nftables
  qt6-base-dev xvfb xauth libxcb1-dev libxcb-composite0-dev libxcb-damage0-dev libxcb-xtest0-dev
  libxcb-shm0-dev libxcb-xfixes0-dev x11-utils xclip
  desktop-file-utils
  zlib1g-dev
  qemu-system-x86 debootstrap cpio xz-utils squashfs-tools e2fsprogs kmod file time perl
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
