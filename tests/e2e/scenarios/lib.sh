# Shared by the dom0 scenarios (sourced; busybox/bash sh in the e2e dom0).
# check NAME CMD...  runs CMD, prints "PASS NAME" or "FAIL NAME: <last output line>".
# summary            prints "N passed, M failed" (the line the host harness reads).
B=/opt/bulkhead/bin
export PATH=$B:$PATH
PASSED=0
FAILED=0
now() { cut -d' ' -f1 /proc/uptime; }
ms_since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%d", (b-a)*1000}'; }
pass() { PASSED=$((PASSED + 1)); echo "PASS $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1: $2"; }
check() {
    local name=$1 out rc
    shift
    out=$("$@" 2>&1)
    rc=$?
    if [ $rc -eq 0 ]; then pass "$name"; else
        printf '%s\n' "$out" | tail -n 15 | sed "s/^/  [$name] /"
        fail "$name" "exit $rc: $(printf '%s\n' "$out" | tail -n 1)"
    fi
    return $rc
}
summary() { echo "$PASSED passed, $FAILED failed"; }

# A guest console log (xenconsoled), for failures.
show_console() { tail -n "${2:-20}" "/var/log/xen/console/guest-$1.log" 2>/dev/null | sed "s/^/  [console $1] /"; }

# bulkheadd on the xen backend, state in /var/lib/bulkhead/e2e; waits for the admin socket.
BROOT=/var/lib/bulkhead/e2e
export BULKHEAD_ROOT=$BROOT # for the qvm-* tools
start_daemon() {
    mkdir -p $BROOT/policy
    cp /opt/bulkhead/policy.d/*.policy $BROOT/policy/
    cat > $BROOT/policy/30-e2e.policy <<'POLICY'
qubes.Filecopy  *  @anyvm  @anyvm  allow
POLICY
    $B/bulkheadd --backend xen --root $BROOT --policy-dir $BROOT/policy "$@" > /tmp/bulkheadd.log 2>&1 &
    DAEMON=$!
    local i=0
    while [ ! -S $BROOT/run/admin.sock ]; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 $DAEMON 2>/dev/null; then
            tail -n 20 /tmp/bulkheadd.log | sed 's/^/  [bulkheadd] /'
            return 1
        fi
        sleep 0.1
    done
}
daemon_log() {
    tail -n "${1:-30}" /tmp/bulkheadd.log | sed 's/^/  [bulkheadd] /'
    grep -v '^++++' /var/log/xen/xen-hotplug.log 2>/dev/null | tail -n "${1:-30}" | sed 's/^/  [hotplug] /'
}

# E2E_TRACE_HOTPLUG=1: libxl's block script runs under bash -x (trace in xen-hotplug.log).
if [ -n "$E2E_TRACE_HOTPLUG" ] && [ ! -f /etc/xen/scripts/block.real ]; then
    mv /etc/xen/scripts/block /etc/xen/scripts/block.real
    printf '#!/bin/sh\nexec bash -x /etc/xen/scripts/block.real "$@"\n' > /etc/xen/scripts/block
    chmod +x /etc/xen/scripts/block
fi

# The busybox template (the host's busybox-static: guests have no libc).
make_template() {
    rm -rf /tmp/tpl
    $B/bulkhead-template /tmp/tpl busybox debian-min /opt/bulkhead/busybox-static &&
        $B/qvm-create --class TemplateVM --label black debian-min &&
        $B/qvm-template import-layer debian-min /tmp/tpl/debian-min/base
}

# qvm-start NAME, with progress every 30 s (xl list, the guest console) and a bound of
# $2 seconds (default 200); on failure the daemon log and the console. Sets START_TOOK (ms).
start_vm() {
    local name=$1 limit=${2:-200} t0 pid waited=0 rc
    t0=$(now)
    qvm-start "$name" > /tmp/start-$name.log 2>&1 &
    pid=$!
    while kill -0 $pid 2>/dev/null; do
        sleep 1
        waited=$((waited + 1))
        if [ $((waited % 30)) = 0 ]; then
            echo "  [start $name] still starting after ${waited}s:"
            xl list | tail -n +2 | sed 's/^/  [xl list] /'
            show_console "$name" 5
        fi
        if [ $waited -ge "$limit" ]; then
            kill $pid 2>/dev/null
            break
        fi
    done
    wait $pid
    rc=$?
    START_TOOK=$(ms_since $t0)
    if [ $rc = 0 ]; then pass "qvm-start $name"; return 0; fi
    cat /tmp/start-$name.log | tail -n 5 | sed "s/^/  [qvm-start $name] /"
    fail "qvm-start $name" "exit $rc after ${START_TOOK} ms: $(tail -n 1 /tmp/start-$name.log)"
    daemon_log 40
    show_console "$name" 40
    return 1
}

# The first run of libxl's block hotplug script in a fresh dom0 can overrun libxl's fixed
# hotplug timeout under TCG (QEMU translates every code page the first time it runs: bash,
# xenstore-read, ...), failing that domain's creation with "unable to add disk devices".
# One paused domain with a phy disk, created and destroyed, makes the later runs warm.
warm_hotplug() {
    local loop t0 i
    t0=$(now)
    truncate -s 1M /tmp/warm.img
    loop=$(losetup -f --show -r /tmp/warm.img) || return 1
    cat > /tmp/warm.cfg <<CFG
name = "e2e-warm"
type = "pv"
memory = 128
kernel = "/var/lib/bulkhead/vm-kernels/default/vmlinuz"
disk = [ "phy:$loop,xvda,r" ]
CFG
    for i in 1 2; do
        if xl create -p /tmp/warm.cfg > /tmp/warm.log 2>&1; then break; fi
        echo "  [warm-up] attempt $i: $(grep -m1 error /tmp/warm.log)"
    done
    xl destroy e2e-warm 2>/dev/null
    losetup -d "$loop"
    echo "TIME hotplug-warm-up $(ms_since $t0) ms"
}
