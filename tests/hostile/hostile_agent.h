// HostileAgent: the test playing one domain's qrexec agent on its real control vchan, to
// speak qrexec v3 badly on purpose against a real bulkheadd. The domain (named hostile*)
// runs hostile-init, which only reports its id; the test listens where the agent would
// ($BULKHEAD_ROOT/run/vchan/<name>/vchan.<id>.0.512.sock), dom0 connects to it, and from
// then on every byte dom0 reads from that domain is the test's. Also raw frame builders.
#pragma once

#include "system.h"

#include <bulkhead/base/unique_fd.h>
#include <bulkhead/rpc/qrexec/frame_reader.h>
#include <bulkhead/rpc/socket_vchan.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace bulkhead::hostile {

namespace q = rpc::qrexec;
using namespace std::chrono_literals;

// Raw qrexec bytes, built by hand so that they can be wrong.
std::string le32(uint32_t v);
std::string header(uint32_t type, uint32_t len);
std::string frame(uint32_t type, std::string_view payload);
// s NUL-padded to size; s.size() >= size: cut to size, no NUL at all.
std::string field(std::string_view s, size_t size);
std::string trigger3_payload(std::string_view target, std::string_view ident,
                             std::string_view service);
std::string trigger3(std::string_view target, std::string_view ident, std::string_view service);
std::string hello(uint32_t version = q::protocol_v3);
std::string terminated(uint32_t domain, uint32_t port);

// What dom0 sent, or why nothing came.
struct Reply {
    enum class Kind { Message, Timeout, Closed } kind = Kind::Timeout;
    std::optional<q::Message> message;
    std::string error; // why it closed
};

class HostileAgent {
public:
    HostileAgent(testing::System& s, std::string name);
    ~HostileAgent();

    // qvm-start <name> in the background; waits for hostile-init's id, listens as the agent
    // and accepts dom0's control connection. Nothing is sent yet.
    void begin_start();
    // qvm-start's result (waits for it to exit).
    testing::ToolResult finish_start(std::chrono::milliseconds timeout = 30s);
    // begin_start + a correct HELLO (read dom0's, send ours); qvm-start must succeed.
    void start();

    uint32_t id() const { return m_id; }
    std::string const& name() const { return m_name; }
    std::string vchan_dir() const;

    // Writes all of bytes (throws if dom0 hung up).
    void send(std::string_view bytes);
    // Writes what dom0 takes of bytes; false once dom0 closed the connection.
    bool try_send(std::string_view bytes);
    // The next message from dom0 within timeout.
    Reply next(std::chrono::milliseconds timeout = 5s);
    // Reads (and drops) messages until dom0 closes the connection; false on timeout.
    bool closed_within(std::chrono::milliseconds timeout = 5s);
    // Waits for MSG_SERVICE_REFUSED; its ident, or "" if something else (or nothing) came.
    std::string refused(std::chrono::milliseconds timeout = 5s);
    void close();

private:
    testing::System& m_s;
    std::string m_name;
    uint32_t m_id = 0;
    pid_t m_starter = -1;
    UniqueFd m_listener;
    std::unique_ptr<rpc::SocketChannel> m_ch;
    std::optional<q::FrameReader> m_reader;
};

} // namespace bulkhead::hostile
