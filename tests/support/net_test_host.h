// NetTestHost: a network namespace this test creates (never any outside address), standing
// for the world beyond sys-net: TCP servers that answer "port N\n" on the ports asked for
// and a DNS server (UDP 53) answering every A query with kDnsAnswer. netns() is a path
// for bulkheadd's --uplink-netns or SandboxOptions::uplink_netns; the namespace lives as
// long as the object. Also: tcp_get, a TCP client run inside any namespace (by path).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace bulkhead::testing {

inline constexpr char const* kDnsAnswer = "192.0.2.53";

class NetTestHost {
public:
    explicit NetTestHost(std::vector<uint16_t> tcp_ports);
    ~NetTestHost();
    NetTestHost(NetTestHost const&) = delete;
    std::string const& netns() const { return m_netns; }
    int dns_queries() const { return m_dns_queries.load(); }

private:
    void serve(std::vector<int> fds, int dns_fd);
    std::string m_netns;
    std::thread m_thread;
    int m_stop[2] = {-1, -1};
    std::atomic<int> m_dns_queries{0};
};

// Connects from inside `netns` (a path) to ip:port, optionally from source address `src`
// (bound with IP_FREEBIND, so it need not be the namespace's own), and returns what the
// server sent before closing; "" when the connection failed or timed out.
std::string tcp_get(std::string const& netns, std::string const& ip, uint16_t port,
                    std::string const& src = "", int timeout_ms = 1500);

// Bytes per second of a TCP transfer of `bytes` from inside `netns` to ip:port (a sink:
// the server reads and discards), or -1 on failure.
double tcp_throughput(std::string const& netns, std::string const& ip, uint16_t port,
                      uint64_t bytes);

} // namespace bulkhead::testing
