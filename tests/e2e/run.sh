#!/usr/bin/env bash
# The Xen-in-QEMU end-to-end run: real Xen 4.17 + a Debian 6.1 PV dom0 in
# qemu-system-x86_64 (TCG, no KVM needed), bulkheadd on the xen backend inside.
#
#   tests/e2e/run.sh full     everything (make e2e)
#   tests/e2e/run.sh smoke    boot, bulkheadd --backend xen, one domain, one qvm-run -p (make e2e-smoke)
#   tests/e2e/run.sh shell    boot and leave a dom0 shell on this terminal (debugging)
#
# Installs its apt dependencies, downloads into ${BULKHEAD_E2E_CACHE:-~/.cache/bulkhead-e2e}
# once, builds build/ (cmake --build build -j2) then build-e2e/boot/*, boots, and exits 0
# only when dom0's scenario printed "N passed, 0 failed" with N > 0. The whole serial log
# (Xen, dom0 console, scenario) is in build-e2e/logs/. Env: E2E_CPU (qemu64), E2E_MEM (MiB,
# 2560), E2E_DOM0_MEM (1024M), E2E_TIMEOUT (s), E2E_NO_BUILD=1 (boot the images as they are).
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=${1:-full}
case $MODE in full | smoke | shell | probe) ;; *) echo "usage: $0 full|smoke|shell" >&2; exit 2 ;; esac
JOBS=${JOBS:-2}
OUT=$PWD/build-e2e

scripts/install-deps.sh # (qemu-system-x86, debootstrap, squashfs-tools, ...: a missing one is an error)
if [[ -z ${E2E_NO_BUILD:-} ]]; then
    scripts/configure.sh build >/dev/null
    cmake --build build -j"$JOBS"
    tests/e2e/fetch.sh
    tests/e2e/build-images.sh build
fi

CPU=${E2E_CPU:-qemu64} # any model with SMAP crashes Debian's PV dom0
MEM=${E2E_MEM:-2560}
DOM0_MEM=${E2E_DOM0_MEM:-1024M}
if [[ $MODE == full ]]; then TIMEOUT=${E2E_TIMEOUT:-900}; else TIMEOUT=${E2E_TIMEOUT:-420}; fi
mkdir -p "$OUT/logs"
LOG=$OUT/logs/$MODE-$(date +%Y%m%d-%H%M%S).log
ln -sfn "$(basename "$LOG")" "$OUT/logs/$MODE-latest.log"
XEN_CMDLINE="console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all console_timestamps=boot dom0_mem=$DOM0_MEM,max:$DOM0_MEM dom0_max_vcpus=1"
DOM0_CMDLINE="console=hvc0 earlyprintk=xen rdinit=/init quiet bulkhead.e2e=$MODE"
QEMU=(qemu-system-x86_64 -machine pc,accel=tcg -cpu "$CPU" -m "$MEM" -smp 1
      -nographic -monitor none -serial stdio -no-reboot
      -kernel "$OUT/boot/xen" -append "$XEN_CMDLINE"
      -initrd "$OUT/boot/vmlinux $DOM0_CMDLINE,$OUT/boot/dom0.cpio")
{
    echo "# e2e $MODE $(date -u +%FT%TZ) cpu=$CPU mem=${MEM}M dom0_mem=$DOM0_MEM timeout=${TIMEOUT}s"
    echo "# ${QEMU[*]}"
} > "$LOG"
echo "e2e: booting Xen in QEMU ($MODE), log $LOG"
if [[ $MODE == shell ]]; then
    exec "${QEMU[@]}"
fi
start=$(date +%s)
set +e
timeout -k 5 "$TIMEOUT" "${QEMU[@]}" < /dev/null 2>&1 |
    perl -MTime::HiRes=time -ne 'BEGIN{$|=1;$s=time} s/\r//g; printf("[%7.2f] %s", time-$s, $_)' |
    tee -a "$LOG" | grep --line-buffered -E '(^|\] )(PASS|FAIL|TIME|E2E-DOM0)|[0-9]+ passed, [0-9]+ failed'
rc=${PIPESTATUS[0]}
set -e
echo "# qemu rc=$rc wall=$(($(date +%s) - start))s" >> "$LOG"

result=$(grep -aoE '(^|[] ])[0-9]+ passed, [0-9]+ failed$' "$LOG" | tail -1 | sed 's/^[] ]*//')
if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    echo "e2e: FAILED: timeout after ${TIMEOUT}s"
elif [[ $result =~ ^([0-9]+)\ passed,\ 0\ failed$ && ${BASH_REMATCH[1]} -gt 0 ]]; then
    echo "e2e: $MODE: $result ($(($(date +%s) - start)) s; log $LOG)"
    exit 0
else
    echo "e2e: FAILED: ${result:-no result line} (qemu rc $rc)"
fi
echo "e2e: log: $LOG -- last lines:"
tail -n 40 "$LOG"
exit 1
