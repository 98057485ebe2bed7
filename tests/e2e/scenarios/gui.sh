#!/bin/bash
# The GUI on real Xen (tests/e2e/run.sh gui, make e2e-gui), through bulkheadd --backend xen
# --gui-display: dom0's screen is an Xvfb (:1) that bulkhead-guid draws on; the domain is the
# busybox template plus bulkhead-gui-layer's layer (its own Xvfb, xmessage and
# bulkhead-gui-agent), started by its bulkhead-agent when dom0 gives it a GUI. The GUI protocol
# crosses libxenvchan (port 6000); the window's pixels cross in Xen grant references
# (gntalloc in the domain, xengnttab in guid). Checks, with e2e_screen_probe on dom0's screen:
# work's xmessage shows up as a dom0 window titled "[work] ..." with _QUBES_VMNAME work and
# work's label colour, at its geometry, showing xmessage's green (the pixels crossed); guid
# mapped a grant buffer for work (its log); resized from dom0, the window gets a new grant
# buffer of its new size and xmessage's green fills it; Return typed on dom0 (XTEST) answers
# xmessage, whose button code qvm-run -p returns; work's gui-agent killed: the window goes and
# comes back (the session restarts); qvm-shutdown takes work's windows away.
. /opt/bulkhead/e2e/lib.sh
warm_hotplug
PROBE=/opt/bulkhead/tests/e2e_screen_probe
D=:1
GREEN=0x00ff00 BLUE=0x3465a4

gui_diag() {
    daemon_log "${1:-40}"
    show_console work "${1:-40}"
    echo "  [dom0 Xvfb] $(tail -n 3 /tmp/xvfb.log 2>/dev/null | tr '\n' ' ')"
    timeout 60 qvm-run -p -u root work 'tail -n 20 /var/log/bulkhead-gui.log' 2>&1 | sed 's/^/  [work gui log] /'
}
expect() { # NAME WANT GOT
    if [ "$3" = "$2" ]; then pass "$1"; else
        fail "$1" "want '$2', got '$3'"
    fi
}
field() { printf '%s\n' "$WIN" | sed -n "s/^$1=//p"; }

# 1. dom0's screen, bulkheadd drawing on it, a template with X, work (blue).
start_xvfb() {
    rm -f /tmp/.X1-lock /tmp/.X11-unix/X1
    Xvfb $D -screen 0 1024x768x24 -nolisten tcp -br -noreset > /tmp/xvfb.log 2>&1 &
    XVFB=$!
    local i=0
    while [ ! -S /tmp/.X11-unix/X1 ]; do
        i=$((i + 1))
        if [ $i -gt 600 ] || ! kill -0 $XVFB 2>/dev/null; then
            tail -n 20 /tmp/xvfb.log
            return 1
        fi
        sleep 0.1
    done
}
t0=$(now)
check "dom0's Xvfb $D starts" start_xvfb || { summary; exit 1; }
echo "TIME dom0 Xvfb up $(ms_since $t0) ms"
check "dom0's screen answers e2e_screen_probe" $PROBE $D gone nobody
check "bulkheadd --backend xen --gui-display $D starts" start_daemon --gui-display $D ||
    { daemon_log; summary; exit 1; }
check "busybox template" make_template
check "template layer with X (bulkhead-gui-layer)" qvm-template import-layer debian-min /opt/bulkhead/gui-layer
check "qvm-create work (blue, 256 MiB)" sh -c 'qvm-create --template debian-min --label blue work &&
    qvm-prefs work memory 256 && qvm-prefs work maxmem 256 && qvm-prefs work vcpus 1 &&
    qvm-prefs work qrexec_timeout 240'
if start_vm work 300; then echo "TIME domain start (work, template with X) $START_TOOK ms"; else
    summary
    exit 1
fi

# 2. The domain's X server comes up (its bulkhead-agent runs the layer's gui-session once dom0's
# GUI socket is there). Waited for here, not left to qvm-run's own bounded wait for it: under
# TCG the domain's Xvfb can take longer than that.
t0=$(now)
x_up() {
    local i=0
    while [ $i -lt 60 ]; do
        [ "$(qvm-run -p work 'test -S /tmp/.X11-unix/X0 && echo up' 2>/dev/null)" = up ] && return 0
        sleep 2
        i=$((i + 1))
    done
    return 1
}
if check "work's X server is up (its gui-session ran)" x_up; then
    echo "TIME domain X server up $(ms_since $t0) ms (after qvm-start)"
else
    gui_diag
fi

# 3. xmessage in work, all green, 300x120 at +10+10; Return is its default button (code 7).
t0=$(now)
qvm-run -p work 'xmessage -bg "#00ff00" -fg "#00ff00" -geometry 300x120+10+10 -buttons OK:7 -default OK hello' \
    > /tmp/xmessage.log 2>&1 &
XM=$!
if WIN=$($PROBE $D find work 300 2>&1); then
    pass "a dom0 window for work appears"
    echo "TIME first window visible $(ms_since $t0) ms (after qvm-run)"
else
    fail "a dom0 window for work appears" "$(printf '%s\n' "$WIN" | tail -n 1)"
    echo "  [qvm-run xmessage] $(cat /tmp/xmessage.log)"
    gui_diag 60
    grep -i -e grant -e gui /tmp/bulkheadd.log | tail -n 10 | sed 's/^/  [bulkheadd gui] /'
    kill $XM 2>/dev/null
    summary # (nothing else to look at)
    exit 1
fi
echo "  [window] $(printf '%s\n' "$WIN" | tr '\n' ' ')"
case $(field title) in
"[work]"*) pass "its title starts with [work] ($(field title))" ;;
*) fail "its title starts with [work]" "title '$(field title)'" ;;
esac
expect "_QUBES_VMNAME work" work "$(field vmname)"
expect "_QUBES_LABEL_COLOR $BLUE (blue)" $BLUE "$(field label)"
expect "at work's geometry (300x120+10+10)" "10 10 300 120" "$(field geometry)"
t1=$(now)
for xy in "3 3" "150 60" "290 110"; do
    # shellcheck disable=SC2086 # (x y)
    check "pixel ($xy) in it is xmessage's $GREEN (the pixels crossed)" $PROBE $D pixel work $xy $GREEN 120 ||
        gui_diag 20
done
echo "TIME window's pixels on dom0's screen $(ms_since $t1) ms (after the window)"
# guid (its stderr is bulkheadd's log): "window buffer mapped from grant references
# domain="work" domid=.. pages=.. size=WxH" (an error about grants must not count).
granted() { grep 'mapped from grant references' /tmp/bulkheadd.log | grep 'domain="work"'; }
if granted > /dev/null; then
    pass "guid mapped work's buffer from grant references (log: $(granted | head -n 1 | cut -c1-160))"
else
    fail "guid mapped work's buffer from grant references" "no 'mapped from grant references' line for domain=\"work\" in bulkheadd's log"
    grep -i -e grant -e gui /tmp/bulkheadd.log | tail -n 10 | sed 's/^/  [bulkheadd] /'
fi
grep -e 'GUI session' /tmp/bulkheadd.log | head -n 3 | sed 's/^/  [bulkheadd gui] /'

# 4. Resized from dom0 (as a window manager would): guid tells the domain (CONFIGURE), xmessage
# grows in work's X server, and the agent shares a buffer of the new size in grant references.
grants() { grep 'mapped from grant references' /tmp/bulkheadd.log | grep 'domain="work"' | grep -c "size=\"$1\""; }
t0=$(now)
check "dom0 resizes work's window to 400x200" $PROBE $D resize work 400 200
i=0
while [ "$(grants 400x200)" = 0 ] && [ $i -lt 120 ]; do sleep 0.5; i=$((i + 1)); done
if [ "$(grants 400x200)" != 0 ]; then
    pass "guid mapped a new grant buffer for it, 400x200"
    echo "TIME resize to the new grant buffer $(ms_since $t0) ms"
else
    fail "guid mapped a new grant buffer for it, 400x200" "no 'mapped from grant references' line for work with size=\"400x200\" in 60 s"
    grep -e grant -e 'domain="work"' /tmp/bulkheadd.log | tail -n 10 | sed 's/^/  [bulkheadd] /'
fi
check "pixel (390 190), in the grown part, is $GREEN" $PROBE $D pixel work 390 190 $GREEN 60
expect "dom0's window is 400x200 at +10+10" "10 10 400 200" "$($PROBE $D find work | sed -n 's/^geometry=//p')"

# 5. Return typed on dom0 (XTEST, dom0's keycode for Return) reaches xmessage through the
# domain's agent: it exits with its default button's code, which qvm-run -p returns.
check "Return typed on dom0 into work's window" $PROBE $D key work Return
i=0
while kill -0 $XM 2>/dev/null && [ $i -lt 120 ]; do sleep 0.5; i=$((i + 1)); done
if kill -0 $XM 2>/dev/null; then
    fail "xmessage answered: qvm-run -p returns 7" "still running 60 s after Return"
    kill $XM 2>/dev/null
    gui_diag 20
else
    wait $XM
    expect "xmessage answered: qvm-run -p returns 7" 7 "$?"
fi
check "its window is gone from dom0's screen" $PROBE $D gone work 60

# 6. The domain's gui-agent dies while a window is open: the window leaves dom0's screen and
# comes back once bulkhead-agent has started the gui-session again (after 1 s; the domain's
# Xvfb is kept) and bulkheadd relays a new GUI session.
# 7. A window still open when the domain shuts down: qvm-shutdown takes it away.
qvm-run -p work 'xmessage -geometry 200x80+400+300 -timeout 600 still-here' > /tmp/xmessage2.log 2>&1 &
XM2=$!
relayed() { grep -c 'GUI session relayed domain="work"' /tmp/bulkheadd.log; }
if check "a second window of work appears" $PROBE $D find work 300; then
    before=$(relayed)
    first=$($PROBE $D find work | sed -n 's/^window=//p')
    t0=$(now)
    # shellcheck disable=SC2016 # (expanded in work)
    check "work's gui-agent killed (as root in work)" qvm-run -p -u root work 'kill $(pidof bulkhead-gui-agent)'
    check "its window leaves dom0's screen" $PROBE $D gone work 60
    if WIN=$($PROBE $D find work 120 2>&1); then
        pass "it comes back with a new gui-agent ($first -> $(field window), $(field title))"
        echo "TIME window back after the gui-agent was killed $(ms_since $t0) ms"
    else
        fail "it comes back with a new gui-agent" "$(printf '%s\n' "$WIN" | tail -n 1)"
        gui_diag 30
    fi
    i=0
    while [ "$(relayed)" -le "$before" ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
    expect "bulkheadd relayed a second GUI session for work" "$((before + 1))" "$(relayed)"
    check "qvm-shutdown --wait work" qvm-shutdown --wait --timeout 120 work
    check "qvm-shutdown took work's windows from dom0's screen" $PROBE $D gone work 60
fi
i=0
while kill -0 $XM2 2>/dev/null && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
kill $XM2 2>/dev/null
expect "no domain left" "" "$(xl list | tail -n +3)"
kill $XVFB 2>/dev/null
summary
