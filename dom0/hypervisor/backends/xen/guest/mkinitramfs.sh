#!/usr/bin/env bash
# Builds the initramfs every Bulkhead domain on Xen boots (newc cpio, uncompressed):
# busybox, /init (beside this script), Bulkhead's static guest tools from BUILD_BIN_DIR
# (stripped; bulkhead-xen-init becomes PID 1), and the kernel modules /init loads, with
# their dependencies.
#
# Usage: mkinitramfs.sh OUT.cpio BUILD_BIN_DIR KERNEL_MODULES_DIR
#   KERNEL_MODULES_DIR: the kernel's /lib/modules/<version> (e.g. unpacked from its .deb)
# Needs: busybox-static, kmod (depmod), cpio, binutils (strip), file.
set -euo pipefail
[[ $# -eq 3 ]] || { echo "usage: $0 OUT.cpio BUILD_BIN_DIR KERNEL_MODULES_DIR" >&2; exit 2; }
OUT=$1 BIN=$2 MODS=${3%/}
HERE=$(cd "$(dirname "$0")" && pwd)
KVER=$(basename "$MODS")
BUSYBOX=${BUSYBOX:-/bin/busybox}
TOOLS=(bulkhead-xen-init bulkhead-agent qrexec-client-vm qfile-agent qfile-unpacker qvm-copy qvm-open-in-vm
       qvm-open-in-dvm vm-file-editor bulkhead-open-url)
WANT=(xen-blkfront squashfs overlay crc32c_generic ext4 xenfs xen-evtchn xen-gntdev xen-gntalloc
      xen-netfront)
# Loaded only in a netvm (bulkhead.netvm=1): its clients' backends and its firewall.
WANT_NETVM=(xen-netback nf_tables nft_ct nft_nat nft_masq nft_chain_nat)

die() { echo "mkinitramfs: $*" >&2; exit 1; }
for c in depmod cpio strip file; do command -v $c >/dev/null || die "missing $c"; done
[[ -f $MODS/modules.dep ]] || die "no modules.dep in $MODS"
file -L "$BUSYBOX" | grep -q 'statically linked' || die "$BUSYBOX is not a static busybox"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T"/{bin,sbin,dev,proc,sys,tmp,run,newroot,bulkhead,lib/modules/"$KVER"}
cp "$BUSYBOX" "$T/bin/busybox"
for a in $("$BUSYBOX" --list); do [[ $a == busybox ]] || ln -s busybox "$T/bin/$a"; done
install -m 0755 "$HERE/init" "$T/init"

for t in "${TOOLS[@]}"; do
    [[ -f $BIN/$t ]] || die "missing guest tool $BIN/$t (cmake --build build first)"
    if file -L "$BIN/$t" | grep -q 'ELF'; then
        file -L "$BIN/$t" | grep -q 'statically linked' || die "$BIN/$t is not statically linked"
        strip --strip-all -o "$T/bulkhead/$t" "$BIN/$t"
    else
        cp "$BIN/$t" "$T/bulkhead/$t"
    fi
    chmod 0755 "$T/bulkhead/$t"
done

# Modules: WANT (unless built in) and everything they depend on, in load order.
name_of() { local b; b=$(basename "$1"); b=${b%%.ko*}; echo "${b//-/_}"; }
declare -A path_of=()
while IFS=: read -r mod _; do path_of[$(name_of "$mod")]=$mod; done < "$MODS/modules.dep"
declare -A builtin=()
while read -r mod; do builtin[$(name_of "$mod")]=1; done < "$MODS/modules.builtin"
want() { # MODULE LOADFILE: MODULE (unless built in) and what it depends on
    local m=$1 n=${1//-/_} line f
    if [[ -n ${builtin[$n]:-} ]]; then return; fi
    [[ -n ${path_of[$n]:-} ]] || die "kernel module $m neither built in nor in $MODS"
    echo "$m" >> "$2"
    line=$(grep -E "^(.*/)?${path_of[$n]}:" "$MODS/modules.dep")
    for f in ${line/:/ }; do
        mkdir -p "$T/lib/modules/$KVER/$(dirname "$f")"
        cp "$MODS/$f" "$T/lib/modules/$KVER/$f"
    done
}
: > "$T/lib/modules/load"
: > "$T/lib/modules/load-netvm"
for m in "${WANT[@]}"; do want "$m" "$T/lib/modules/load"; done
for m in "${WANT_NETVM[@]}"; do want "$m" "$T/lib/modules/load-netvm"; done
cp "$MODS"/modules.order "$MODS"/modules.builtin "$MODS"/modules.builtin.modinfo "$T/lib/modules/$KVER/"
depmod -b "$T" "$KVER"

(cd "$T" && find . -mindepth 1 | LC_ALL=C sort | cpio -H newc -o --quiet -R 0:0) > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "mkinitramfs: $OUT ($(du -h "$OUT" | cut -f1), modules: $(tr '\n' ' ' < "$T/lib/modules/load")+ netvm: $(tr '\n' ' ' < "$T/lib/modules/load-netvm"))"
