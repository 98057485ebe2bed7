// Test harness for the real bulkhead-agent binary: a temporary domain (vchan dir, services,
// passwd), the agent as a plain child process, and a test "dom0" speaking qrexec over the
// socket vchan with the codec and rpc/session.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>
#include <bulkhead/rpc/qrexec/frame_reader.h>
#include <bulkhead/rpc/qrexec/frame_writer.h>
#include <bulkhead/rpc/socket_vchan.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace bulkhead::test {

std::string bin_dir(); // build/bin
std::string write_script(std::string const& path, std::string const& body);

// A temporary tree: <root>/vchan, <root>/services, <root>/rpc-config, passwd, group.
struct Domain {
    std::string root;
    Domain();
    ~Domain();
    std::string vchan() const { return root + "/vchan"; }
    std::string services() const { return root + "/services"; }
};

// One agent process for domain `id` in d.
class AgentProcess {
public:
    AgentProcess(Domain const& d, rpc::DomainId id, std::vector<std::string> const& extra = {});
    ~AgentProcess(); // SIGTERM, then SIGKILL if it lingers
    // SIGTERM and wait: the agent's exit code.
    int terminate();
    std::string const& socket() const { return m_socket; }
    pid_t pid() const { return m_pid; }

private:
    pid_t m_pid = -1;
    std::string m_socket;
};

struct Output {
    Result<int> code = Error(Errc::Internal, "not run");
    std::string out, err;
};

// The test's dom0 end of one agent's control vchan.
class Dom0 {
public:
    Dom0(Domain const& d, rpc::DomainId agent);
    // Connects (retrying while the agent is not listening) and exchanges HELLO.
    void connect();
    void send(rpc::qrexec::Message const& m);
    void send_raw(std::vector<std::byte> const& bytes);
    // The next control message, nullopt on timeout; Errc::Closed when the agent closed.
    Result<std::optional<rpc::qrexec::Message>> next(std::chrono::milliseconds timeout);
    // Runs `user:command` through MSG_EXEC_CMDLINE as the caller; checks that
    // CONNECTION_TERMINATED for its port follows.
    Output exec(std::string const& user, std::string const& command, std::string input = {});
    rpc::Port next_port() { return m_port++; }
    rpc::SocketTransport& transport() { return m_transport; }
    // Waits for CONNECTION_TERMINATED{0 or domain, port}; other messages are kept for next().
    bool wait_terminated(rpc::DomainId domain, rpc::Port port, std::chrono::milliseconds timeout);

private:
    rpc::SocketTransport m_transport;
    rpc::DomainId m_agent;
    std::unique_ptr<rpc::Channel> m_ch;
    std::optional<rpc::qrexec::FrameReader> m_reader;
    std::vector<rpc::qrexec::Message> m_kept;
    rpc::Port m_port = 513;
};

// Runs the caller role on a connected data channel with `input` as stdin.
Output call(rpc::Channel& ch, std::string input);

// Runs a program to its end with the environment extra added, feeding input.
struct ProgramResult {
    int code = -1;
    std::string out, err;
};
ProgramResult run_program(std::vector<std::string> const& argv,
                          std::vector<std::string> const& extra_env, std::string const& input);

} // namespace bulkhead::test
