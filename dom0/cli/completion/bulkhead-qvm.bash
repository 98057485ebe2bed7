# Bash completion for Bulkhead's qvm-* tools (dom0/cli): each tool's options, domain names
# (from `qvm-ls --raw-list`), property names, labels, classes and qvm-tags commands.
# Install as /usr/share/bash-completion/completions/<tool> or source it from ~/.bashrc.

_bulkhead_qvm_domains() {
    local socket=()
    [[ -n "${_bulkhead_qvm_socket}" ]] && socket=(--admin-socket "${_bulkhead_qvm_socket}")
    qvm-ls "${socket[@]}" --raw-list 2>/dev/null
}

_bulkhead_qvm() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
    local tool="${COMP_WORDS[0]##*/}" opts="" i
    local -a pos=()
    local labels="red orange yellow green gray blue purple black"
    local classes="AppVM DispVM StandaloneVM TemplateVM"
    _bulkhead_qvm_socket=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
        --admin-socket) _bulkhead_qvm_socket="${COMP_WORDS[i+1]}"; ((i++)) ;;
        --admin-socket=*) _bulkhead_qvm_socket="${COMP_WORDS[i]#*=}" ;;
        --exclude|--sort|--fields|-O|--format|-o|--class|--label|-l|--tags|--template|-t|--property|--prop|-P|--timeout|-C|--before|--rule-no) ((i++)) ;;
        -*) ;;
        *) pos+=("${COMP_WORDS[i]}") ;;
        esac
    done
    case "$tool" in
    qvm-ls) opts="--all --exclude --fields -O --format -o --raw-data --raw-list --class --label --tags --running --paused --halted --sort --reverse --help-columns" ;;
    qvm-create) opts="--class -C --template -t --label -l --property --prop -P --help-classes" ;;
    qvm-prefs) opts="--default -D --hide-default --get -g --set -s --help-properties" ;;
    qvm-features) opts="--unset --default --delete -D" ;;
    qvm-remove) opts="--force -f --all --exclude" ;;
    qvm-check) opts="--all --exclude --running --paused --template --networked" ;;
    qvm-start) opts="--all --exclude --skip-if-running" ;;
    qvm-shutdown) opts="--all --exclude --wait --timeout --force" ;;
    qvm-kill|qvm-pause|qvm-unpause) opts="--all --exclude" ;;
    qvm-firewall) opts="--raw --reload -r --before --rule-no" ;;
    esac
    opts="$opts --help -h --verbose -v --quiet -q"
    case "$prev" in
    --label|-l) COMPREPLY=($(compgen -W "$labels" -- "$cur")); return ;;
    --class|-C) COMPREPLY=($(compgen -W "$classes" -- "$cur")); return ;;
    --template|-t|--exclude) COMPREPLY=($(compgen -W "$(_bulkhead_qvm_domains)" -- "$cur")); return ;;
    --sort|--fields|-O|--format|-o|--tags|--property|--prop|-P|--timeout|--admin-socket|--before|--rule-no) return ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi
    local n=${#pos[@]} words=""
    case "$tool" in
    qvm-create) return ;;
    qvm-clone) ((n == 0)) && words="$(_bulkhead_qvm_domains)" ;;
    qvm-prefs)
        if ((n == 0)); then
            words="$(_bulkhead_qvm_domains)"
        elif ((n == 1)); then
            words="$(qvm-prefs --help-properties 2>/dev/null)"
        elif ((n == 2)); then
            case "${pos[1]}" in
            netvm|template|default_dispvm) words="$(_bulkhead_qvm_domains)" ;;
            label) words="$labels" ;;
            virt_mode) words="pvh pv hvm" ;;
            autostart|provides_network|template_for_dispvms) words="True False" ;;
            esac
        fi ;;
    qvm-tags)
        if ((n == 0)); then
            words="$(_bulkhead_qvm_domains)"
        elif ((n == 1)); then
            words="list add del"
        elif [[ "${pos[1]}" == del || "${pos[1]}" == d || "${pos[1]}" == unset || "${pos[1]}" == u ]]; then
            words="$(qvm-tags ${_bulkhead_qvm_socket:+--admin-socket "$_bulkhead_qvm_socket"} "${pos[0]}" list 2>/dev/null)"
        fi ;;
    qvm-features)
        if ((n == 0)); then
            words="$(_bulkhead_qvm_domains)"
        elif ((n == 1)); then
            words="$(qvm-features ${_bulkhead_qvm_socket:+--admin-socket "$_bulkhead_qvm_socket"} "${pos[0]}" 2>/dev/null | cut -d' ' -f1)"
        fi ;;
    qvm-firewall)
        if ((n == 0)); then
            words="$(_bulkhead_qvm_domains)"
        elif ((n == 1)); then
            words="list add del reset"
        elif [[ "${pos[1]}" == add || "${pos[1]}" == del ]]; then
            words="action=accept action=drop dsthost= proto=tcp proto=udp proto=icmp dstports= icmptype= specialtarget=dns expire= comment="
        fi ;;
    *) words="$(_bulkhead_qvm_domains)" ;;
    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}

complete -F _bulkhead_qvm qvm-check qvm-clone qvm-create qvm-features qvm-firewall qvm-kill qvm-ls \
    qvm-pause qvm-prefs qvm-remove qvm-shutdown qvm-start qvm-tags qvm-unpause
