#!/usr/bin/env bash
# The main job (`make demo`): bulkheadd on the sandbox backend in a temporary root; a
# template built from this machine's busybox; domains work (blue), personal (green) and
# untrusted (red); a command in each; a file copied; a service call between domains under
# policy (one allowed, one denied); a command in a disposable; qvm-ls; everything stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BULKHEAD_BIN:-$PWD/build/bin}
ROOT=$(mktemp -d /tmp/bulkhead-demo.XXXXXX)
export BULKHEAD_ROOT=$ROOT
DAEMON=

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
cleanup() {
    if [[ -n $DAEMON ]] && kill -0 "$DAEMON" 2>/dev/null; then
        "$B/qvm-shutdown" --all --wait --timeout 20 >/dev/null 2>&1 || true
        kill "$DAEMON" 2>/dev/null || true
        wait "$DAEMON" 2>/dev/null || true
    fi
    rm -rf "$ROOT"
}
trap cleanup EXIT

mkdir -p "$ROOT/policy"
cp policy/policy.d/*.policy "$ROOT/policy/"
cat > "$ROOT/policy/30-demo.policy" <<'POLICY'
# untrusted may ask work for qubes.Echo; nobody may ask for qubes.Hostname but work;
# work may send files to personal without a prompt (elsewhere: ask, the default).
qubes.Echo      *  untrusted  work     allow
qubes.Filecopy  *  work       personal allow
qubes.Hostname  *  work       @anyvm   allow
qubes.Hostname  *  @anyvm     @anyvm   deny
POLICY

say "bulkheadd (sandbox backend), state in $ROOT"
"$B/bulkheadd" --backend sandbox --root "$ROOT" --policy-dir "$ROOT/policy" \
    >"$ROOT/bulkheadd.log" 2>&1 &
DAEMON=$!
for _ in $(seq 200); do [[ -S $ROOT/run/admin.sock ]] && break; sleep 0.05; done
[[ -S $ROOT/run/admin.sock ]] || { cat "$ROOT/bulkheadd.log"; exit 1; }

say "a template from this machine's busybox"
run "$B/bulkhead-template" "$ROOT/src" busybox debian-min
run "$B/qvm-create" --class TemplateVM --label black debian-min
run "$B/qvm-template" import-layer debian-min "$ROOT/src/debian-min/base"

say "domains"
run "$B/qvm-create" --template debian-min --label blue work
run "$B/qvm-create" --template debian-min --label green personal
run "$B/qvm-create" --template debian-min --label red untrusted
run "$B/qvm-create" --template debian-min --label red -P template_for_dispvms=True default-dvm

say "a command in each (each domain starts on first use)"
for d in work personal untrusted; do
    run "$B/qvm-run" -p "$d" 'echo "hello from $(hostname), uid $(id -u), kernel ns $(readlink /proc/self/ns/pid)"'
done

say "a file copied from work to personal (qubes.Filecopy)"
run "$B/qvm-run" -p work 'mkdir -p ~/reports && printf "quarterly report\n" > ~/reports/q3.txt && ls -l ~/reports'
run "$B/qvm-run" -p work 'qvm-copy-to-vm personal ~/reports'
run "$B/qvm-run" -p personal 'ls -lR ~/QubesIncoming && cat ~/QubesIncoming/work/reports/q3.txt'

say "qrexec between domains, under policy"
run "$B/qvm-run" -p untrusted 'echo "ping from untrusted" | qrexec-client-vm work qubes.Echo'
set +e
run "$B/qvm-run" -p untrusted 'qrexec-client-vm work qubes.Hostname'
echo "(exit code $? : refused by policy)"
set -e

say "a disposable"
run "$B/qvm-run" -p --dispvm=default-dvm 'echo "in $(hostname), gone when this ends"'

say "qvm-ls"
run "$B/qvm-ls"

say "stopping everything"
run "$B/qvm-shutdown" --all --wait
run "$B/qvm-ls"
echo
echo "demo done (daemon log: kept until exit in $ROOT/bulkheadd.log)"
