#!/bin/bash
# The system half of the full e2e (make e2e), inside dom0 on real Xen under QEMU, through
# bulkheadd --backend xen: two AppVMs, qvm-run -p in each, qvm-copy-to-vm between them
# (checked), a disposable, qvm-shutdown --all. Also prints the timing figures (TIME lines):
# qvm-start vs a bare xl create of the same kernel+initramfs, qvm-run -p latency, 100 MiB
# copy throughput. (The other half, contract.sh, boots in a second QEMU beside this one.)
. /opt/bulkhead/e2e/lib.sh
K=/var/lib/bulkhead/vm-kernels/default
warm_hotplug

# 1. bulkheadd and two AppVMs.
check "bulkheadd --backend xen starts" start_daemon || { daemon_log; summary; exit 1; }
check "busybox template" make_template
small() { qvm-prefs "$1" memory 128 && qvm-prefs "$1" maxmem 128 && qvm-prefs "$1" vcpus 1 && qvm-prefs "$1" qrexec_timeout 240; }
check "qvm-create work, personal, default-dvm" sh -c '
    qvm-create --template debian-min --label blue work &&
    qvm-create --template debian-min --label green personal &&
    qvm-create --template debian-min --label red -P template_for_dispvms=True default-dvm'
for d in work personal default-dvm; do small $d; done
START_MS=
for d in work personal; do
    if start_vm $d 200; then
        echo "TIME qvm-start $d $START_TOOK ms"
        START_MS="$START_MS $d:$START_TOOK"
    fi
done
for d in work personal; do
    out=$(qvm-run -p $d 'echo "$(hostname):$(cat /sys/hypervisor/type)"' 2>&1)
    if [ "$out" = "$d:xen" ]; then pass "qvm-run -p $d"; else
        fail "qvm-run -p $d" "got '$out'"
        daemon_log 60; show_console $d 40
    fi
done

# 2. Baseline: a bare xl create of the same kernel+initramfs and the same layer image, with
# argv printing a marker on the console instead of starting the agent.
bare_xl() {
    local layer sq loop id t0 i=0
    layer=$(bulkhead-template /tmp/tpl layers debian-min | tail -n 1)
    sq=$(ls /var/lib/bulkhead/e2e/*/*.squashfs /var/lib/bulkhead/e2e/*/*/*.squashfs \
             /var/lib/bulkhead/e2e/*/*/*/*.squashfs 2>/dev/null | head -n 1)
    [ -n "$sq" ] || { mksquashfs "$layer" /tmp/bare.squashfs -noappend -no-progress -quiet; sq=/tmp/bare.squashfs; }
    loop=$(losetup -f --show -r "$sq") || return 1
    cat > /tmp/bare.cfg <<CFG
name = "bare"
type = "pv"
memory = 128
vcpus = 1
kernel = "$K/vmlinuz"
ramdisk = "$K/initramfs"
extra = "console=hvc0 rdinit=/init quiet bulkhead.layers=1 bulkhead.private=0"
disk = [ "phy:$loop,xvda,r" ]
on_poweroff = "destroy"
on_crash = "destroy"
CFG
    t0=$(now)
    xl create -p /tmp/bare.cfg >/tmp/bare.log 2>&1 || { cat /tmp/bare.log; losetup -d $loop; return 1; }
    id=$(xl domid bare)
    xenstore-write -- /local/domain/$id/bulkhead/hostname bare \
        /local/domain/$id/bulkhead/argv/0 /bin/sh \
        /local/domain/$id/bulkhead/argv/1 -c \
        /local/domain/$id/bulkhead/argv/2 'echo E2E-BARE-READY' \
        /local/domain/$id/bulkhead/env/0 PATH=/bin:/sbin
    xl unpause bare
    while ! grep -q E2E-BARE-READY /var/log/xen/console/guest-bare.log 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 2400 ] && { xl destroy bare; losetup -d $loop; echo "no marker"; return 1; }
        sleep 0.1
    done
    ms_since $t0 > /tmp/bare.ms
    i=0
    while xl domid bare >/dev/null 2>&1 && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    xl destroy bare 2>/dev/null
    losetup -d $loop 2>/dev/null
    return 0
}
if check "bare xl create (same kernel+initramfs)" bare_xl; then
    BARE_MS=$(cat /tmp/bare.ms)
    echo "TIME bare-xl-create-to-init $BARE_MS ms"
    # Both starts also make the domain's private volume (mke2fs) and attach a second disk,
    # which the bare one does not; work's is the first in this dom0 (colder), personal's warm.
    for s in $START_MS; do
        awk -v d="${s%%:*}" -v a="${s##*:}" -v b="$BARE_MS" \
            'BEGIN{printf "TIME qvm-start/bare-xl ratio %s %.2f (qvm-start %d ms, bare %d ms)\n", d, a/b, a, b}'
    done
fi

# 3. qvm-run -p latency.
: > /tmp/lat
ok=1
for i in $(seq 20); do
    t0=$(now)
    qvm-run -p work true || { ok=0; break; } # (a broken domain would cost 20 timeouts)
    ms_since $t0 >> /tmp/lat
    echo >> /tmp/lat
done
if [ $ok = 1 ]; then pass "qvm-run -p work true x20"; else fail "qvm-run -p work true x20" "a call failed"; fi
sort -n /tmp/lat | grep . | awk '{v[NR]=$1} END{p50=v[int((NR+1)/2)]; i99=int(NR*0.99+0.999); if(i99>NR)i99=NR;
    printf "TIME qvm-run-p-true p50 %d ms p99 %d ms (n=%d)\n", p50, v[i99], NR}'

# 4. qvm-copy-to-vm between the two AppVMs: a small file checked, then 100 MiB timed.
out=$(qvm-run -p work 'echo "report from work" > ~/report.txt && qvm-copy-to-vm personal ~/report.txt' 2>&1)
got=$(qvm-run -p personal 'cat ~/QubesIncoming/work/report.txt' 2>&1)
if [ "$got" = "report from work" ]; then pass "qvm-copy-to-vm work -> personal"; else
    fail "qvm-copy-to-vm work -> personal" "got '$got' (copy said: $out)"
fi
qvm-run -p work 'dd if=/dev/urandom of=$HOME/big bs=1M count=100 2>&1 && md5sum $HOME/big' > /tmp/big.src 2>&1
t0=$(now)
out=$(qvm-run -p work 'qvm-copy-to-vm personal ~/big' 2>&1)
rc=$?
ms=$(ms_since $t0)
src=$(tail -n 1 /tmp/big.src | cut -d' ' -f1)
dst=$(qvm-run -p personal 'md5sum ~/QubesIncoming/work/big' 2>&1 | cut -d' ' -f1)
if [ $rc -eq 0 ] && [ -n "$src" ] && [ "$src" = "$dst" ]; then
    pass "qvm-copy-to-vm 100 MiB (md5 equal)"
    awk -v ms="$ms" 'BEGIN{printf "TIME qvm-copy-to-vm 100 MiB %d ms = %.1f MiB/s\n", ms, 100000/ms}'
else
    fail "qvm-copy-to-vm 100 MiB" "rc $rc, md5 '$src' vs '$dst': $out"
    sed 's/^/  [dd in work] /' /tmp/big.src
fi
# Baseline in the same boot: the same 100 MiB streamed from work to dom0 as qvm-run -p
# output (one vchan, no Filecopy packing, unpacking or target disk).
t0=$(now)
qvm-run -p work 'cat ~/big' > /dev/null 2>&1 &&
    awk -v ms="$(ms_since $t0)" 'BEGIN{printf "TIME qvm-run -p cat work to dom0 100 MiB %d ms = %.1f MiB/s\n", ms, 100000/ms}'
qvm-run -p personal 'rm -f ~/QubesIncoming/work/big' >/dev/null 2>&1
qvm-run -p work 'rm -f ~/big' >/dev/null 2>&1

# 5. A disposable.
t0=$(now)
out=$(qvm-run -p --dispvm=default-dvm 'echo "$(hostname):$(cat /sys/hypervisor/type)"' 2>&1)
case $out in
disp*:xen) pass "qvm-run --dispvm"; echo "TIME qvm-run-dispvm $(ms_since $t0) ms" ;;
*) fail "qvm-run --dispvm" "got '$out'"; daemon_log ;;
esac

# 6. Everything stopped.
check "qvm-shutdown --all --wait" qvm-shutdown --all --wait --timeout 120
left=$(xl list | awk 'NR>1 && $1 != "Domain-0"' | wc -l)
if [ "$left" = 0 ]; then pass "no domain left but dom0"; else
    fail "no domain left but dom0" "$(xl list | tail -n +2 | tr '\n' ';')"
fi
summary
