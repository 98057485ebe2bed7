// Fuzz target firewall_rule: parse_rule on any bytes. An accepted rule round-trips through
// its canonical text, and the nft statement made from it stays one line of plain tokens
// (no quote, semicolon, comment sign or brace imbalance could reach the ruleset).
#include <bulkhead/dom0/firewall/ruleset.h>

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace bulkhead;
using namespace bulkhead::dom0::firewall;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    std::string raw(reinterpret_cast<char const*>(data), size);
    auto r = parse_rule(raw, 1000);
    if (!r)
        return 0;
    auto again = parse_rule(format_rule(*r), 1000);
    if (!again || !(*again == *r) || format_rule(*again) != format_rule(*r))
        std::abort();
    Resolver resolve = [](std::string const&) -> Result<std::vector<std::string>> {
        return std::vector<std::string>{"192.0.2.1"};
    };
    auto body = client_statements({*r}, 0, resolve);
    if (!body)
        std::abort();
    for (auto const& line : *body) {
        int depth = 0;
        for (char c : line) {
            if (c == '\n' || c == ';' || c == '#' || c == '"' || c == '\\' ||
                static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
                std::abort();
            depth += c == '{' ? 1 : c == '}' ? -1 : 0;
            if (depth < 0)
                std::abort();
        }
        if (depth != 0)
            std::abort();
    }
    return 0;
}
