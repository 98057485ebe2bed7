// A private Xvfb for a test: 24-bit screen, black root (-br), display number chosen by the
// server (-displayfd). Fails the test when Xvfb cannot start; never skips.
#pragma once

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/poll.h>
#include <bulkhead/base/sys/proc.h>

#include <catch2/catch.hpp>

#include <csignal>
#include <poll.h>
#include <string>

class Xvfb {
public:
    explicit Xvfb(std::string const& geometry = "640x480x24") {
        using namespace bulkhead;
        auto p = sys::pipe();
        REQUIRE(p);
        auto null = sys::open("/dev/null", O_RDWR);
        REQUIRE(null);
        sys::SpawnOptions o;
        o.argv = {"Xvfb",   "-displayfd", "3",   "-screen", "0",
                  geometry, "-nolisten",  "tcp", "-br",     "-noreset"};
        o.fds = {{0, null->get()}, {1, null->get()}, {2, null->get()}, {3, p->second.get()}};
        auto pid = sys::spawn(o);
        REQUIRE(pid); // Xvfb must be installed (scripts/install-deps.sh)
        m_pid = *pid;
        p->second.reset();
        std::string number;
        char c;
        while (true) {
            pollfd pfd{p->first.get(), POLLIN, 0};
            REQUIRE(::poll(&pfd, 1, 15000) == 1); // Xvfb ready within 15 s
            auto n = ::read(p->first.get(), &c, 1);
            REQUIRE(n == 1);
            if (c == '\n')
                break;
            number += c;
        }
        m_display = ":" + number;
    }
    ~Xvfb() {
        ::kill(m_pid, SIGTERM);
        (void)bulkhead::sys::waitpid(m_pid);
    }
    std::string const& display() const { return m_display; }

private:
    pid_t m_pid = -1;
    std::string m_display;
};
