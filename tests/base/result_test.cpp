#include <bulkhead/base/result.h>
#include <bulkhead/base/untrusted.h>

#include <catch2/catch.hpp>

using namespace bulkhead;

namespace {
Result<int> parse_positive(int v) {
    if (v <= 0)
        return unexpected(Errc::Invalid, "not positive");
    return v;
}
Result<int> doubled(int v) {
    int x = TRY(parse_positive(v));
    return x * 2;
}
Result<int> doubled_ctx(int v) {
    int x = TRY_CTX(parse_positive(v), "doubling");
    return x * 2;
}
Result<void> check(int v) {
    TRY(parse_positive(v));
    return {};
}
struct Opener : Validator {
    static int open(Untrusted<int> const& u) { return u.open(key()); }
};
} // namespace

TEST_CASE("Result carries a value or an error") {
    auto good = parse_positive(3);
    REQUIRE(good.has_value());
    CHECK(*good == 3);
    auto bad = parse_positive(-1);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code() == Errc::Invalid);
    CHECK(bad.value_or(7) == 7);
}

TEST_CASE("TRY propagates errors and TRY_CTX prefixes them") {
    CHECK(*doubled(4) == 8);
    CHECK(doubled(0).error().context() == "not positive");
    CHECK(doubled_ctx(0).error().context() == "doubling: not positive");
    CHECK(check(1).has_value());
    CHECK_FALSE(check(-5).has_value());
}

TEST_CASE("Error::from_errno maps common errnos and names the call") {
    auto e = Error::from_errno("open /x", ENOENT);
    CHECK(e.code() == Errc::NotFound);
    CHECK(e.message() == "open /x: No such file or directory");
    CHECK(Error::from_errno("kill", EPERM).code() == Errc::Denied);
}

TEST_CASE("Untrusted values open only through a validator") {
    Untrusted<int> u(42);
    CHECK(Opener::open(u) == 42);
    Untrusted<std::string> s(std::string("abc"));
    CHECK(s.size() == 3);
}
