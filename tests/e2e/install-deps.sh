#!/usr/bin/env bash
# apt dependencies of the Xen-in-QEMU e2e run (as scripts/install-deps.sh: idempotent, quiet
# when everything is there; a package that cannot be installed is an error, never a skip).
set -euo pipefail
packages=(qemu-system-x86 debootstrap busybox-static cpio xz-utils squashfs-tools e2fsprogs
          kmod binutils file perl time libxen-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
SUDO=
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "e2e install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
fi
echo "e2e install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
