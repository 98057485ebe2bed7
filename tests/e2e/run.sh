#!/usr/bin/env bash
# The Xen-in-QEMU end-to-end run: real Xen 4.17 + a Debian 6.1 PV dom0 in
# qemu-system-x86_64 (TCG, no KVM needed), bulkheadd on the xen backend inside.
#
#   tests/e2e/run.sh full     everything (make e2e)
#   tests/e2e/run.sh smoke    boot, bulkheadd --backend xen, one domain, one qvm-run -p (make e2e-smoke)
#   tests/e2e/run.sh contract|apps|network|gui   one part of full (full boots contract then
#                             network beside apps then gui); network: sys-net, sys-firewall and
#                             an AppVM on vifs (netvms as driver domains), rules in the netvms;
#                             gui: bulkheadd --gui-display on dom0's Xvfb, a domain's xmessage
#                             on dom0's screen (vchan + grant references), XTEST keys (make e2e-gui)
#   tests/e2e/run.sh shell    boot and leave a dom0 shell on this terminal (debugging)
#
# Installs its apt dependencies, downloads into ${BULKHEAD_E2E_CACHE:-~/.cache/bulkhead-e2e}
# once, builds build/ (cmake --build build -j2) then build-e2e/boot/*, boots, and exits 0
# only when each dom0 scenario printed "N passed, 0 failed" with N > 0. The whole serial log
# (Xen, dom0 console, scenario) is in build-e2e/logs/. Env: E2E_CPU (qemu64), E2E_MEM (MiB,
# 3072), E2E_DOM0_MEM (1536M: its root file system, in RAM, holds the domains' volumes), E2E_TIMEOUT (s), E2E_NO_BUILD=1 (boot the images as they are).
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=${1:-full}
case $MODE in full | smoke | contract | apps | network | gui | shell | probe) ;; *) echo "usage: $0 full|smoke|contract|apps|network|gui|shell" >&2; exit 2 ;; esac
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
MEM=${E2E_MEM:-3072}
DOM0_MEM=${E2E_DOM0_MEM:-1536M}
mkdir -p "$OUT/logs"
STAMP=$(date +%Y%m%d-%H%M%S)

# boot SCENARIO TIMEOUT: one Xen-in-QEMU boot whose dom0 runs scenarios/SCENARIO.sh; the
# serial log goes to build-e2e/logs/SCENARIO-<stamp>.log. Returns QEMU's exit code.
boot() {
    local scenario=$1 timeout=$2 log=$OUT/logs/$1-$STAMP.log
    ln -sfn "$(basename "$log")" "$OUT/logs/$scenario-latest.log"
    local xen_cmdline="console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all console_timestamps=boot dom0_mem=$DOM0_MEM,max:$DOM0_MEM dom0_max_vcpus=1"
    local dom0_cmdline="console=hvc0 earlyprintk=xen rdinit=/init quiet bulkhead.e2e=$scenario"
    local qemu=(qemu-system-x86_64 -machine pc,accel=tcg -cpu "$CPU" -m "$MEM" -smp 1
                -nographic -monitor none -serial stdio -no-reboot
                -kernel "$OUT/boot/xen" -append "$xen_cmdline"
                -initrd "$OUT/boot/vmlinux $dom0_cmdline,$OUT/boot/dom0.cpio")
    {
        echo "# e2e $scenario $(date -u +%FT%TZ) cpu=$CPU mem=${MEM}M dom0_mem=$DOM0_MEM timeout=${timeout}s"
        echo "# ${qemu[*]}"
    } > "$log"
    if [[ $scenario == shell ]]; then
        exec "${qemu[@]}"
    fi
    local start rc
    start=$(date +%s)
    set +e
    timeout -k 5 "$timeout" "${qemu[@]}" < /dev/null 2>&1 |
        perl -MTime::HiRes=time -ne 'BEGIN{$|=1;$s=time} s/\r//g; printf("[%7.2f] %s", time-$s, $_)' |
        tee -a "$log" | grep --line-buffered -E '(^|\] )(PASS|FAIL|TIME|E2E-DOM0)|[0-9]+ passed, [0-9]+ failed' |
        sed -u "s/^/$scenario /"
    rc=${PIPESTATUS[0]}
    set -e
    echo "# qemu rc=$rc wall=$(($(date +%s) - start))s" >> "$log"
    return "$rc"
}

# result SCENARIO QEMU_RC: checks one boot's log; prints its verdict, returns 0 when it passed.
PASSED=0
FAILED=0
result() {
    local scenario=$1 rc=$2 log=$OUT/logs/$1-$STAMP.log line
    line=$(grep -aoE '(^|[] ])[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1 | sed 's/^[] ]*//')
    if [[ $rc -eq 124 || $rc -eq 137 ]]; then
        echo "e2e: $scenario: FAILED: timeout (log $log)"
    elif [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        PASSED=$((PASSED + BASH_REMATCH[1]))
        FAILED=$((FAILED + BASH_REMATCH[2]))
        if [[ ${BASH_REMATCH[2]} -eq 0 && ${BASH_REMATCH[1]} -gt 0 ]]; then
            echo "e2e: $scenario: $line (log $log)"
            return 0
        fi
        echo "e2e: $scenario: FAILED: $line (qemu rc $rc)"
    else
        echo "e2e: $scenario: FAILED: no result line (qemu rc $rc)"
    fi
    FAILED=$((FAILED + 1))
    echo "e2e: $scenario: log $log -- last lines:"
    tail -n 40 "$log"
    return 1
}

echo "e2e: booting Xen in QEMU ($MODE), logs in $OUT/logs/"
start=$(date +%s)
case $MODE in
shell) boot shell 0 ;;
full)
    # Two lines of boots side by side (one QEMU vCPU each, so both cores work): the
    # Hypervisor contract suite then the network scenario in one, everything else through
    # bulkheadd (apps, then the GUI) in the other.
    # (a boot that times out does not stop its lane: set -e is on)
    lane() { # SCENARIO TIMEOUT ...: boots each in turn, QEMU's code in logs/.SCENARIO.rc
        local rc
        while [[ $# -gt 0 ]]; do
            rc=0
            boot "$1" "$2" || rc=$?
            echo $rc > "$OUT/logs/.$1.rc"
            shift 2
        done
    }
    rm -f "$OUT"/logs/.{contract,network,apps,gui}.rc
    lane contract "${E2E_TIMEOUT:-720}" network "${E2E_TIMEOUT:-900}" & cpid=$!
    lane apps "${E2E_TIMEOUT:-720}" gui "${E2E_TIMEOUT:-900}" & apid=$!
    set +e
    wait $cpid
    wait $apid
    set -e
    ok=0
    for s in contract apps network gui; do
        result $s "$(cat "$OUT/logs/.$s.rc" 2>/dev/null || echo 1)" || ok=1
    done
    ;;
*)
    set +e
    limit=420
    [[ $MODE == contract || $MODE == apps ]] && limit=720 # (as in full)
    [[ $MODE == network || $MODE == gui ]] && limit=900
    boot "$MODE" "${E2E_TIMEOUT:-$limit}"; rc=$?
    set -e
    ok=0
    result "$MODE" $rc || ok=1
    ;;
esac
echo "e2e: $MODE: $PASSED passed, $FAILED failed ($(($(date +%s) - start)) s)"
exit $ok
