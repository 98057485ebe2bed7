#include "crash_recovery.h"

#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/text.h>
#include <bulkhead/dom0/hypervisor/sandbox/sandbox_hypervisor.h>

#include <unistd.h>

namespace bulkhead::dom0 {
namespace {

Logger const log{"daemon"};

// Whether pid is a bulkheadd serving root (its --root argument or BULKHEAD_ROOT).
bool serves(pid_t pid, std::string const& root) {
    auto proc = "/proc/" + std::to_string(pid);
    if (sys::read_file(proc + "/comm", 256).value_or("") != "bulkheadd\n")
        return false;
    auto cmdline = sys::read_file(proc + "/cmdline").value_or("");
    auto environ = sys::read_file(proc + "/environ").value_or("");
    return cmdline.find(std::string("--root") + '\0' + root + '\0') != std::string::npos ||
           environ.find("BULKHEAD_ROOT=" + root + '\0') != std::string::npos;
}

} // namespace

Result<void> recover_previous_daemon(Layout const& layout) {
    auto text = sys::read_file(layout.pid_file(), 64);
    if (!text)
        return {};
    auto pid = text::parse_u64(text::trim(*text));
    if (pid && *pid > 0 && pid_t(*pid) != ::getpid() && serves(pid_t(*pid), layout.root()))
        return unexpected(Errc::Busy, "another bulkheadd (pid " + std::to_string(*pid) +
                                          ") serves " + layout.root());
    if (pid && *pid > 0) {
        // The sandbox backend's cgroup of that daemon (make_backend names it so).
        auto left = SandboxHypervisor::destroy_leftovers("bulkhead-" + std::to_string(*pid));
        if (left && *left > 0)
            LOG_WARN(log, "previous bulkheadd did not stop: killed the domains it left running",
                     {"pid", std::to_string(*pid)}, {"domains", std::to_string(*left)});
        else if (left)
            LOG_INFO(log, "previous bulkheadd did not stop; it left no sandbox domain running",
                     {"pid", std::to_string(*pid)});
        else
            LOG_ERROR(log, "previous bulkheadd did not stop; its domains could not be killed",
                      {"pid", std::to_string(*pid)}, {"error", left.error().message()});
    }
    (void)sys::unlink(layout.pid_file());
    return {};
}

} // namespace bulkhead::dom0
