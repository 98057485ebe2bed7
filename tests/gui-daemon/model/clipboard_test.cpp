// SecureClipboard: the global clipboard's state machine under a real qrexec policy.
#include "model_test_util.h"

using namespace model_test;

namespace {

std::vector<std::byte> bytes(std::string const& s) {
    std::vector<std::byte> out;
    for (char c : s)
        out.push_back(std::byte(c));
    return out;
}

struct Clip {
    policy::Policy policy = policy::Policy::parse_text(kPolicy, "clipboard.policy").value();
    policy::SystemInfo info = system_info();
    int checks = 0;
    SecureClipboard clip{[this](policy::Request const& r) {
                             ++checks;
                             CHECK(r.service == "qubes.ClipboardPaste");
                             return policy::evaluate(policy, r, info);
                         },
                         64000};
};

} // namespace

TEST_CASE("clipboard: copy then paste where policy allows; the paste clears it") {
    Clip c;
    CHECK(c.clip.state() == SecureClipboard::State::Empty);
    c.clip.request_copy("work");
    CHECK(c.clip.state() == SecureClipboard::State::CopyPending);
    auto n = c.clip.receive("work", bytes("report text"));
    REQUIRE(n);
    CHECK(n->kind == NotifyKind::ClipboardCopied);
    CHECK(n->source == "work");
    CHECK(n->bytes == 11);
    CHECK(c.clip.state() == SecureClipboard::State::Full);
    CHECK(c.clip.source() == "work");
    auto p = c.clip.paste("personal");
    REQUIRE(p);
    REQUIRE(p->has_value());
    CHECK((*p)->bytes == bytes("report text"));
    CHECK((*p)->notify.kind == NotifyKind::ClipboardPasted);
    CHECK((*p)->notify.source == "work");
    CHECK((*p)->notify.target == "personal");
    CHECK(c.clip.state() == SecureClipboard::State::Empty);
    auto again = c.clip.paste("personal");
    REQUIRE(again);
    CHECK_FALSE(again->has_value());
}

TEST_CASE("clipboard: policy deny keeps the clipboard, another target can still paste") {
    Clip c;
    c.clip.request_copy("work");
    REQUIRE(c.clip.receive("work", bytes("secret")));
    auto denied = c.clip.paste("vault");
    REQUIRE_FALSE(denied);
    CHECK(denied.error().code() == Errc::Denied);
    CHECK(c.clip.state() == SecureClipboard::State::Full);
    auto ok = c.clip.paste("personal");
    REQUIRE(ok);
    CHECK(ok->has_value());
}

TEST_CASE("clipboard: ask counts as allow for the key combination") {
    Clip c;
    c.clip.request_copy("personal");
    REQUIRE(c.clip.receive("personal", bytes("x")));
    auto p = c.clip.paste("untrusted"); // only the @anyvm ask rule matches
    REQUIRE(p);
    CHECK(p->has_value());
    CHECK(c.checks == 1);
}

TEST_CASE("clipboard: no rule means deny") {
    Clip c;
    c.policy = policy::Policy::parse_text("qubes.Other * @anyvm @anyvm allow\n").value();
    c.clip.request_copy("work");
    REQUIRE(c.clip.receive("work", bytes("x")));
    CHECK_FALSE(c.clip.paste("personal"));
}

TEST_CASE("clipboard: data nobody asked for is refused") {
    Clip c;
    auto r = c.clip.receive("untrusted", bytes("inject"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::Denied);
    c.clip.request_copy("work");
    CHECK_FALSE(c.clip.receive("untrusted", bytes("race")));
    CHECK(c.clip.state() == SecureClipboard::State::CopyPending); // work's request still stands
    REQUIRE(c.clip.receive("work", bytes("real")));
    CHECK(c.clip.source() == "work");
    CHECK_FALSE(c.clip.receive("work", bytes("second answer"))); // one answer per request
}

TEST_CASE("clipboard: size cap, default and configured") {
    Clip c;
    CHECK(c.clip.max_bytes() == 64000);
    c.clip.request_copy("work");
    REQUIRE(c.clip.receive("work", std::vector<std::byte>(64000)));
    c.clip.request_copy("work");
    auto over = c.clip.receive("work", std::vector<std::byte>(64001));
    REQUIRE_FALSE(over);
    CHECK(over.error().code() == Errc::Limit);
    CHECK(c.clip.state() == SecureClipboard::State::Empty);

    SecureClipboard small([](policy::Request const&) { return policy::Decision{policy::Deny{}}; },
                          4);
    small.request_copy("work");
    CHECK_FALSE(small.receive("work", bytes("12345")));
    small.request_copy("work");
    CHECK(small.receive("work", bytes("1234")));
}

TEST_CASE("clipboard: a new copy request drops the previous content at once") {
    Clip c;
    c.clip.request_copy("vault");
    REQUIRE(c.clip.receive("vault", bytes("vault secret")));
    c.clip.request_copy("work"); // the user asked for work's clipboard instead
    auto p = c.clip.paste("personal");
    REQUIRE(p);
    CHECK_FALSE(p->has_value());
    CHECK(c.checks == 0); // nothing to paste: no policy question
}

TEST_CASE("clipboard: an allow redirected to another target is not a paste here") {
    SecureClipboard clip([](policy::Request const&) {
        policy::Allow a;
        a.target = "vault";
        return policy::Decision{a};
    });
    clip.request_copy("work");
    REQUIRE(clip.receive("work", bytes("x")));
    CHECK_FALSE(clip.paste("personal"));
}

TEST_CASE("clipboard: a domain that goes away drops only its pending request") {
    Clip c;
    c.clip.request_copy("work");
    c.clip.forget_pending("personal");
    CHECK(c.clip.state() == SecureClipboard::State::CopyPending);
    c.clip.forget_pending("work");
    CHECK(c.clip.state() == SecureClipboard::State::Empty);
    CHECK_FALSE(c.clip.receive("work", bytes("late")));
}
