#!/bin/bash
# Probe of the guest contract with plain xl (no bulkheadd): squashfs layer on a loop device,
# ext4 private volume, xenstore keys written while paused, the guest initramfs from
# mkinitramfs.sh. Prints the guest's console.
. /opt/bulkhead/e2e/lib.sh
TRACE_BLOCK=
K=/var/lib/bulkhead/vm-kernels/default
W=/tmp/probe
mkdir -p $W/priv/home/user
echo "private-ok" > $W/priv/home/user/marker
t0=$(now)
$B/bulkhead-template $W/tpl busybox base /opt/bulkhead/busybox-static || echo "template failed"
layer=$($B/bulkhead-template $W/tpl layers base)
mksquashfs "$layer" $W/l0.squashfs -noappend -no-progress -quiet
mke2fs -q -t ext4 -d $W/priv $W/priv.img 2G
echo "TIME images $(ms_since $t0) ms"
L0=$(losetup -f --show -r $W/l0.squashfs)
P=$(losetup -f --show $W/priv.img)
echo "loops: $L0 $P"
cat > $W/probe.cfg <<CFG
name = "probe"
type = "pv"
memory = 128
vcpus = 1
kernel = "$K/vmlinuz"
ramdisk = "$K/initramfs"
extra = "console=hvc0 rdinit=/init quiet bulkhead.layers=1 bulkhead.private=1"
disk = [ "phy:$L0,xvda,r", "phy:$P,xvdp,w" ]
on_poweroff = "destroy"
on_crash = "destroy"
CFG
if [ -n "$TRACE_BLOCK" ] && [ ! -f /etc/xen/scripts/block.real ]; then
    mv /etc/xen/scripts/block /etc/xen/scripts/block.real
    printf '#!/bin/sh\nexec bash -x /etc/xen/scripts/block.real "$@" 2>>/tmp/block.trace\n' > /etc/xen/scripts/block
    chmod +x /etc/xen/scripts/block
fi
t0=$(now)
xl -v create -p $W/probe.cfg 2>&1 | tail -n 20
echo "TIME xl-create-paused $(ms_since $t0) ms"
id=$(xl domid probe)
echo "domid $id"
xenstore-write /local/domain/$id/bulkhead/hostname probe-host
xenstore-write /local/domain/$id/bulkhead/argv/0 /bin/sh
xenstore-write -- /local/domain/$id/bulkhead/argv/1 -c
xenstore-write /local/domain/$id/bulkhead/argv/2 'echo PROBE-ARGV-OK "$FOO" $(hostname)'
xenstore-write /local/domain/$id/bulkhead/env/0 'FOO=bar baz'
xenstore-write /local/domain/$id/bulkhead/env/1 'PATH=/bin:/sbin:/usr/bin'
xenstore-ls -f /local/domain/$id | grep -E 'bulkhead|device/vbd' | head -20
t1=$(now)
xl unpause probe
i=0
while xl domid probe >/dev/null 2>&1 && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
echo "TIME unpause-to-destroyed $(ms_since $t1) ms"
echo "--- guest console"
cat /var/log/xen/console/guest-probe.log
echo "--- block trace"
grep -v "^++++" /var/log/xen/xen-hotplug.log | head -n 150
echo "--- xl logs"
tail -n 30 /var/log/xen/xl-probe.log 2>/dev/null
ls /var/log/xen
losetup -d $L0 $P
