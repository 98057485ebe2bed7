#!/bin/bash
# The Hypervisor contract suite against the xen backend (the same suite the sandbox passes),
# inside dom0 on real Xen under QEMU: the first half of the full e2e (make e2e), booted in its
# own QEMU beside apps.sh. It makes and destroys its own domains, without bulkheadd.
. /opt/bulkhead/e2e/lib.sh
warm_hotplug
# The suite's volumes (/var/tmp/bulkhead-xen-test-*) in their own tmpfs, as bulkheadd's root
# in apps.sh: not capped at what the initramfs root leaves free.
mkdir -p /var/tmp
mount -t tmpfs -o size=1000m tmpfs /var/tmp
t0=$(now)
if [ -x /opt/bulkhead/tests/test_dom0_hypervisor_xen ]; then
    BULKHEAD_BUSYBOX=/opt/bulkhead/busybox-static /opt/bulkhead/tests/test_dom0_hypervisor_xen \
        --reporter compact > /tmp/contract.log 2>&1
    rc=$?
    sed 's/^/  [contract] /' /tmp/contract.log
    if [ $rc -eq 0 ]; then pass "Hypervisor contract suite (xen)"; else
        fail "Hypervisor contract suite (xen)" "exit $rc: $(tail -n 1 /tmp/contract.log)"
        df -k / /var/tmp | sed 's/^/  [df] /'
        for f in /var/log/xen/console/guest-c-*.log; do show_console "$(basename "$f" .log | sed 's/^guest-//')" 8; done
    fi
    echo "TIME contract-suite $(ms_since $t0) ms"
else
    fail "Hypervisor contract suite (xen)" "test_dom0_hypervisor_xen is not in the image"
fi
left=$(xl list | awk 'NR>1 && $1 != "Domain-0"' | wc -l)
if [ "$left" = 0 ]; then pass "no domain left but dom0"; else
    fail "no domain left but dom0" "$(xl list | tail -n +2 | tr '\n' ';')"
fi
summary
