#!/bin/bash
# e2e smoke (make e2e-smoke, part of make test): bulkheadd on the xen backend, one AppVM
# started through it, one qvm-run -p answered by the agent over libxenvchan.
E2E_TRACE_HOTPLUG=1
. /opt/bulkhead/e2e/lib.sh
warm_hotplug

check "bulkheadd --backend xen starts" start_daemon || { daemon_log; summary; exit 1; }
check "busybox template" make_template
check "qvm-create smoke" sh -c 'qvm-create --template debian-min --label red smoke &&
    qvm-prefs smoke memory 128 && qvm-prefs smoke maxmem 128 && qvm-prefs smoke vcpus 1 && qvm-prefs smoke qrexec_timeout 240'
if start_vm smoke 200; then
    echo "  qvm-start smoke took $START_TOOK ms"
else
    fail "qvm-run -p smoke" "not started"
    summary
    exit 1
fi
out=$(qvm-run -p smoke 'echo "hello from $(hostname) on $(cat /sys/hypervisor/type)"' 2>&1)
if [ "$out" = "hello from smoke on xen" ]; then pass "qvm-run -p smoke"; else
    fail "qvm-run -p smoke" "got '$out'"
    daemon_log; show_console smoke 30
fi
check "qvm-shutdown --all --wait" qvm-shutdown --all --wait --timeout 60
summary
