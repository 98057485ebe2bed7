// TemplateStore: stackable root layers for sandbox domains, as plain directory trees.
// <store>/<template>/layers lists the template's layer directories, lowest first; each
// layer is <store>/<template>/<layer>/. Used by bulkhead-template and by tests; trusts
// its caller (dom0 tools), never guest data.
#pragma once

#include <bulkhead/base/result.h>

#include <string>
#include <vector>

namespace bulkhead::templates {

class TemplateStore {
public:
    explicit TemplateStore(std::string root)
        : m_root(std::move(root)) {}

    // A busybox root layer (busybox-static from the host, applet symlinks, /etc/passwd
    // with root and user(1000), /etc/group, /home, /rw, /tmp, /etc/qubes-rpc/qubes.Echo),
    // as the template's first layer "base". Errc::Exists if the template exists.
    Result<void> create_busybox(std::string const& tmpl,
                                std::string const& busybox = "/bin/busybox");
    // Copies source_dir's tree (symlinks as symlinks) as a new top layer named layer.
    // Errc::Invalid if source_dir is not a directory; Errc::Exists if the layer (or a
    // leftover directory of that name) exists. A failed build or copy leaves nothing behind.
    Result<void> add_layer(std::string const& tmpl, std::string const& layer,
                           std::string const& source_dir);
    // Absolute layer directories, lowest first (DomainSpec.layers).
    Result<std::vector<std::string>> layers(std::string const& tmpl) const;

private:
    std::string dir(std::string const& tmpl) const { return m_root + "/" + tmpl; }
    std::string m_root;
};

// Writes a busybox root tree into dir (exists or is created).
Result<void> build_busybox_layer(std::string const& dir, std::string const& busybox);

} // namespace bulkhead::templates
