// Strict JSON: objects, arrays, strings (with \u escapes → UTF-8), numbers, true/false/null.
// Written for Bulkhead (no external dependency); bounded depth, no trailing garbage.
#include <bulkhead/policy/json.h>

#include <cmath>
#include <cstdlib>
#include <unordered_set>

namespace bulkhead::policy {

JsonValue const* JsonValue::find(std::string_view key) const {
    for (auto const& [k, v] : m_members)
        if (k == key)
            return &v;
    return nullptr;
}

class JsonParser {
public:
    explicit JsonParser(std::string_view s)
        : m_s(s) {}

    Result<JsonValue> run() {
        JsonValue v;
        if (!value(v, 0))
            return fail();
        ws();
        if (m_pos != m_s.size()) {
            m_err = "trailing characters";
            return fail();
        }
        return v;
    }

private:
    Unexpected fail() const {
        return unexpected(Errc::Invalid, "json: " + m_err + " at offset " + std::to_string(m_pos));
    }
    void ws() {
        while (m_pos < m_s.size() && (m_s[m_pos] == ' ' || m_s[m_pos] == '\t' ||
                                      m_s[m_pos] == '\n' || m_s[m_pos] == '\r'))
            ++m_pos;
    }
    bool literal(std::string_view word) {
        if (m_s.substr(m_pos, word.size()) != word) {
            m_err = "unexpected token";
            return false;
        }
        m_pos += word.size();
        return true;
    }
    bool value(JsonValue& v, int depth) {
        if (depth > JsonValue::kMaxDepth) {
            m_err = "nesting too deep";
            return false;
        }
        ws();
        if (m_pos >= m_s.size()) {
            m_err = "unexpected end";
            return false;
        }
        char c = m_s[m_pos];
        switch (c) {
        case '{':
            return object(v, depth);
        case '[':
            return array(v, depth);
        case '"':
            v.m_kind = JsonValue::Kind::String;
            return string(v.m_string);
        case 't':
            v.m_kind = JsonValue::Kind::Bool;
            v.m_bool = true;
            return literal("true");
        case 'f':
            v.m_kind = JsonValue::Kind::Bool;
            v.m_bool = false;
            return literal("false");
        case 'n':
            v.m_kind = JsonValue::Kind::Null;
            return literal("null");
        default:
            return number(v);
        }
    }
    bool object(JsonValue& v, int depth) {
        v.m_kind = JsonValue::Kind::Object;
        std::unordered_set<std::string> keys; // duplicate check without a quadratic scan
        ++m_pos;
        ws();
        if (m_pos < m_s.size() && m_s[m_pos] == '}') {
            ++m_pos;
            return true;
        }
        for (;;) {
            ws();
            if (m_pos >= m_s.size() || m_s[m_pos] != '"') {
                m_err = "expected string key";
                return false;
            }
            std::string key;
            if (!string(key))
                return false;
            if (!keys.insert(key).second) {
                m_err = "duplicate key";
                return false;
            }
            ws();
            if (m_pos >= m_s.size() || m_s[m_pos] != ':') {
                m_err = "expected ':'";
                return false;
            }
            ++m_pos;
            JsonValue child;
            if (!value(child, depth + 1))
                return false;
            v.m_members.emplace_back(std::move(key), std::move(child));
            ws();
            if (m_pos < m_s.size() && m_s[m_pos] == ',') {
                ++m_pos;
                continue;
            }
            if (m_pos < m_s.size() && m_s[m_pos] == '}') {
                ++m_pos;
                return true;
            }
            m_err = "expected ',' or '}'";
            return false;
        }
    }
    bool array(JsonValue& v, int depth) {
        v.m_kind = JsonValue::Kind::Array;
        ++m_pos;
        ws();
        if (m_pos < m_s.size() && m_s[m_pos] == ']') {
            ++m_pos;
            return true;
        }
        for (;;) {
            JsonValue child;
            if (!value(child, depth + 1))
                return false;
            v.m_items.push_back(std::move(child));
            ws();
            if (m_pos < m_s.size() && m_s[m_pos] == ',') {
                ++m_pos;
                continue;
            }
            if (m_pos < m_s.size() && m_s[m_pos] == ']') {
                ++m_pos;
                return true;
            }
            m_err = "expected ',' or ']'";
            return false;
        }
    }
    bool hex4(uint32_t& out) {
        if (m_s.size() - m_pos < 4) {
            m_err = "short \\u escape";
            return false;
        }
        out = 0;
        for (int i = 0; i < 4; ++i) {
            char c = m_s[m_pos++];
            out <<= 4;
            if (c >= '0' && c <= '9')
                out |= uint32_t(c - '0');
            else if (c >= 'a' && c <= 'f')
                out |= uint32_t(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                out |= uint32_t(c - 'A' + 10);
            else {
                m_err = "bad \\u escape";
                return false;
            }
        }
        return true;
    }
    static void utf8(std::string& out, uint32_t cp) {
        if (cp < 0x80) {
            out += char(cp);
        } else if (cp < 0x800) {
            out += char(0xC0 | (cp >> 6));
            out += char(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += char(0xE0 | (cp >> 12));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
        } else {
            out += char(0xF0 | (cp >> 18));
            out += char(0x80 | ((cp >> 12) & 0x3F));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
        }
    }
    bool string(std::string& out) {
        ++m_pos; // opening quote
        size_t start = m_pos;
        for (;;) {
            if (m_pos >= m_s.size()) {
                m_err = "unterminated string";
                return false;
            }
            unsigned char c = static_cast<unsigned char>(m_s[m_pos]);
            if (c == '"') {
                ++m_pos;
                break;
            }
            if (c < 0x20) {
                m_err = "control character in string";
                return false;
            }
            if (c != '\\') {
                out += char(c);
                ++m_pos;
                continue;
            }
            if (++m_pos >= m_s.size()) {
                m_err = "unterminated escape";
                return false;
            }
            char e = m_s[m_pos++];
            switch (e) {
            case '"':
                out += '"';
                break;
            case '\\':
                out += '\\';
                break;
            case '/':
                out += '/';
                break;
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case 'u': {
                uint32_t cp;
                if (!hex4(cp))
                    return false;
                if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    m_err = "lone low surrogate";
                    return false;
                }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t lo;
                    if (m_s.substr(m_pos, 2) != "\\u") {
                        m_err = "lone high surrogate";
                        return false;
                    }
                    m_pos += 2;
                    if (!hex4(lo))
                        return false;
                    if (lo < 0xDC00 || lo > 0xDFFF) {
                        m_err = "bad surrogate pair";
                        return false;
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                utf8(out, cp);
                break;
            }
            default:
                m_err = "bad escape";
                return false;
            }
        }
        (void)start;
        if (!is_valid_utf8_str(out)) {
            m_err = "invalid UTF-8 in string";
            return false;
        }
        return true;
    }
    static bool is_valid_utf8_str(std::string const& s);
    bool number(JsonValue& v) {
        size_t start = m_pos;
        auto digit = [&] { return m_pos < m_s.size() && m_s[m_pos] >= '0' && m_s[m_pos] <= '9'; };
        if (m_pos < m_s.size() && m_s[m_pos] == '-')
            ++m_pos;
        if (!digit()) {
            m_err = "unexpected character";
            return false;
        }
        if (m_s[m_pos] == '0') {
            ++m_pos;
        } else {
            while (digit())
                ++m_pos;
        }
        if (m_pos < m_s.size() && m_s[m_pos] == '.') {
            ++m_pos;
            if (!digit()) {
                m_err = "bad number";
                return false;
            }
            while (digit())
                ++m_pos;
        }
        if (m_pos < m_s.size() && (m_s[m_pos] == 'e' || m_s[m_pos] == 'E')) {
            ++m_pos;
            if (m_pos < m_s.size() && (m_s[m_pos] == '+' || m_s[m_pos] == '-'))
                ++m_pos;
            if (!digit()) {
                m_err = "bad number";
                return false;
            }
            while (digit())
                ++m_pos;
        }
        std::string text(m_s.substr(start, m_pos - start));
        v.m_kind = JsonValue::Kind::Number;
        v.m_number = std::strtod(text.c_str(), nullptr);
        return true;
    }

    std::string_view m_s;
    size_t m_pos = 0;
    std::string m_err;
};

} // namespace bulkhead::policy

#include <bulkhead/base/text.h>

namespace bulkhead::policy {

bool JsonParser::is_valid_utf8_str(std::string const& s) {
    return bulkhead::text::is_valid_utf8(s);
}

Result<JsonValue> JsonValue::parse(std::string_view text) {
    if (text.size() > (16u << 20))
        return unexpected(Errc::Limit, "json: document too large");
    return JsonParser(text).run();
}

} // namespace bulkhead::policy
