// Desktop damage: repaints clipped to the window, and a per-domain rate limit that merges and
// defers a flood without slowing any other domain.
#include "model_test_util.h"

#include <chrono>

using namespace model_test;
using namespace std::chrono_literals;

namespace {

size_t count_for(std::vector<Repaint> const& v, WindowHandle h) {
    return size_t(std::count_if(v.begin(), v.end(), [&](auto const& r) { return r.window == h; }));
}

} // namespace

TEST_CASE("damage: repaints are clipped to the window and handed out once") {
    Fixture f;
    auto h = f.open("work", 1, {0, 0, 100, 50});
    REQUIRE(f.send("work", 1, rg::Damage{{10, 10, 20, 20}}));
    REQUIRE(f.send("work", 1, rg::Damage{{90, 40, 100, 100}})); // partly outside
    REQUIRE(f.send("work", 1, rg::Damage{{200, 200, 5, 5}}));   // wholly outside: nothing
    auto r = f.desktop.take_repaints(f.t0);
    REQUIRE(r.size() == 2);
    CHECK(r[0] == Repaint{h, {10, 10, 20, 20}});
    CHECK(r[1] == Repaint{h, {90, 40, 10, 10}});
    CHECK(f.desktop.take_repaints(f.t0).empty());
}

TEST_CASE("damage: a window that shrank since its damage repaints only what is left") {
    Fixture f;
    auto h = f.open("work", 1, {0, 0, 100, 100});
    REQUIRE(f.send("work", 1, rg::Damage{{50, 50, 50, 50}}));
    REQUIRE(f.send("work", 1, rg::Damage{{80, 0, 20, 20}}));
    REQUIRE(f.send("work", 1, rg::Configure{{0, 0, 60, 60}}));
    auto r = f.desktop.take_repaints(f.t0);
    REQUIRE(r.size() == 1);
    CHECK(r[0] == Repaint{h, {50, 50, 10, 10}});
}

TEST_CASE("damage: an unmapped window repaints nothing") {
    Fixture f;
    REQUIRE(f.send("work", 1, rg::Create{{0, 0, 10, 10}, 0, rg::OverrideRedirect::No}));
    REQUIRE(f.send("work", 1, rg::Damage{{0, 0, 10, 10}}));
    CHECK(f.desktop.take_repaints(f.t0).empty());
}

TEST_CASE("damage: many rectangles in one frame merge into a bounded list") {
    Fixture f;
    auto h = f.open("work", 1, {0, 0, 1000, 1000});
    for (int i = 0; i < 100; ++i)
        REQUIRE(f.send("work", 1, rg::Damage{{i * 10, i * 10, 5, 5}}));
    auto r = f.desktop.take_repaints(f.t0);
    CHECK(r.size() == 16);
    CHECK(r.back() == Repaint{h, {150, 150, 845, 845}}); // 15th..99th merged
}

TEST_CASE("damage: a flood is throttled per domain, merged and delivered later") {
    Config c;
    c.damage_per_second = 100;
    c.damage_burst = 200;
    Fixture f(c);
    auto bad = f.open("untrusted", 1, {0, 0, 640, 480});
    auto good = f.open("work", 1, {700, 0, 100, 100});
    for (int i = 0; i < 10000; ++i)
        REQUIRE(f.send("untrusted", 1, rg::Damage{{i % 600, i % 400, 40, 80}}));
    CHECK(f.desktop.deferred_damage("untrusted") == 10000 - 200);
    // The other domain is not slowed: its damage is repainted at once.
    REQUIRE(f.send("work", 1, rg::Damage{{0, 0, 100, 100}}));
    auto now = f.desktop.take_repaints(f.t0);
    CHECK(count_for(now, good) == 1);
    CHECK(count_for(now, bad) <= 16);
    CHECK(f.desktop.deferred_damage("work") == 0);
    // No token yet at the same instant: the deferred region waits.
    CHECK(f.desktop.take_repaints(f.t0).empty());
    // 100 ms later there are tokens again: one merged repaint covering the whole flood.
    auto later = f.desktop.take_repaints(f.t0 + 100ms);
    REQUIRE(later.size() == 1);
    CHECK(later[0].window == bad);
    CHECK(later[0].rect == Rect{0, 0, 639, 479});
    CHECK(f.desktop.take_repaints(f.t0 + 200ms).empty());
}

TEST_CASE("damage limiter: token bucket arithmetic") {
    auto t = Clock::now();
    DamageLimiter l(10, 3, t);
    CHECK(l.take(t));
    CHECK(l.take(t));
    CHECK(l.take(t));
    CHECK_FALSE(l.take(t));
    CHECK_FALSE(l.take(t + 50ms)); // half a token
    CHECK(l.take(t + 100ms));
    CHECK(l.tokens(t + 10s) == 3.0); // capped at the burst
    CHECK(l.take(t - 1s));           // an earlier time refills nothing
    CHECK(l.tokens(t - 1s) == 2.0);
}
