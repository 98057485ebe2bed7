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
start_daemon() {
    mkdir -p $BROOT/policy
    cp /opt/bulkhead/policy.d/*.policy $BROOT/policy/
    cat > $BROOT/policy/30-e2e.policy <<'POLICY'
qubes.Filecopy  *  @anyvm  @anyvm  allow
POLICY
    export BULKHEAD_ROOT=$BROOT
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
daemon_log() { tail -n "${1:-30}" /tmp/bulkheadd.log | sed 's/^/  [bulkheadd] /'; }

# The busybox template (the host's busybox-static: guests have no libc).
make_template() {
    rm -rf /tmp/tpl
    $B/bulkhead-template /tmp/tpl busybox debian-min /opt/bulkhead/busybox-static &&
        $B/qvm-create --class TemplateVM --label black debian-min &&
        $B/qvm-template import-layer debian-min /tmp/tpl/debian-min/base
}
