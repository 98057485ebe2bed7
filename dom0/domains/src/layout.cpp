#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/dom0/domains/layout.h>

namespace bulkhead::dom0 {

std::string Layout::default_root() {
    return sys::getenv_or("BULKHEAD_ROOT", "/var/lib/bulkhead");
}

Result<void> Layout::prepare() const {
    for (auto const& dir :
         {m_root, m_root + "/appvms", m_root + "/volatile", m_root + "/roots", layers_root()})
        TRY(sys::mkdir_p(dir, 0700));
    TRY(sys::mkdir_p(vchan_root(), 0711));
    TRY(sys::chmod(run_dir(), 0711));
    return {};
}

} // namespace bulkhead::dom0
