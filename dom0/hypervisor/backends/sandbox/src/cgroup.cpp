#include "cgroup.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/text.h>

#include <csignal>
#include <thread>

namespace bulkhead::dom0::sandbox {

namespace {
constexpr char const* kRoot = "/sys/fs/cgroup";
constexpr char const* kV1Controllers[] = {"memory", "pids", "freezer"};

Result<void> write_knob(std::string const& path, std::string_view value) {
    auto fd = TRY_CTX(sys::open(path, O_WRONLY | O_CLOEXEC), path);
    TRY_CTX(sys::write_all(fd.get(), value), path);
    return ok();
}

Result<uint64_t> read_u64(std::string const& path) {
    auto text = TRY(sys::read_file(path, 4096));
    auto t = text::trim(text);
    if (t == "max")
        return UINT64_MAX;
    auto v = text::parse_u64(t);
    if (!v)
        return unexpected(Errc::Protocol, path + ": not a number");
    return *v;
}
} // namespace

Result<CgroupVersion> DomainCgroup::detect() {
    auto controllers = sys::read_file(std::string(kRoot) + "/cgroup.controllers", 4096);
    if (controllers) {
        auto names = text::split_ws(text::trim(*controllers));
        bool memory = false, pids = false;
        for (auto const& n : names) {
            memory |= n == "memory";
            pids |= n == "pids";
        }
        if (memory && pids)
            return CgroupVersion::V2;
        return unexpected(Errc::Unsupported, "cgroup v2 without the memory and pids controllers");
    }
    for (auto c : kV1Controllers)
        if (!sys::exists(std::string(kRoot) + "/" + c + "/cgroup.procs"))
            return unexpected(Errc::Unsupported,
                              std::string("no cgroup v2 and no cgroup v1 ") + c + " hierarchy");
    return CgroupVersion::V1;
}

std::string DomainCgroup::dir(char const* controller) const {
    if (m_version == CgroupVersion::V2)
        return std::string(kRoot) + "/" + m_rel;
    return std::string(kRoot) + "/" + controller + "/" + m_rel;
}

Result<DomainCgroup> DomainCgroup::make(std::string const& group, std::string const& leaf,
                                        uint64_t memory_bytes, uint64_t pids_max) {
    DomainCgroup cg;
    cg.m_version = TRY(detect());
    cg.m_rel = group + "/" + leaf;
    if (cg.m_version == CgroupVersion::V2) {
        // Root and the group have no processes, so they may delegate controllers.
        TRY(write_knob(std::string(kRoot) + "/cgroup.subtree_control", "+memory +pids"));
        TRY(sys::mkdir(std::string(kRoot) + "/" + group));
        TRY(write_knob(std::string(kRoot) + "/" + group + "/cgroup.subtree_control",
                       "+memory +pids"));
        TRY(sys::mkdir(cg.dir(nullptr)));
    } else {
        for (auto c : kV1Controllers)
            TRY(sys::mkdir_p(cg.dir(c)));
    }
    TRY(cg.set_memory_max(memory_bytes));
    TRY(write_knob(cg.dir("pids") + "/pids.max", std::to_string(pids_max)));
    return cg;
}

Result<std::vector<DomainCgroup>> DomainCgroup::leaves_of(std::string const& group) {
    auto version = TRY(detect());
    auto parent = std::string(kRoot) + (version == CgroupVersion::V2 ? "/" : "/freezer/") + group;
    std::vector<DomainCgroup> out;
    if (!sys::exists(parent))
        return out;
    for (auto const& leaf : TRY(sys::list_dir(parent))) {
        if (!sys::exists(parent + "/" + leaf + "/cgroup.procs"))
            continue; // a knob file, not a child group
        DomainCgroup cg;
        cg.m_version = version;
        cg.m_rel = group + "/" + leaf;
        out.push_back(std::move(cg));
    }
    return out;
}

void DomainCgroup::remove_group(std::string const& group) {
    if (group.empty() || group.find('/') != std::string::npos || group[0] == '.')
        return;
    auto version = detect();
    if (!version)
        return;
    if (*version == CgroupVersion::V2) {
        (void)sys::rmdir(std::string(kRoot) + "/" + group); // EBUSY while a leaf is left
        return;
    }
    for (auto c : kV1Controllers)
        (void)sys::rmdir(std::string(kRoot) + "/" + c + "/" + group);
}

Result<void> DomainCgroup::add(pid_t pid) {
    auto text = std::to_string(pid);
    if (m_version == CgroupVersion::V2)
        return write_knob(dir(nullptr) + "/cgroup.procs", text);
    for (auto c : kV1Controllers)
        TRY(write_knob(dir(c) + "/cgroup.procs", text));
    return ok();
}

Result<void> DomainCgroup::freeze(bool frozen) {
    if (m_version == CgroupVersion::V2)
        return write_knob(dir(nullptr) + "/cgroup.freeze", frozen ? "1" : "0");
    return write_knob(dir("freezer") + "/freezer.state", frozen ? "FROZEN" : "THAWED");
}

Result<void> DomainCgroup::kill_all() {
    if (m_version == CgroupVersion::V2)
        return write_knob(dir(nullptr) + "/cgroup.kill", "1");
    auto procs = TRY(sys::read_file(dir("freezer") + "/cgroup.procs"));
    for (auto const& p : text::split(procs, '\n'))
        if (auto pid = text::parse_u64(p))
            (void)sys::kill(static_cast<pid_t>(*pid), SIGKILL); // ESRCH: already gone
    return freeze(false); // v1 frozen tasks die only once thawed
}

Result<void> DomainCgroup::set_memory_max(uint64_t bytes) {
    if (m_version == CgroupVersion::V2)
        return write_knob(dir(nullptr) + "/memory.max", std::to_string(bytes));
    return write_knob(dir("memory") + "/memory.limit_in_bytes", std::to_string(bytes));
}

Result<uint64_t> DomainCgroup::memory_max() const {
    if (m_version == CgroupVersion::V2)
        return read_u64(dir(nullptr) + "/memory.max");
    return read_u64(dir("memory") + "/memory.limit_in_bytes");
}

Result<uint64_t> DomainCgroup::memory_current() const {
    if (m_version == CgroupVersion::V2)
        return read_u64(dir(nullptr) + "/memory.current");
    return read_u64(dir("memory") + "/memory.usage_in_bytes");
}

Result<uint64_t> DomainCgroup::pids_max() const {
    return read_u64(dir("pids") + "/pids.max");
}

Result<void> DomainCgroup::remove() {
    std::vector<std::string> dirs;
    if (m_version == CgroupVersion::V2)
        dirs.push_back(dir(nullptr));
    else
        for (auto c : kV1Controllers)
            dirs.push_back(dir(c));
    for (auto const& d : dirs) {
        if (!sys::exists(d))
            continue;
        Result<void> r = ok();
        for (int attempt = 0; attempt < 200; ++attempt) { // tasks may still be exiting
            r = sys::rmdir(d);
            if (r || !sys::exists(d))
                break;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (!r && sys::exists(d))
            return r;
    }
    return ok();
}

} // namespace bulkhead::dom0::sandbox
