// Untrusted<T>: bytes or values that came from a guest. They can be read only with a
// ValidatorKey, and only classes derived from Validator can make one (passkey idiom),
// so every place that opens guest data is a validator and easy to find and fuzz.
// A validator returns Result<Validated...>; guest-controlled names start with untrusted_.
#pragma once

#include <cstddef>
#include <utility>

namespace bulkhead {

class ValidatorKey {
    ValidatorKey() = default;
    friend class Validator;
};

// Base for validators: the only way to obtain a ValidatorKey.
class Validator {
protected:
    static ValidatorKey key() { return {}; }
};

template <typename T>
class Untrusted {
public:
    explicit Untrusted(T value)
        : m_value(std::move(value)) {}
    T const& open(ValidatorKey) const& { return m_value; }
    T&& open(ValidatorKey) && { return std::move(m_value); }
    // Size is safe to know before validation (for caps); contents are not.
    size_t size() const requires requires(T const& t) { t.size(); }
    { return m_value.size(); }

private:
    T m_value;
};

} // namespace bulkhead
