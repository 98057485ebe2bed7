#include <bulkhead/dom0/ask/ask_agent.h>
#include <bulkhead/policy/json.h>

#include <algorithm>
#include <cstdio>

namespace bulkhead::dom0 {
namespace {

using policy::JsonValue;

void put_string(std::string& out, std::string_view s) {
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(c));
                out += buf;
            } else {
                out += char(c);
            }
        }
    }
    out += '"';
}

std::string color_hex(uint32_t color) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "#%06x", unsigned(color & 0xffffff));
    return buf;
}

Result<std::string> string_member(JsonValue const& obj, std::string_view key) {
    auto const* v = obj.find(key);
    if (!v || !v->is(JsonValue::Kind::String))
        return unexpected(Errc::Invalid,
                          "ask question: '" + std::string(key) + "' is not a string");
    return v->as_string();
}

Result<uint32_t> parse_color(std::string const& s) {
    if (s.size() != 7 || s[0] != '#')
        return unexpected(Errc::Invalid, "ask question: bad color");
    uint32_t v = 0;
    for (size_t i = 1; i < 7; ++i) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return unexpected(Errc::Invalid, "ask question: bad color");
        v = v * 16 + uint32_t(d);
    }
    return v;
}

} // namespace

std::string to_json(AskQuestion const& q) {
    std::string out = "{\"source\":";
    put_string(out, q.source);
    out += ",\"service\":";
    put_string(out, q.service);
    out += ",\"argument\":";
    put_string(out, q.argument);
    out += ",\"default_target\":";
    if (q.default_target)
        put_string(out, *q.default_target);
    else
        out += "null";
    out += ",\"targets\":[";
    for (size_t i = 0; i < q.targets.size(); ++i) {
        if (i)
            out += ',';
        out += "{\"name\":";
        put_string(out, q.targets[i].name);
        out += ",\"label\":";
        put_string(out, q.targets[i].label);
        out += ",\"color\":";
        put_string(out, color_hex(q.targets[i].color));
        out += '}';
    }
    out += "]}\n";
    return out;
}

Result<AskQuestion> question_from_json(std::string_view text) {
    auto doc = TRY(JsonValue::parse(text));
    if (!doc.is(JsonValue::Kind::Object))
        return unexpected(Errc::Invalid, "ask question: not an object");
    AskQuestion q;
    q.source = TRY(string_member(doc, "source"));
    q.service = TRY(string_member(doc, "service"));
    q.argument = TRY(string_member(doc, "argument"));
    auto const* targets = doc.find("targets");
    if (!targets || !targets->is(JsonValue::Kind::Array))
        return unexpected(Errc::Invalid, "ask question: 'targets' is not an array");
    for (auto const& t : targets->items()) {
        if (!t.is(JsonValue::Kind::Object))
            return unexpected(Errc::Invalid, "ask question: a target is not an object");
        AskTarget at;
        at.name = TRY(string_member(t, "name"));
        at.label = TRY(string_member(t, "label"));
        at.color = TRY(parse_color(TRY(string_member(t, "color"))));
        if (at.name.empty())
            return unexpected(Errc::Invalid, "ask question: empty target name");
        q.targets.push_back(std::move(at));
    }
    auto const* def = doc.find("default_target");
    if (def && def->is(JsonValue::Kind::String)) {
        q.default_target = def->as_string();
        if (std::none_of(q.targets.begin(), q.targets.end(),
                         [&](AskTarget const& t) { return t.name == *q.default_target; }))
            return unexpected(Errc::Invalid, "ask question: the default target is not offered");
    } else if (def && !def->is(JsonValue::Kind::Null)) {
        return unexpected(Errc::Invalid, "ask question: bad 'default_target'");
    }
    return q;
}

std::optional<std::string> accept_answer(AskQuestion const& q, std::string_view answer) {
    if (!answer.empty() && answer.back() == '\n')
        answer.remove_suffix(1);
    if (answer.empty() || answer.find('\n') != std::string_view::npos)
        return std::nullopt;
    for (auto const& t : q.targets)
        if (t.name == answer)
            return t.name;
    return std::nullopt;
}

} // namespace bulkhead::dom0
