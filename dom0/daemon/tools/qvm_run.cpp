// qvm-run: runs a command (or a qrexec service) in a domain, or in a new disposable, as
// Qubes' qvm-run does. A client of the admin API: bulkheadd starts the domain if needed and
// hands back a listening data endpoint; this process accepts the agent's connection and
// streams stdin/stdout/stderr with the qrexec v3 data protocol.
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/poll.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/dom0/api/api_client.h>
#include <bulkhead/dom0/api/framing.h>
#include <bulkhead/rpc/session/session.h>
#include <bulkhead/rpc/socket_vchan.h>

#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace bulkhead;

namespace {

constexpr char const* kUsage =
    "usage: qvm-run [--help] [--verbose] [--quiet] [--user USER] [--autostart | --no-autostart]\n"
    "               [--pass-io] [--gui | --no-gui] [--filter-escape-chars |\n"
    "               --no-filter-escape-chars] [--service] [--dispvm[=BASE_APPVM]]\n"
    "               [VMNAME] COMMAND ...\n"
    "\n"
    "Run a command in a domain (or a new disposable, with --dispvm).\n"
    "\n"
    "options:\n"
    "  -h, --help            show this help message and exit\n"
    "  -v, --verbose         increase verbosity\n"
    "  -q, --quiet           decrease verbosity\n"
    "  -u USER, --user USER  run the command as USER (default: the domain's default_user)\n"
    "  -a, --autostart       start the domain if it is not running (default)\n"
    "  -n, --no-autostart    fail if the domain is not running\n"
    "  -p, --pass-io         pass stdin/stdout/stderr from the remote program; exit with\n"
    "                        its exit code\n"
    "  --gui, --no-gui       accepted for compatibility (no GUI session is involved)\n"
    "  --filter-escape-chars    replace terminal control characters in the output\n"
    "                           (default when the output is a terminal)\n"
    "  --no-filter-escape-chars do not\n"
    "  --service             COMMAND is a qrexec service (SERVICE[+ARG]) called with\n"
    "                        source dom0\n"
    "  --dispvm[=BASE_APPVM] run in a new disposable of BASE_APPVM (default: the global\n"
    "                        default_dispvm); VMNAME is then not given\n";

[[noreturn]] void usage_error(std::string const& msg) {
    std::fprintf(stderr, "%sqvm-run: error: %s\n", kUsage, msg.c_str());
    std::exit(2);
}

[[noreturn]] void fail(std::string const& msg, int code = 1) {
    std::fprintf(stderr, "qvm-run: error: %s\n", msg.c_str());
    std::exit(code);
}

// Replaces terminal control characters (ESC and the rest of C0/C1 but \t \n \r) with '_',
// so a domain cannot drive dom0's terminal. Copies in → out until EOF.
void filter_copy(UniqueFd in, int out) {
    std::vector<char> buf(65536);
    for (;;) {
        auto n =
            sys::read(in.get(), std::span(reinterpret_cast<std::byte*>(buf.data()), buf.size()));
        if (!n || *n == 0)
            return;
        for (size_t i = 0; i < *n; ++i) {
            auto c = static_cast<unsigned char>(buf[i]);
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
                buf[i] = '_';
        }
        if (!sys::write_all(out, std::span(reinterpret_cast<std::byte const*>(buf.data()), *n)))
            return;
    }
}

} // namespace

int main(int argc, char** argv) {
    sys::ignore_sigpipe();
    std::string user;
    bool autostart = true, pass_io = false, service = false, dispvm = false, quiet = false;
    std::optional<bool> filter;
    std::string dispvm_template;
    std::vector<std::string> positional;
    int i = 1;
    for (; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--") {
            ++i;
            break;
        }
        if (a.empty() || a[0] != '-' || !positional.empty())
            break;
        auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                usage_error("argument " + a + ": expected one argument");
            return argv[++i];
        };
        if (a == "-h" || a == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (a == "-v" || a == "--verbose") {
        } else if (a == "-q" || a == "--quiet") {
            quiet = true;
        } else if (a == "-u" || a == "--user") {
            user = value();
        } else if (a.rfind("--user=", 0) == 0) {
            user = a.substr(7);
        } else if (a == "-a" || a == "--autostart") {
            autostart = true;
        } else if (a == "-n" || a == "--no-autostart") {
            autostart = false;
        } else if (a == "-p" || a == "--pass-io") {
            pass_io = true;
        } else if (a == "--gui" || a == "--no-gui" || a == "--nogui") {
        } else if (a == "--filter-escape-chars") {
            filter = true;
        } else if (a == "--no-filter-escape-chars") {
            filter = false;
        } else if (a == "--service") {
            service = true;
        } else if (a == "--dispvm") {
            dispvm = true;
        } else if (a.rfind("--dispvm=", 0) == 0) {
            dispvm = true;
            dispvm_template = a.substr(9);
        } else {
            usage_error("unrecognized arguments: " + a);
        }
    }
    for (; i < argc; ++i)
        positional.push_back(argv[i]);
    std::string domain;
    if (!dispvm) {
        if (positional.empty())
            usage_error("the following arguments are required: VMNAME, COMMAND");
        domain = positional.front();
        positional.erase(positional.begin());
    }
    if (positional.empty())
        usage_error("the following arguments are required: COMMAND");
    std::string command;
    for (auto const& p : positional)
        command += (command.empty() ? "" : " ") + p;
    if (service && positional.size() != 1)
        usage_error("--service takes exactly one SERVICE[+ARG]");

    admin::Request req;
    auto* run = req.mutable_run();
    run->set_domain(domain);
    run->set_user(user);
    run->set_command(command);
    run->set_is_service(service);
    run->set_autostart(autostart);
    run->set_dispvm(dispvm);
    run->set_dispvm_template(dispvm_template);

    auto client = dom0::ApiClient::connect(dom0::api::default_socket_path());
    if (!client)
        fail("cannot reach bulkheadd: " + client.error().message());
    if (!quiet && !pass_io && !dispvm)
        std::fprintf(stderr, "Running '%s' on %s\n", command.c_str(), domain.c_str());
    auto reply = client->call_with_fd(req);
    if (!reply)
        fail(reply.error().message());
    auto& [resp, listener] = *reply;
    if (resp.has_error())
        fail(resp.error().message());
    if (!listener || !resp.has_run())
        fail("bulkheadd answered without a data endpoint");

    // The agent connects within the domain's qrexec_timeout or the call failed.
    auto ready = sys::poll_one(listener.get(), POLLIN, std::chrono::seconds(60));
    if (!ready || !*ready)
        fail("the agent in " + resp.run().domain() + " did not connect");
    auto conn = sys::accept(listener.get(),
                            SOCK_CLOEXEC | SOCK_NONBLOCK); // SocketChannel wants non-blocking
    if (!conn)
        fail("accepting the agent's connection: " + conn.error().message());
    listener.reset();
    rpc::SocketChannel channel(std::move(*conn), resp.run().domid(), resp.run().port());

    rpc::session::CallerIo io;
    std::vector<std::thread> filters;
    auto dup_or_none = [](int fd) {
        auto d = sys::dup(fd);
        return d ? std::move(*d) : UniqueFd();
    };
    if (pass_io) {
        io.stdin_fd = dup_or_none(0);
        bool want_filter = filter.value_or(::isatty(1) || ::isatty(2));
        for (int fd : {1, 2}) {
            UniqueFd sink;
            if (want_filter) {
                auto p = sys::pipe();
                if (!p)
                    fail(p.error().message());
                sink = std::move(p->second);
                filters.emplace_back(filter_copy, std::move(p->first), fd);
            } else {
                sink = dup_or_none(fd);
            }
            (fd == 1 ? io.stdout_fd : io.stderr_fd) = std::move(sink);
        }
    }
    auto code = rpc::session::run_caller(channel, std::move(io));
    for (auto& t : filters)
        t.join();
    if (dispvm) {
        // As Qubes: the call ends when the disposable is gone (it may be gone already).
        admin::Request kill;
        kill.mutable_kill()->set_name(resp.run().domain());
        (void)client->call(kill);
    }
    if (!code)
        fail("the call ended without an exit code: " + code.error().message(), 1);
    return *code;
}
