#!/usr/bin/env bash
# Builds the boot files of the Xen-in-QEMU e2e run into build-e2e/ from the cache that
# fetch.sh filled and from build/ (bulkheadd, qvm-* tools, guest tools, test binaries):
#   build-e2e/boot/xen          Xen 4.17 (uncompressed ELF: QEMU's multiboot loader wants it)
#   build-e2e/boot/vmlinux      Debian's 6.1 kernel as ELF (dom0 and every domU; fast under TCG)
#   build-e2e/boot/dom0.cpio    dom0: Debian minbase + Xen toolstack + Bulkhead + the scenarios
#                               (+ Xvfb and a template layer with X, for the gui scenario)
# dom0 holds the guest kernel directory /var/lib/bulkhead/vm-kernels/default/{vmlinuz,initramfs}
# (the guest initramfs from dom0/hypervisor/backends/xen/guest/mkinitramfs.sh).
# Usage: tests/e2e/build-images.sh [BUILD_DIR]    (default build)
set -euo pipefail
cd "$(dirname "$0")/../.."
SRC=$PWD
BUILD=$(cd "${1:-build}" && pwd)
CACHE=${BULKHEAD_E2E_CACHE:-$HOME/.cache/bulkhead-e2e}
OUT=$SRC/build-e2e
BIN=$BUILD/bin
die() { echo "e2e build: $*" >&2; exit 1; }
[[ -f $CACHE/rootfs/.complete && -f $CACHE/debs/.complete ]] || die "cache incomplete: run tests/e2e/fetch.sh"
KVER=$(cat "$CACHE/kver")
mkdir -p "$OUT/boot"

# Unpacked kernel and hypervisor (once per cache).
if [[ ! -f $CACHE/x/.complete ]]; then
    rm -rf "$CACHE/x"
    mkdir -p "$CACHE/x/xen" "$CACHE/x/kernel"
    dpkg -x "$CACHE"/debs/xen-hypervisor-4.17-amd64_*.deb "$CACHE/x/xen"
    dpkg -x "$CACHE/debs/linux-image-${KVER}_"*.deb "$CACHE/x/kernel"
    depmod -b "$CACHE/x/kernel" "$KVER" # the .deb ships no modules.dep (made at install)
    zcat "$CACHE"/x/xen/boot/xen-4.17-amd64.gz > "$CACHE/x/xen.elf"
    # The ELF vmlinux inside the XZ bzImage: neither Xen nor libxl decompresses it under TCG.
    bz=$CACHE/x/kernel/boot/vmlinuz-$KVER
    off=$(grep -abo $'\xfd7zXZ\x00' "$bz" | head -1 | cut -d: -f1)
    tail -c +$((off + 1)) "$bz" | xz -dc --single-stream > "$CACHE/x/vmlinux" 2>/dev/null || true
    file "$CACHE/x/vmlinux" | grep -q 'ELF 64-bit' || die "could not extract vmlinux from $bz"
    touch "$CACHE/x/.complete"
fi
cp "$CACHE/x/xen.elf" "$OUT/boot/xen"
cp "$CACHE/x/vmlinux" "$OUT/boot/vmlinux"
MODS=$CACHE/x/kernel/lib/modules/$KVER

# Guest initramfs.
# (BULKHEAD_E2E_GUEST_BIN: another directory of guest tools, e.g. a stub bulkhead-xen-init.)
dom0/hypervisor/backends/xen/guest/mkinitramfs.sh "$OUT/boot/guest.cpio" "${BULKHEAD_E2E_GUEST_BIN:-$BIN}" "$MODS"

# dom0 tree.
R=$OUT/dom0root
rm -rf "$R"
cp -a "$CACHE/rootfs" "$R"
rm -rf "$R"/var/cache/apt/* "$R"/var/lib/apt/lists/* "$R"/usr/share/doc "$R"/usr/share/man \
    "$R"/usr/share/locale "$R"/usr/share/info "$R"/usr/lib/udev/hwdb.bin "$R"/usr/lib/udev/hwdb.d \
    "$R"/usr/lib/python3* "$R"/usr/lib/x86_64-linux-gnu/gconv "$R"/usr/share/zoneinfo \
    "$R"/usr/lib/x86_64-linux-gnu/perl-base "$R"/usr/share/perl5 "$R"/usr/lib/apt "$R"/usr/bin/perl*
# (the initramfs is unpacked into dom0's RAM under TCG: every MB costs boot time and memory)
mkdir -p "$R/lib/modules/$KVER/kernel/drivers" "$R/lib/modules/$KVER/kernel/fs"
cp -a "$MODS/kernel/drivers/xen" "$MODS/kernel/drivers/block" "$R/lib/modules/$KVER/kernel/drivers/"
cp -a "$MODS/kernel/fs/squashfs" "$MODS/kernel/fs/overlayfs" "$R/lib/modules/$KVER/kernel/fs/"
# Networking: netback (sys-net's uplink has its backend in dom0), veth (the test host's
# namespace), nftables (the uplink's NAT).
mkdir -p "$R/lib/modules/$KVER/kernel/drivers/net" "$R/lib/modules/$KVER/kernel/net/ipv4" \
    "$R/lib/modules/$KVER/kernel/net/ipv6" "$R/lib/modules/$KVER/kernel/lib"
cp -a "$MODS/kernel/drivers/net/xen-netback" "$MODS/kernel/drivers/net/veth.ko" "$R/lib/modules/$KVER/kernel/drivers/net/"
cp -a "$MODS/kernel/net/netfilter" "$R/lib/modules/$KVER/kernel/net/"
cp -a "$MODS/kernel/net/ipv4/netfilter" "$R/lib/modules/$KVER/kernel/net/ipv4/"
cp -a "$MODS/kernel/net/ipv6/netfilter" "$R/lib/modules/$KVER/kernel/net/ipv6/"
cp -a "$MODS/kernel/lib/libcrc32c.ko" "$R/lib/modules/$KVER/kernel/lib/"
mkdir -p "$R/lib/modules/$KVER/kernel/crypto" # (libcrc32c, which nf_tables needs, needs crc32c)
cp -a "$MODS/kernel/crypto/crc32c_generic.ko" "$R/lib/modules/$KVER/kernel/crypto/"
cp "$MODS"/modules.order "$MODS"/modules.builtin* "$R/lib/modules/$KVER/"
depmod -b "$R" "$KVER"

# Bulkhead: every program of build/bin (stripped) in /opt/bulkhead/bin, the test binaries in
# /opt/bulkhead/tests, their shared libraries from this (Debian 12) host.
O=$R/opt/bulkhead
mkdir -p "$O/bin" "$O/tests" "$O/e2e"
for f in "$BIN"/*; do
    [[ -f $f && -x $f ]] || continue
    case $(basename "$f") in bench | probe | bulkhead-ask-dialog) continue ;; esac # (no Qt in dom0 here)
    if file -L "$f" | grep -q ELF; then strip --strip-debug -o "$O/bin/${f##*/}" "$f"; else cp "$f" "$O/bin/"; fi
    chmod 0755 "$O/bin/${f##*/}"
done
for t in ${BULKHEAD_E2E_TESTS:-test_dom0_hypervisor_xen}; do
    if [[ -x $BIN/tests/$t ]]; then
        strip --strip-debug -o "$O/tests/$t" "$BIN/tests/$t"
        chmod 0755 "$O/tests/$t"
    fi # a missing suite is reported by the scenario as a failure, not skipped
done
# nft from this host: dom0's uplink NAT, and a template layer for netvms (the busybox
# template has no libc: the layer carries nft's libraries and the dynamic loader).
NFT=$(command -v nft || echo /usr/sbin/nft)
[[ -x $NFT ]] || die "no nft on this host (scripts/install-deps.sh installs nftables)"
install -D -m 0755 "$NFT" "$R/usr/sbin/nft"
NL=$O/nft-layer
mkdir -p "$NL/usr/sbin"
install -m 0755 "$NFT" "$NL/usr/sbin/nft"
libs_of() { ldd "$1" | awk '/=> \//{print $3} /^\t\/lib/{print $1}'; }
libs_of "$NFT" | while read -r lib; do
    mkdir -p "$NL$(dirname "$lib")"
    cp -L "$lib" "$NL$lib"
done
# The gui scenario: dom0's X server for bulkhead-guid to draw on (Xvfb, xkbcomp, the XKB
# data; Xvfb's built-in fonts), e2e_screen_probe (the scenario's look at dom0's screen), and a
# template layer with X for the domains (bulkhead-gui-layer: their own Xvfb, xmessage, ...,
# and the gui-agent), imported with qvm-template import-layer. About 31 MB in dom0.cpio: it
# reaches userspace 0.2 s later under TCG and smoke's boot time stays within its noise.
XPROGS=()
for p in Xvfb xkbcomp; do
    path=$(command -v "$p") || die "no $p on this host (scripts/install-deps.sh installs xvfb)"
    install -D -m 0755 "$(readlink -f "$path")" "$R/usr/bin/$p"
    XPROGS+=("$R/usr/bin/$p")
done
mkdir -p "$R/usr/share/X11" "$R/var/lib/xkb"
cp -a /usr/share/X11/xkb "$R/usr/share/X11/"
[[ -f $R/usr/share/X11/xkb/rules/evdev ]] || die "no XKB rules in /usr/share/X11/xkb"
[[ -x $BIN/tests/e2e_screen_probe ]] || die "no $BIN/tests/e2e_screen_probe (build it)"
strip --strip-debug -o "$O/tests/e2e_screen_probe" "$BIN/tests/e2e_screen_probe"
chmod 0755 "$O/tests/e2e_screen_probe"
[[ -x $BIN/bulkhead-gui-layer && -x $BIN/bulkhead-gui-agent ]] ||
    die "no bulkhead-gui-layer or bulkhead-gui-agent in $BIN (build them)"
"$BIN/bulkhead-gui-layer" "$O/gui-layer" "$BIN/bulkhead-gui-agent" >/dev/null
for f in "$O"/bin/* "$O"/tests/* "$NFT" "${XPROGS[@]}"; do
    file -L "$f" | grep -q 'dynamically linked' || continue
    libs_of "$f"
done | sort -u | while read -r lib; do
    mkdir -p "$R$(dirname "$lib")"
    rm -f "$R$lib" # never write through a symlink of the tree (absolute ones point at the host)
    cp -L "$lib" "$R$lib"
done
cp /bin/busybox "$O/busybox-static" # for bulkhead-template's busybox layer (guests have no libc)
file -L "$O/busybox-static" | grep -q 'statically linked' || die "/bin/busybox is not busybox-static"
cp -a policy/policy.d "$O/policy.d"

# Guest kernel directory, as the xen backend expects it by default.
K=$R/var/lib/bulkhead/vm-kernels/default
mkdir -p "$K"
cp "$OUT/boot/vmlinux" "$K/vmlinuz"
cp "$OUT/boot/guest.cpio" "$K/initramfs"

install -m 0755 tests/e2e/dom0-init.sh "$R/init"
for s in tests/e2e/scenarios/*.sh; do install -m 0755 "$s" "$O/e2e/"; done

(cd "$R" && find . -mindepth 1 | cpio -H newc -o --quiet) > "$OUT/boot/dom0.cpio"
echo "e2e build: $OUT/boot/dom0.cpio ($(du -h "$OUT/boot/dom0.cpio" | cut -f1)), kernel $KVER"
