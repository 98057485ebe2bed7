// qvm-start, qvm-shutdown, qvm-kill, qvm-pause, qvm-unpause: power operations through the
// daemon's Lifecycle. Several domains are handled in turn (qvm-shutdown --wait: at once).
#include "common.h"
#include "tools.h"

#include <bulkhead/base/text.h>

#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace bulkhead::dom0::cli {

namespace {
using MakeRequest = std::function<admin::Request(std::string const&)>;
using Pick = std::function<bool(admin::DomainInfo const&)>;

bool is_running(admin::DomainInfo const& d) {
    return d.state() != "Halted";
}

// Shared shape: VMNAME... or --all [--exclude X]. `for_all` picks the domains --all acts
// on; `skip` (checked after parsing) drops domains silently.
// `check` validates tool options after parsing (a usage error's exit status, or nullopt).
int power_tool(Args& args, int argc, char** argv, MakeRequest make, Pick for_all,
               Pick skip = nullptr, std::function<std::optional<int>()> check = nullptr) {
    args.flag("all", 0, "perform the action on all qubes (except dom0)")
        .option("exclude", 0, "EXCLUDE", "exclude the qube from --all");
    if (auto r = args.parse(argc, argv))
        return *r;
    if (auto r = check_domain_selection(args))
        return *r;
    bool all = args.has("all");
    if (check)
        if (auto r = check())
            return *r;
    int status = 0;
    auto session = Session::open(args, &status);
    if (!session)
        return status;
    auto doms = select_domains(*session, args.positionals(), all);
    if (!doms)
        return 1;
    std::vector<std::string> names;
    for (auto const& d : *doms)
        if ((!all || for_all(d)) && !(skip && skip(d)))
            names.push_back(d.name());
    int failures = 0;
    std::mutex out_mutex;
    auto run_one = [&](Session& s, std::string const& n) {
        auto r = s.try_call(make(n));
        std::lock_guard lock(out_mutex);
        if (!r) {
            args.fail(safe(r.error().message()));
            ++failures;
        } else if (args.verbose()) {
            std::printf("%s: done\n", safe(n).c_str());
        }
    };
    // With --wait, each domain on its own connection so they shut down together.
    if (args.has("wait") && names.size() > 1) {
        std::vector<std::thread> threads;
        for (auto const& n : names)
            threads.emplace_back([&, n] {
                int st = 0;
                auto s = Session::open(args, &st);
                if (!s) {
                    std::lock_guard lock(out_mutex);
                    ++failures;
                    return;
                }
                run_one(*s, n);
            });
        for (auto& t : threads)
            t.join();
    } else {
        for (auto const& n : names)
            run_one(*session, n);
    }
    return failures ? 1 : 0;
}
} // namespace

int qvm_start(int argc, char** argv) {
    Args args(argv[0], "[options] [--all | VMNAME ...]", "Start domains.");
    args.flag("skip-if-running", 0, "do nothing if the qube is already running");
    return power_tool(
        args, argc, argv,
        [](std::string const& n) {
            admin::Request r;
            r.mutable_start()->set_name(n);
            return r;
        },
        [](auto const& d) { return !is_running(d); },
        [&](auto const& d) { return args.has("skip-if-running") && is_running(d); });
}

int qvm_shutdown(int argc, char** argv) {
    Args args(argv[0], "[options] [--all | VMNAME ...]", "Gracefully shut down domains.");
    args.flag("wait", 0, "wait for the qubes to shut down")
        .option("timeout", 0, "TIMEOUT",
                "seconds after which the qubes are killed (default: their shutdown_timeout)")
        .flag("force", 0,
              "shut down even a netvm that running qubes are connected to (implied by --all)");
    uint32_t timeout = 0;
    auto make = [&](std::string const& n) {
        admin::Request r;
        r.mutable_shutdown()->set_name(n);
        r.mutable_shutdown()->set_wait(args.has("wait"));
        r.mutable_shutdown()->set_timeout_seconds(timeout);
        r.mutable_shutdown()->set_force(args.has("force") || args.has("all"));
        return r;
    };
    auto check = [&]() -> std::optional<int> {
        if (!args.has("timeout"))
            return std::nullopt;
        auto t = text::parse_u64(args.value("timeout"));
        if (!t || *t == 0 || *t > 86400)
            return args.usage_error("argument --timeout: invalid value: '" +
                                    text::escape(args.value("timeout")) + "'");
        timeout = uint32_t(*t);
        return std::nullopt;
    };
    return power_tool(args, argc, argv, make, is_running, nullptr, check);
}

int qvm_kill(int argc, char** argv) {
    Args args(argv[0], "[options] [--all | VMNAME ...]", "Kill domains (no clean shutdown).");
    return power_tool(
        args, argc, argv,
        [](std::string const& n) {
            admin::Request r;
            r.mutable_kill()->set_name(n);
            return r;
        },
        is_running);
}

int qvm_pause(int argc, char** argv) {
    Args args(argv[0], "[options] [--all | VMNAME ...]", "Pause domains.");
    return power_tool(
        args, argc, argv,
        [](std::string const& n) {
            admin::Request r;
            r.mutable_pause()->set_name(n);
            return r;
        },
        [](auto const& d) { return d.state() == "Running"; });
}

int qvm_unpause(int argc, char** argv) {
    Args args(argv[0], "[options] [--all | VMNAME ...]", "Unpause paused domains.");
    return power_tool(
        args, argc, argv,
        [](std::string const& n) {
            admin::Request r;
            r.mutable_unpause()->set_name(n);
            return r;
        },
        [](auto const& d) { return d.state() == "Paused"; });
}

} // namespace bulkhead::dom0::cli
