// A small strict JSON parser (RFC 8259) for the system-info file dom0 hands the policy engine.
// Called by SystemInfo::from_json. Input is dom0-trusted but treated as hostile anyway:
// bounded depth and size, no recursion beyond kMaxDepth, duplicate keys rejected.
#pragma once

#include <bulkhead/base/result.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bulkhead::policy {

class JsonValue {
public:
    enum class Kind { Null, Bool, Number, String, Array, Object };
    static constexpr int kMaxDepth = 64;

    Kind kind() const { return m_kind; }
    bool is(Kind k) const { return m_kind == k; }
    bool as_bool() const { return m_bool; }
    double as_number() const { return m_number; }
    std::string const& as_string() const { return m_string; }
    std::vector<JsonValue> const& items() const { return m_items; }
    std::vector<std::pair<std::string, JsonValue>> const& members() const { return m_members; }
    // Object member by key, or nullptr.
    JsonValue const* find(std::string_view key) const;

    static Result<JsonValue> parse(std::string_view text);

private:
    friend class JsonParser;
    Kind m_kind = Kind::Null;
    bool m_bool = false;
    double m_number = 0;
    std::string m_string;
    std::vector<JsonValue> m_items;
    std::vector<std::pair<std::string, JsonValue>> m_members;
};

} // namespace bulkhead::policy
