// DamageLimiter: a token bucket per domain for DAMAGE messages, so a guest flooding damage
// cannot make dom0 repaint more than `rate` times a second (after a burst). Used by Desktop;
// damage over the budget is not lost but merged and repainted when tokens come back.
#pragma once

#include <chrono>
#include <cstdint>

namespace bulkhead::gui::model {

using Clock = std::chrono::steady_clock;

class DamageLimiter {
public:
    DamageLimiter(uint32_t per_second, uint32_t burst, Clock::time_point now);
    // Takes one token if there is one.
    bool take(Clock::time_point now);
    double tokens(Clock::time_point now);

private:
    void refill(Clock::time_point now);
    double m_rate;
    double m_burst;
    double m_tokens;
    Clock::time_point m_last;
};

} // namespace bulkhead::gui::model
