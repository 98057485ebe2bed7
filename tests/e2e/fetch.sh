#!/usr/bin/env bash
# Downloads everything the Xen-in-QEMU e2e harness needs from Debian 12, into a cache that
# a second run reuses without network: the Xen hypervisor and the 6.1 kernel (.deb), the Xen
# toolstack debs at the host's version, and a debootstrap (minbase) tree for dom0.
# Usage: tests/e2e/fetch.sh        (cache: ${BULKHEAD_E2E_CACHE:-$HOME/.cache/bulkhead-e2e})
set -euo pipefail
CACHE=${BULKHEAD_E2E_CACHE:-$HOME/.cache/bulkhead-e2e}
mkdir -p "$CACHE/debs"
cd "$CACHE"

# The kernel linux-image-amd64 points at (recorded once, so that later runs stay offline).
if [[ ! -s kver ]]; then
    apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: linux-image-//p' | head -1 > kver.tmp
    [[ -s kver.tmp ]] || { echo "fetch: cannot tell the kernel version (apt-get update?)" >&2; exit 1; }
    mv kver.tmp kver
fi
KVER=$(cat kver)

# Xen hypervisor, kernel, and the toolstack at the host's (security) version: debootstrap
# only sees bookworm main, whose xen-utils may be older than the hypervisor.
debs=(xen-hypervisor-4.17-amd64 "linux-image-$KVER" xen-utils-4.17 xen-utils-common
      xenstore-utils libxenmisc4.17 libxencall1 libxendevicemodel1 libxenevtchn1
      libxenforeignmemory1 libxengnttab1 libxenhypfs1 libxenstore4 libxentoolcore1
      libxentoollog1)
if [[ ! -f debs/.complete ]]; then
    (cd debs && apt-get download "${debs[@]}")
    touch debs/.complete
fi

# dom0 userland: Debian minbase + what the toolstack and the xen backend run.
if [[ ! -f rootfs/.complete ]]; then
    rm -rf rootfs
    debootstrap --variant=minbase \
        --include=busybox,kmod,xen-utils-4.17,xenstore-utils,procps,squashfs-tools,e2fsprogs,util-linux,iproute2 \
        bookworm rootfs http://deb.debian.org/debian
    for d in debs/*.deb; do
        case $d in *linux-image*|*xen-hypervisor*) ;; *) dpkg -x "$d" rootfs ;; esac
    done
    touch rootfs/.complete
fi
echo "fetch: cache complete in $CACHE (kernel $KVER)"
