#include <bulkhead/gui/model/damage_limiter.h>

#include <algorithm>

namespace bulkhead::gui::model {

DamageLimiter::DamageLimiter(uint32_t per_second, uint32_t burst, Clock::time_point now)
    : m_rate(per_second)
    , m_burst(std::max<uint32_t>(burst, 1))
    , m_tokens(m_burst)
    , m_last(now) {}

void DamageLimiter::refill(Clock::time_point now) {
    if (now <= m_last)
        return;
    std::chrono::duration<double> dt = now - m_last;
    m_tokens = std::min(m_burst, m_tokens + dt.count() * m_rate);
    m_last = now;
}

bool DamageLimiter::take(Clock::time_point now) {
    refill(now);
    if (m_tokens < 1.0)
        return false;
    m_tokens -= 1.0;
    return true;
}

double DamageLimiter::tokens(Clock::time_point now) {
    refill(now);
    return m_tokens;
}

} // namespace bulkhead::gui::model
