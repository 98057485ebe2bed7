// DomainCgroup: one domain's cgroup (v2 unified, or v1 memory+pids+freezer), created by
// the sandbox backend before the domain's init runs and removed after it is gone.
#pragma once

#include <bulkhead/base/result.h>

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace bulkhead::dom0::sandbox {

enum class CgroupVersion { V1, V2 };

class DomainCgroup {
public:
    // Which hierarchy the host offers; Errc::Unsupported when neither has memory+pids.
    static Result<CgroupVersion> detect();
    static Result<DomainCgroup> make(std::string const& group, std::string const& leaf,
                                     uint64_t memory_bytes, uint64_t pids_max);
    // The leaves of a group some earlier process made (a previous daemon's domains).
    static Result<std::vector<DomainCgroup>> leaves_of(std::string const& group);
    // Removes the group's directories if nothing is left in them (else leaves them be).
    static void remove_group(std::string const& group);

    Result<void> add(pid_t pid);
    Result<void> freeze(bool frozen);
    Result<void> kill_all(); // v2: cgroup.kill; v1: SIGKILL each task (after a freeze)
    Result<void> set_memory_max(uint64_t bytes);
    Result<uint64_t> memory_max() const;
    Result<uint64_t> memory_current() const;
    Result<uint64_t> pids_max() const;
    Result<void> remove(); // waits briefly for the last tasks to leave

    CgroupVersion version() const { return m_version; }

private:
    std::string dir(char const* controller) const; // v2 ignores controller
    CgroupVersion m_version = CgroupVersion::V2;
    std::string m_rel; // <group>/<leaf>
};

} // namespace bulkhead::dom0::sandbox
