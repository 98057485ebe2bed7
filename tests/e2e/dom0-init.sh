#!/bin/sh
# /init of the e2e dom0 initramfs: brings up the Xen toolstack (xenstored, xen-init-dom0,
# xenconsoled), then runs /opt/bulkhead/e2e/<mode>.sh (mode from bulkhead.e2e= on the
# kernel command line) and powers off. Everything it prints reaches the serial log.
export PATH=/opt/bulkhead/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
up() { cut -d' ' -f1 /proc/uptime; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
# udev makes these on a real system; Xen's block hotplug script loops forever without
# /dev/stdin (its claim_lock stats /dev/stdin).
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
# bulkheadd's root (the domains' sparse volume images) lives in dom0's RAM here: on its own
# tmpfs, so that it is not capped at what the initramfs root leaves free.
mkdir -p /var/lib/bulkhead/e2e
mount -t tmpfs -o size=1000m,mode=0755 tmpfs /var/lib/bulkhead/e2e
echo "E2E-DOM0: userspace up at $(up)s"
for m in xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xen-blkback xen-netback loop; do
    modprobe $m || echo "E2E-DOM0: modprobe $m failed"
done
mount -t xenfs xenfs /proc/xen
mkdir -p /run/lock /run/xen /run/xenstored /var/log/xen/console /var/lib/xen /var/run
XB=/usr/lib/xen-4.17/bin
XENSTORED_ROOTDIR=/run/xenstored $XB/xenstored --pid-file /run/xenstore.pid
i=0
while ! xenstore-read -s / >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -gt 60 ] && { echo "E2E-DOM0: xenstored did not come up"; break; }
    sleep 0.5
done
$XB/xen-init-dom0
$XB/xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console
echo "E2E-DOM0: toolstack up at $(up)s"
mode=
for a in $(cat /proc/cmdline); do case $a in bulkhead.e2e=*) mode=${a#bulkhead.e2e=} ;; esac; done
if [ -x "/opt/bulkhead/e2e/$mode.sh" ]; then
    cd /root
    "/opt/bulkhead/e2e/$mode.sh"
    echo "E2E-DOM0: $mode.sh exited rc=$? at $(up)s"
else
    echo "E2E-DOM0: no scenario '$mode'; 0 passed, 1 failed"
fi
if [ "$mode" = shell ] || grep -q bulkhead.shell /proc/cmdline; then
    setsid -c sh </dev/hvc0 >/dev/hvc0 2>&1
fi
sync
busybox poweroff -f
