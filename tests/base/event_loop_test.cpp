#include <bulkhead/base/event_loop.h>
#include <bulkhead/base/sys/fd.h>

#include <catch2/catch.hpp>

#include <thread>

using namespace bulkhead;
using namespace std::chrono_literals;

TEST_CASE("event loop dispatches readable fds, timers and posted work") {
    auto loop = *EventLoop::create();
    auto [r, w] = *sys::pipe(O_CLOEXEC | O_NONBLOCK);
    std::string got;
    REQUIRE(loop->watch(r.get(), EventLoop::Readable, [&](uint32_t) {
        char buf[16];
        auto n = sys::read(r.get(), std::as_writable_bytes(std::span(buf)));
        if (n && *n > 0)
            got.append(buf, *n);
        if (got == "hi")
            loop->unwatch(r.get());
    }));
    REQUIRE(sys::write_all(w.get(), "hi"));
    bool fired = false;
    loop->add_timer(5ms, [&] { fired = true; });
    auto cancelled = loop->add_timer(1ms, [&] { FAIL("cancelled timer ran"); });
    loop->cancel_timer(cancelled);
    std::thread t([&] { loop->post([&] { loop->stop(); }); });
    auto deadline = std::chrono::steady_clock::now() + 2s;
    while (!(fired && loop->stopping()) && std::chrono::steady_clock::now() < deadline)
        REQUIRE(loop->run_once(10ms));
    t.join();
    CHECK(got == "hi");
    CHECK(fired);
    CHECK_FALSE(loop->watching(r.get()));
}
