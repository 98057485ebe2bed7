#include "system.h"

#include <bulkhead/base/sys/fd.h>

#include <csignal>
#include <fcntl.h>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace bulkhead::testing {
namespace {

[[noreturn]] void fail(std::string const& msg) {
    throw std::runtime_error(msg);
}

template <typename T>
T must(Result<T> r, std::string const& what) {
    if (!r)
        fail(what + ": " + r.error().message());
    return std::move(*r);
}

void must(Result<void> r, std::string const& what) {
    if (!r)
        fail(what + ": " + r.error().message());
}

} // namespace

System::System(std::string const& policy, std::vector<std::string> daemon_args)
    : m_daemon_args(std::move(daemon_args)) {
    m_root = must(sys::make_temp_dir("/tmp/bulkhead-it-"), "temp dir");
    m_bin = must(sys::self_exe_dir(), "self_exe_dir") + "/..";
    must(sys::mkdir_p(m_root + "/policy"), "policy dir");
    must(sys::write_file_atomic(m_root + "/policy/50-test.policy", policy), "policy");
    start_daemon();
}

System::~System() {
    stop_daemon();
    (void)sys::remove_tree(m_root);
}

std::vector<std::string> System::env() const {
    return {"BULKHEAD_ROOT=" + m_root, "PATH=/usr/bin:/bin:/usr/sbin:/sbin", "BULKHEAD_LOG=warn"};
}

void System::start_daemon() {
    auto log =
        must(sys::open(m_root + "/bulkheadd.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600),
             "daemon log");
    auto null = must(sys::open("/dev/null", O_RDONLY | O_CLOEXEC), "/dev/null");
    sys::SpawnOptions o;
    o.argv = {m_bin + "/bulkheadd", "--backend",       "sandbox", "--root", m_root,
              "--policy-dir",       m_root + "/policy"};
    o.argv.insert(o.argv.end(), m_daemon_args.begin(), m_daemon_args.end());
    o.env =
        std::vector<std::string>{"BULKHEAD_ROOT=" + m_root, "PATH=/usr/bin:/bin:/usr/sbin:/sbin"};
    o.fds = {{0, null.get()}, {1, log.get()}, {2, log.get()}};
    m_daemon = must(sys::spawn(o), "starting bulkheadd");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!sys::exists(m_root + "/run/bulkheadd.pid")) {
        auto st = sys::waitpid(m_daemon, WNOHANG);
        if (st && st->code != -1) {
            m_daemon = -1;
            fail("bulkheadd exited at start:\n" + daemon_log());
        }
        if (std::chrono::steady_clock::now() > deadline)
            fail("bulkheadd did not come up:\n" + daemon_log());
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

void System::stop_daemon() {
    if (m_daemon <= 0)
        return;
    (void)sys::kill(m_daemon, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
        auto st = sys::waitpid(m_daemon, WNOHANG);
        if (!st || st->code != -1)
            break;
        if (std::chrono::steady_clock::now() > deadline) {
            (void)sys::kill(m_daemon, SIGKILL);
            (void)sys::waitpid(m_daemon);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    m_daemon = -1;
}

void System::restart_daemon() {
    stop_daemon();
    start_daemon();
}

std::string System::daemon_log() const {
    return sys::read_file(m_root + "/bulkheadd.log").value_or("");
}

std::string System::gui_socket(std::string const& domain) const {
    auto vdir = m_root + "/run/vchan/" + domain;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
        for (auto const& f : sys::list_dir(vdir).value_or(std::vector<std::string>{}))
            if (f.starts_with("vchan.0.") && f.ends_with(".6000.sock"))
                return vdir + "/" + f;
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("no GUI socket for " + domain + " in " + vdir);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

ToolResult System::tool(std::vector<std::string> args, std::string const& stdin_data) {
    args[0] = m_bin + "/" + args[0];
    // sys::run inherits the environment: set ours for the child.
    ::setenv("BULKHEAD_ROOT", m_root.c_str(), 1);
    auto r = must(sys::run(args, stdin_data), "running " + args[0]);
    return {r.status.code, r.out, r.err};
}

std::string System::ok(std::vector<std::string> args, std::string const& stdin_data) {
    auto r = tool(args, stdin_data);
    if (r.code != 0) {
        std::ostringstream msg;
        msg << "command failed (exit " << r.code << "):";
        for (auto const& a : args)
            msg << " " << a;
        msg << "\nstdout: " << r.out << "\nstderr: " << r.err << "\ndaemon log:\n" << daemon_log();
        fail(msg.str());
    }
    return r.out;
}

void System::make_template(std::string const& name) {
    auto store = m_root + "/tpl-src";
    ok({"bulkhead-template", store, "busybox", name});
    ok({"qvm-create", "--class", "TemplateVM", "--label", "black", name});
    ok({"qvm-template", "import-layer", name, store + "/" + name + "/base"});
}

void System::add_gui_layer(std::string const& name) {
    auto dir = m_root + "/gui-layer-" + name;
    ok({"bulkhead-gui-layer", dir});
    ok({"qvm-template", "import-layer", name, dir});
}

std::string System::make_layer_dir(std::string const& rel_path, std::string const& content) {
    auto dir = m_root + "/layer-src-" + std::to_string(++m_layer_seq);
    auto file = dir + "/" + rel_path;
    must(sys::mkdir_p(file.substr(0, file.rfind('/'))), "layer dir");
    must(sys::write_file_atomic(file, content, 0644), "layer file");
    return dir;
}

std::string System::raw_list_without(std::string const& part) {
    std::string list;
    for (int i = 0; i < 100; ++i) {
        list = ok({"qvm-ls", "--raw-list"});
        if (list.find(part) == std::string::npos)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return list;
}

bool descends_from(pid_t pid, pid_t ancestor) {
    for (int depth = 0; depth < 32 && pid > 1; ++depth) {
        auto status = sys::read_file("/proc/" + std::to_string(pid) + "/status").value_or("");
        auto pp = status.find("PPid:");
        if (pp == std::string::npos)
            return false;
        pid = std::stoi(status.substr(pp + 5));
        if (pid == ancestor)
            return true;
    }
    return false;
}

std::vector<pid_t> processes_named(std::string const& comm, pid_t ancestor) {
    std::vector<pid_t> out;
    for (auto const& entry : sys::list_dir("/proc").value_or(std::vector<std::string>{})) {
        if (entry.empty() || entry.find_first_not_of("0123456789") != std::string::npos)
            continue;
        auto name = sys::read_file("/proc/" + entry + "/comm").value_or("");
        if (name == comm + "\n" && descends_from(std::stoi(entry), ancestor))
            out.push_back(std::stoi(entry));
    }
    return out;
}

} // namespace bulkhead::testing
