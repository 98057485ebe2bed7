// Daemon's answer to a policy "ask": the question built from dom0's own records (labels from
// the store), answered by the AskAgent chosen with --ask-agent.
#include "daemon.h"

#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/dom0/ask/process_ask_agent.h>

namespace bulkhead::dom0 {
namespace {

Logger const log{"daemon"};

} // namespace

Result<std::unique_ptr<AskAgent>> make_ask_agent(std::string const& spec,
                                                 std::chrono::milliseconds timeout) {
    std::string kind = spec;
    if (kind == "auto") {
        auto display = sys::getenv("DISPLAY");
        auto wayland = sys::getenv("WAYLAND_DISPLAY");
        kind = (display && !display->empty()) || (wayland && !wayland->empty()) ? "dialog" : "none";
    }
    if (kind == "none")
        return std::unique_ptr<AskAgent>();
    if (kind == "dialog") {
        auto dir = TRY(sys::self_exe_dir());
        auto secs = std::to_string((timeout.count() + 999) / 1000);
        return std::unique_ptr<AskAgent>(std::make_unique<ProcessAskAgent>(
            std::vector<std::string>{dir + "/bulkhead-ask-dialog", "--timeout", secs}));
    }
    if (kind.rfind("script:", 0) == 0) {
        auto path = kind.substr(7);
        if (path.empty() || path[0] != '/')
            return unexpected(Errc::Invalid, "--ask-agent script:PATH needs an absolute path");
        return std::unique_ptr<AskAgent>(
            std::make_unique<ProcessAskAgent>(std::vector<std::string>{path}));
    }
    return unexpected(Errc::Invalid,
                      "unknown --ask-agent '" + spec + "' (none, dialog, script:PATH)");
}

std::optional<std::string> Daemon::ask(std::string const& source, std::string const& service,
                                       policy::Ask const& ask) {
    if (!m_ask) {
        LOG_INFO(log, "policy says ask and no ask agent is configured: deny", {"source", source},
                 {"service", service});
        return std::nullopt;
    }
    auto req = policy::make_request(source, "", service);
    AskQuestion q;
    q.source = source;
    q.service = req.service;
    q.argument = req.argument;
    for (auto const& t : ask.targets) {
        AskTarget at{t, "black", 0};
        std::string domain = t.rfind("@dispvm:", 0) == 0 ? t.substr(8) : t;
        if (auto label = m_store->get_property(domain, "label"))
            if (auto l = find_label(label->value)) {
                at.label = std::string(l->name);
                at.color = l->color;
            }
        q.targets.push_back(std::move(at));
    }
    q.default_target = ask.default_target;
    auto answer = m_ask->ask(q, m_opts.ask_timeout);
    if (!answer) {
        LOG_ERROR(log, "ask agent failed: deny", {"error", answer.error().message()});
        return std::nullopt;
    }
    return *answer;
}

} // namespace bulkhead::dom0
