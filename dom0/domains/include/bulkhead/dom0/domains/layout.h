// Layout: where dom0 keeps each kind of file under $BULKHEAD_ROOT. The only place that
// builds those paths, so nothing a guest names can steer a dom0 write elsewhere: every
// path below is derived from a validated domain name or a dom0-assigned id.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/dom0/hypervisor/hypervisor.h>

#include <string>

namespace bulkhead::dom0 {

class Layout {
public:
    explicit Layout(std::string root)
        : m_root(std::move(root)) {}

    // $BULKHEAD_ROOT, or /var/lib/bulkhead.
    static std::string default_root();

    std::string const& root() const { return m_root; }
    std::string run_dir() const { return m_root + "/run"; }
    std::string admin_socket() const { return run_dir() + "/admin.sock"; }
    std::string pid_file() const { return run_dir() + "/bulkheadd.pid"; }
    // Per-domain socket-vchan directory, shown to that domain only (as VCHAN_SOCKET_DIR).
    // Keyed by name (known before the backend assigns an id); wiped at every start.
    std::string vchan_dir(std::string const& name) const { return run_dir() + "/vchan/" + name; }
    std::string vchan_root() const { return run_dir() + "/vchan"; }
    std::string private_dir(std::string const& name) const { return m_root + "/appvms/" + name; }
    std::string volatile_dir(std::string const& name) const { return m_root + "/volatile/" + name; }
    std::string layer_dir(std::string const& layer_id) const {
        return m_root + "/layers/" + layer_id;
    }
    std::string layers_root() const { return m_root + "/layers"; }
    // A TemplateVM's or StandaloneVM's persistent root upper layer (upper/ and work/).
    std::string root_upper_dir(std::string const& name) const { return m_root + "/roots/" + name; }

    // Creates the directories dom0 needs (0700 except the vchan root).
    Result<void> prepare() const;

private:
    std::string m_root;
};

} // namespace bulkhead::dom0
