// HostResolver: dsthost names to IPv4 addresses for the netvm rulesets, bounded in time.
// The ruleset is made under the domain manager's network lock, so a slow or unreachable DNS
// server must not hold every plug and rule change behind it: a lookup that does not answer
// within `deadline` counts as unresolvable (the client's chain then drops everything: fail
// closed) and goes on in the background; its answer is cached for the next ruleset. Answers
// are kept for `ttl` (failures for `negative_ttl`). At most `max_pending` lookups run at once;
// past that a new name fails at once. Thread-safe.
#pragma once

#include <bulkhead/dom0/firewall/ruleset.h>

#include <chrono>
#include <memory>

namespace bulkhead::dom0::firewall {

class HostResolver {
public:
    struct Options {
        std::chrono::milliseconds deadline{2000};
        std::chrono::seconds ttl{60};
        std::chrono::seconds negative_ttl{10};
        size_t max_pending = 8;
    };
    // lookup: the real resolution (default: getaddrinfo, IPv4); tests pass a slow fake.
    explicit HostResolver(Options options, Resolver lookup = {});
    ~HostResolver();
    HostResolver(HostResolver const&) = delete;

    Result<std::vector<std::string>> resolve(std::string const& host);
    // As a Resolver for netvm_ruleset (refers to *this).
    Resolver as_resolver();

private:
    struct State;
    std::shared_ptr<State> m; // shared with lookups still running in the background
};

// getaddrinfo, IPv4 only: the addresses in dotted-quad form.
Result<std::vector<std::string>> system_resolve_v4(std::string const& host);

} // namespace bulkhead::dom0::firewall
