// Result<T>: a value or an Error, shaped like std::expected<T, Error> (which C++20 lacks).
// TRY(expr) unwraps a Result or returns its error from the enclosing function;
// TRY_CTX(expr, "what") does the same and prefixes the error with what was being done.
#pragma once

#include <bulkhead/base/error.h>

#include <cstdlib>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace bulkhead {

struct Unexpected {
    Error error;
};
inline Unexpected unexpected(Error e) {
    return Unexpected{std::move(e)};
}
inline Unexpected unexpected(Errc code, std::string context) {
    return Unexpected{Error(code, std::move(context))};
}

template <typename T>
class [[nodiscard]] Result {
public:
    using value_type = T;
    Result(T value)
        : m_v(std::in_place_index<0>, std::move(value)) {}
    Result(Error e)
        : m_v(std::in_place_index<1>, std::move(e)) {}
    Result(Unexpected u)
        : m_v(std::in_place_index<1>, std::move(u.error)) {}
    template <typename U>
    requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
             !std::is_same_v<std::decay_t<U>, Error> &&
             !std::is_same_v<std::decay_t<U>, Unexpected> &&
             !std::is_same_v<std::decay_t<U>, Result>) Result(U&& value)
        : m_v(std::in_place_index<0>, T(std::forward<U>(value))) {}

    bool has_value() const { return m_v.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & { return check(), std::get<0>(m_v); }
    T const& value() const& { return check(), std::get<0>(m_v); }
    T&& value() && { return check(), std::get<0>(std::move(m_v)); }
    T* operator->() { return &value(); }
    T const* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    T const& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }

    Error const& error() const& { return std::get<1>(m_v); }
    Error&& error() && { return std::get<1>(std::move(m_v)); }

    template <typename U>
    T value_or(U&& fallback) const& {
        return has_value() ? std::get<0>(m_v) : T(std::forward<U>(fallback));
    }

private:
    void check() const {
        if (!has_value())
            std::abort(); // a bug: value() on an error; callers test first or use TRY
    }
    std::variant<T, Error> m_v;
};

template <>
class [[nodiscard]] Result<void> {
public:
    using value_type = void;
    Result() = default;
    Result(Error e)
        : m_error(std::move(e)) {}
    Result(Unexpected u)
        : m_error(std::move(u.error)) {}
    bool has_value() const { return !m_error.has_value(); }
    explicit operator bool() const { return has_value(); }
    void value() const {
        if (m_error)
            std::abort();
    }
    Error const& error() const& { return *m_error; }
    Error&& error() && { return std::move(*m_error); }

private:
    std::optional<Error> m_error;
};

inline Result<void> ok() {
    return {};
}

namespace detail {
template <typename R>
decltype(auto) unwrap(R&& r) {
    if constexpr (std::is_void_v<typename std::decay_t<R>::value_type>)
        return;
    else
        return std::move(r).value();
}
} // namespace detail

} // namespace bulkhead

#define BULKHEAD_CAT2(a, b) a##b
#define BULKHEAD_CAT(a, b) BULKHEAD_CAT2(a, b)

// Statement expressions (GCC and Clang): evaluates to the value, or returns the error.
#define BULKHEAD_TRY_IMPL(var, expr, ...)                                                          \
    ({                                                                                             \
        auto&& var = (expr);                                                                       \
        if (!var.has_value())                                                                      \
            return ::bulkhead::Unexpected{std::move(var).error() __VA_ARGS__};                     \
        ::bulkhead::detail::unwrap(std::move(var));                                                \
    })
#define TRY(expr) BULKHEAD_TRY_IMPL(BULKHEAD_CAT(bulkhead_try_, __COUNTER__), expr)
#define TRY_CTX(expr, what)                                                                        \
    BULKHEAD_TRY_IMPL(BULKHEAD_CAT(bulkhead_try_, __COUNTER__), expr, .prefix(what))
