#include "gui_bridge.h"
#include "gui_xen_relay.h"

#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>

#include <csignal>

namespace bulkhead::dom0 {

namespace {
Logger const log{"gui"};
} // namespace

Result<std::unique_ptr<GuiBridge>> GuiBridge::start(AgentHub& inner, Layout layout,
                                                    std::string const& guid_program,
                                                    std::string const& display,
                                                    std::vector<std::string> const& policy_dirs,
                                                    Describe describe, Backend backend) {
    std::unique_ptr<GuiBridge> b(
        new GuiBridge(inner, std::move(layout), std::move(describe), backend));
    auto pipe = TRY(sys::pipe());
    auto null = TRY(sys::open("/dev/null", O_RDWR | O_CLOEXEC));
    sys::SpawnOptions o;
    o.argv = {guid_program,
              "--display",
              display,
              "--notice-file",
              b->m_layout.run_dir() + "/clipboard-notice",
              "--control-fd",
              "3"};
    for (auto const& dir : policy_dirs) {
        o.argv.push_back("--policy-dir");
        o.argv.push_back(dir);
    }
    o.fds = {{0, null.get()}, {1, 2}, {2, 2}, {3, pipe.first.get()}};
    b->m_pid = TRY_CTX(sys::spawn(o), "starting " + guid_program);
    b->m_control = std::move(pipe.second);
    LOG_INFO(log, "GUI daemon started", {"display", display}, {"pid", b->m_pid});
    return b;
}

GuiBridge::~GuiBridge() {
    {
        std::lock_guard lock(m_relays_mutex);
        m_relays.clear(); // the relays stop first: nothing writes to guid's sockets then
    }
    m_control.reset(); // EOF: bulkhead-guid stops
    if (m_pid > 0) {
        auto deadline = sys::now() + std::chrono::seconds(5);
        for (;;) {
            auto s = sys::waitpid(m_pid, WNOHANG);
            if (!s || s->code != -1)
                break;
            if (sys::now() > deadline) {
                (void)sys::kill(m_pid, SIGKILL);
                (void)sys::waitpid(m_pid);
                break;
            }
            ::usleep(20000);
        }
    }
}

void GuiBridge::tell(std::string const& line) {
    std::lock_guard lock(m_mutex);
    if (auto r = sys::write_all(m_control.get(), line); !r)
        LOG_WARN(log, "GUI daemon control failed", {"error", r.error().message()});
}

Result<void> GuiBridge::attach(std::string const& name, DomId id,
                               std::chrono::steady_clock::time_point deadline) {
    // Before the agent is awaited: the domain's gui-agent may connect as soon as it runs.
    auto facts = m_describe(name);
    auto socket = m_layout.vchan_dir(name) + "/vchan.0." + std::to_string(id) + ".6000.sock";
    if (m_backend == Backend::Xen) // (dom0's own directory here: only the relay connects)
        TRY(sys::mkdir_p(m_layout.vchan_dir(name), 0700));
    std::string line =
        "add " + name + " " + (facts.label.empty() ? "red" : facts.label) + " " + socket;
    if (!facts.klass.empty())
        line += " type=" + facts.klass;
    std::string tags;
    for (auto const& t : facts.tags)
        tags += (tags.empty() ? "" : ",") + t;
    line += " tags=" + tags;
    if (m_backend == Backend::Xen)
        line += " xen=" + std::to_string(id);
    tell(line + "\n");
    if (m_backend == Backend::Xen) {
        std::lock_guard lock(m_relays_mutex);
        m_relays.erase(name);
        m_relays.emplace(name, std::make_unique<GuiXenRelay>(name, id, socket));
    }
    return m_inner.attach(name, id, deadline);
}

void GuiBridge::detach(std::string const& name) {
    {
        std::lock_guard lock(m_relays_mutex);
        m_relays.erase(name);
    }
    tell("remove " + name + "\n");
    m_inner.detach(name);
}

} // namespace bulkhead::dom0
