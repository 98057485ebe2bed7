#!/bin/bash
# Networking on real Xen (issue 7's Xen half), through bulkheadd --backend xen: sys-net (its
# uplink a vif whose backend is dom0, moved into a namespace of dom0's that plays the outside
# world: TCP servers on 8080 and 8082 at 10.136.0.1), sys-firewall behind it (its vif's
# backend is sys-net's netback: sys-net is a driver domain), and work behind sys-firewall. The rules are loaded by nft inside the netvms. Checks: the chain starts and
# connects, a drop rule for one port, a spoofed source address dropped by the netvm, live
# re-plug (onto sys-net, none, back), sys-firewall restarted restores link and rules.
. /opt/bulkhead/e2e/lib.sh
warm_hotplug

# The outside world: a namespace with two TCP servers (nc -ll: one answer per connection).
BB=/opt/bulkhead/busybox-static
ip netns add uplink && ip -n uplink link set lo up
for p in 8080 8082; do ip netns exec uplink $BB nc -ll -p $p -e echo "port $p" & done

check "bulkheadd --backend xen --uplink-netns starts" start_daemon --uplink-netns /run/netns/uplink \
    --uplink-dns 10.136.0.1 || { daemon_log; summary; exit 1; }
check "busybox template" make_template
check "template layer with nft (for the netvms)" qvm-template import-layer debian-min /opt/bulkhead/nft-layer
small() { qvm-prefs "$1" memory 128 && qvm-prefs "$1" maxmem 128 && qvm-prefs "$1" vcpus 1 && qvm-prefs "$1" qrexec_timeout 240; }
check "qvm-create sys-net, sys-firewall, work" sh -c '
    qvm-create --template debian-min --label red -P provides_network=True sys-net &&
    qvm-create --template debian-min --label green -P provides_network=True -P netvm=sys-net sys-firewall &&
    qvm-create --template debian-min --label blue -P netvm=sys-firewall work'
for d in sys-net sys-firewall work; do small $d; done

# What work sees of 10.136.0.1:PORT through its netvms ("" when it cannot connect).
fetch() { qvm-run -p work "sleep 2 | nc -w 5 10.136.0.1 $1" 2>/dev/null; }
ifaces() { qvm-run -p "$1" "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\n' ' '" 2>&1; }
expect() { # NAME WANT CMD...: CMD's output is WANT
    local name=$1 want=$2 got
    shift 2
    got=$("$@")
    if [ "$got" = "$want" ]; then pass "$name"; else
        fail "$name" "want '$want', got '$got'"
        daemon_log 20; show_console sys-firewall 15; show_console work 10
    fi
}

# 1. Starting work starts its netvm chain first; each link is a vif into its netvm.
t0=$(now)
if start_vm work 600; then echo "TIME network chain start (3 domains) $(ms_since $t0) ms"; else
    show_console sys-net 40; show_console sys-firewall 30
fi
running=$(qvm-ls --raw-list --running 2>&1 | tr '\n' ' ')
expect "the chain is running" "dom0 sys-firewall sys-net work " echo "$running"
expect "work: eth0" "eth0 lo " ifaces work
expect "work: 10.137.x address" "10.137" sh -c "qvm-run -p work 'ip -o -4 addr show dev eth0' | awk '{print \$4}' | cut -d. -f1,2"
expect "sys-firewall's netback serves work (vif in the driver domain)" "vif$(xl domid work).0" \
    sh -c "qvm-run -p sys-firewall 'ls /sys/class/net' | grep '^vif'"
expect "xenstore: work's vif backend is sys-firewall" "/local/domain/$(xl domid sys-firewall)/backend/vif/$(xl domid work)/0" \
    xenstore-read /local/domain/$(xl domid work)/device/vif/0/backend
expect "work -> sys-firewall -> sys-net -> outside: 8080" "port 8080" fetch 8080
expect "work -> outside: 8082" "port 8082" fetch 8082

# 2. A drop rule for one port: blocked in sys-firewall by nft; the other port still works.
t0=$(now)
check "qvm-firewall work add drop 8082" qvm-firewall work add --before 0 action=drop proto=tcp dstports=8082
echo "TIME rule change applied in the netvm $(ms_since $t0) ms"
expect "8082 dropped" "" fetch 8082
expect "8080 still works" "port 8080" fetch 8080
expect "the rules are in sys-firewall's nft" "1" sh -c "qvm-run -p -u root sys-firewall 'nft list ruleset' | grep -c 'tcp dport 8082 drop'"

# 3. Spoofing: work sends from another address; sys-firewall drops it.
check "work adds a spoofed address (as root)" qvm-run -p -u root work 'ip addr add 10.137.0.250/32 dev eth0'
expect "a spoofed source is dropped" "" qvm-run -p work "sleep 2 | nc -w 5 -s 10.137.0.250 10.136.0.1 8080" 2>/dev/null
expect "the real address still works" "port 8080" fetch 8080

# 4. Live re-plug: onto sys-net (the rules follow), no network, back behind sys-firewall.
check "qvm-prefs work netvm sys-net" qvm-prefs work netvm sys-net
expect "re-plugged onto sys-net: 8080" "port 8080" fetch 8080
expect "re-plugged onto sys-net: 8082 still dropped" "" fetch 8082
check "qvm-prefs work netvm ''" qvm-prefs work netvm ''
expect "netvm '': no device but lo" "lo " ifaces work
check "qvm-prefs work netvm sys-firewall" qvm-prefs work netvm sys-firewall
expect "back behind sys-firewall: 8080" "port 8080" fetch 8080

# 5. sys-firewall restarts: work is plugged in again, with its rules.
check "qvm-shutdown --force sys-firewall" qvm-shutdown --wait --force sys-firewall
expect "work lost its link" "lo " ifaces work
start_vm sys-firewall 300
expect "work has eth0 again" "eth0 lo " ifaces work
expect "after the restart: 8080" "port 8080" fetch 8080
expect "after the restart: 8082 still dropped" "" fetch 8082

check "qvm-shutdown --all" qvm-shutdown --wait --all
expect "no domain left" "" sh -c "xl list | tail -n +3"
summary
