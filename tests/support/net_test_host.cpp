#include "net_test_host.h"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace bulkhead::testing {

namespace {

int listen_on(int type, uint16_t port) {
    int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        throw std::runtime_error("NetTestHost: bind " + std::to_string(port) + ": " +
                                 std::strerror(errno));
    if (type == SOCK_STREAM)
        ::listen(fd, 64);
    return fd;
}

void answer_dns(int fd, std::atomic<int>& count) {
    unsigned char q[512];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = ::recvfrom(fd, q, sizeof q, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 17)
        return;
    ++count;
    size_t i = 12; // the question's name
    while (i < size_t(n) && q[i] != 0)
        i += q[i] + 1;
    size_t qend = i + 5; // zero, type, class
    if (qend > size_t(n))
        return;
    bool is_a = q[i + 1] == 0 && q[i + 2] == 1;
    unsigned char r[600];
    std::memcpy(r, q, qend);
    r[2] = 0x81; // response, recursion desired
    r[3] = 0x80; // recursion available, NOERROR
    r[6] = 0;
    r[7] = is_a ? 1 : 0; // answers
    r[8] = r[9] = r[10] = r[11] = 0;
    size_t k = qend;
    if (is_a) {
        unsigned char ans[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4};
        std::memcpy(r + k, ans, sizeof ans);
        k += sizeof ans;
        ::inet_pton(AF_INET, kDnsAnswer, r + k);
        k += 4;
    }
    ::sendto(fd, r, k, 0, reinterpret_cast<sockaddr*>(&from), len);
}

// Runs fn on a thread that first enters netns (a path); returns fn's result.
template <typename Fn>
auto in_netns(std::string const& netns, Fn fn) -> decltype(fn()) {
    decltype(fn()) result{};
    std::thread t([&] {
        int ns = ::open(netns.c_str(), O_RDONLY | O_CLOEXEC);
        if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) {
            if (ns >= 0)
                ::close(ns);
            return;
        }
        ::close(ns);
        result = fn();
    });
    t.join();
    return result;
}

int connect_from(std::string const& ip, uint16_t port, std::string const& src, int timeout_ms) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (!src.empty()) {
        int one = 1;
        ::setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
        sockaddr_in s{};
        s.sin_family = AF_INET;
        ::inet_pton(AF_INET, src.c_str(), &s.sin_addr);
        ::bind(fd, reinterpret_cast<sockaddr*>(&s), sizeof s);
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
        ::close(fd);
        return -1;
    }
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (::poll(&p, 1, timeout_ms) != 1 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
        err != 0) {
        ::close(fd);
        return -1;
    }
    int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    return fd;
}

} // namespace

NetTestHost::NetTestHost(std::vector<uint16_t> tcp_ports) {
    if (::pipe2(m_stop, O_CLOEXEC) != 0)
        throw std::runtime_error("NetTestHost: pipe");
    std::atomic<int> ready{0};
    std::string error;
    m_thread = std::thread([this, tcp_ports, &ready, &error] {
        std::vector<int> fds;
        int dns = -1;
        try {
            if (::unshare(CLONE_NEWNET) != 0)
                throw std::runtime_error(std::string("unshare(net): ") + std::strerror(errno));
            m_netns = "/proc/" + std::to_string(::getpid()) + "/task/" +
                      std::to_string(::syscall(SYS_gettid)) + "/ns/net";
            for (auto p : tcp_ports)
                fds.push_back(listen_on(SOCK_STREAM, p));
            dns = listen_on(SOCK_DGRAM, 53);
        } catch (std::exception const& e) {
            error = e.what();
            ready = -1;
            return;
        }
        ready = 1;
        serve(std::move(fds), dns);
    });
    while (ready == 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (ready < 0) {
        m_thread.join();
        throw std::runtime_error(error);
    }
}

NetTestHost::~NetTestHost() {
    (void)!::write(m_stop[1], "x", 1);
    m_thread.join();
    ::close(m_stop[0]);
    ::close(m_stop[1]);
}

void NetTestHost::serve(std::vector<int> fds, int dns_fd) {
    std::vector<pollfd> p;
    p.push_back({m_stop[0], POLLIN, 0});
    p.push_back({dns_fd, POLLIN, 0});
    for (int fd : fds)
        p.push_back({fd, POLLIN, 0});
    for (;;) {
        if (::poll(p.data(), p.size(), -1) < 0 && errno != EINTR)
            break;
        if (p[0].revents)
            break;
        if (p[1].revents)
            answer_dns(dns_fd, m_dns_queries);
        for (size_t i = 2; i < p.size(); ++i) {
            if (!p[i].revents)
                continue;
            int c = ::accept4(p[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0)
                continue;
            sockaddr_in a{};
            socklen_t len = sizeof a;
            ::getsockname(c, reinterpret_cast<sockaddr*>(&a), &len);
            auto port = ntohs(a.sin_port);
            if (port % 2 == 1) { // odd ports are sinks (throughput): read until EOF
                std::thread([c] {
                    char buf[1 << 16];
                    while (::read(c, buf, sizeof buf) > 0) {
                    }
                    (void)!::write(c, "done\n", 5);
                    ::close(c);
                }).detach();
                continue;
            }
            auto msg = "port " + std::to_string(port) + "\n";
            (void)!::write(c, msg.data(), msg.size());
            ::close(c);
        }
    }
    for (int fd : fds)
        ::close(fd);
    ::close(dns_fd);
}

std::string tcp_get(std::string const& netns, std::string const& ip, uint16_t port,
                    std::string const& src, int timeout_ms) {
    return in_netns(netns, [&]() -> std::string {
        int fd = connect_from(ip, port, src, timeout_ms);
        if (fd < 0)
            return {};
        timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::string out;
        char buf[256];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof buf)) > 0)
            out.append(buf, size_t(n));
        ::close(fd);
        return out;
    });
}

double tcp_throughput(std::string const& netns, std::string const& ip, uint16_t port,
                      uint64_t bytes) {
    return in_netns(netns, [&]() -> double {
        int fd = connect_from(ip, port, "", 2000);
        if (fd < 0)
            return -1;
        std::vector<char> buf(1 << 16, 'x');
        auto t0 = std::chrono::steady_clock::now();
        uint64_t sent = 0;
        while (sent < bytes) {
            ssize_t n = ::write(fd, buf.data(), std::min<uint64_t>(buf.size(), bytes - sent));
            if (n <= 0) {
                ::close(fd);
                return -1;
            }
            sent += uint64_t(n);
        }
        ::shutdown(fd, SHUT_WR);
        char done[8];
        (void)!::read(fd, done, sizeof done); // the sink has read everything
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        ::close(fd);
        return double(bytes) / secs;
    });
}

} // namespace bulkhead::testing
