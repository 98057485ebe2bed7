// The files "open in another domain" adds to a template root: the qubes.OpenInVM and
// qubes.OpenURL service scripts and the file-manager integration (Nautilus scripts,
// Thunar custom actions, Dolphin service menus). Their text lives in
// guest-agent/openinvm/rootfs/ and is compiled in; caller: templates (create_busybox).
#pragma once

#include <span>
#include <string_view>
#include <sys/types.h>

namespace bulkhead::openinvm {

struct RootfsFile {
    std::string_view path; // relative to the root, e.g. "etc/qubes-rpc/qubes.OpenInVM"
    mode_t mode;
    std::string_view content;
};

std::span<RootfsFile const> rootfs_files();

// Guest tools of this module that a template puts on PATH: /usr/bin/NAME →
// /usr/lib/bulkhead/NAME (the service programs are called by full path).
std::span<char const* const> path_tools();

// Every guest tool of this module that dom0 shows at /usr/lib/bulkhead.
std::span<char const* const> guest_tools();

} // namespace bulkhead::openinvm
