#include "args.h"

#include <algorithm>
#include <cstdio>

namespace bulkhead::dom0::cli {

Args::Args(std::string prog, std::string usage, std::string description)
    : m_prog(std::move(prog))
    , m_usage(std::move(usage))
    , m_description(std::move(description)) {
    flag("help", 'h', "show this help message and exit");
    flag("verbose", 'v', "increase verbosity");
    flag("quiet", 'q', "decrease verbosity");
    option("admin-socket", 0, "PATH", ""); // hidden: the admin API socket to use
}

Args& Args::flag(std::string name, char short_name, std::string help) {
    m_opts.push_back({{std::move(name)}, short_name, {}, std::move(help)});
    return *this;
}

Args& Args::option(std::string name, char short_name, std::string metavar, std::string help) {
    m_opts.push_back({{std::move(name)}, short_name, std::move(metavar), std::move(help)});
    return *this;
}

Args& Args::alias(std::string name) {
    m_opts.back().names.push_back(std::move(name));
    return *this;
}

Args& Args::epilog(std::string text) {
    m_epilog = std::move(text);
    return *this;
}

Args::Opt const* Args::find_long(std::string_view name) const {
    for (auto const& o : m_opts)
        for (auto const& n : o.names)
            if (n == name)
                return &o;
    return nullptr;
}

Args::Opt const* Args::find_short(char c) const {
    for (auto const& o : m_opts)
        if (o.short_name && o.short_name == c)
            return &o;
    return nullptr;
}

std::optional<int> Args::parse(int argc, char** argv) {
    bool only_positionals = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (only_positionals || a.size() < 2 || a[0] != '-') {
            m_positionals.emplace_back(a);
            continue;
        }
        if (a == "--") {
            only_positionals = true;
            continue;
        }
        auto take_value = [&](Opt const& o, std::string_view shown) -> std::optional<int> {
            if (i + 1 >= argc)
                return usage_error("argument " + std::string(shown) + ": expected one argument");
            m_seen.emplace_back(o.names[0], argv[++i]);
            return std::nullopt;
        };
        if (a.substr(0, 2) == "--") {
            auto body = a.substr(2);
            auto eq = body.find('=');
            auto name = body.substr(0, eq);
            auto const* o = find_long(name);
            if (!o)
                return usage_error("unrecognized arguments: " + std::string(a));
            if (o->metavar.empty()) {
                if (eq != std::string_view::npos)
                    return usage_error("argument --" + std::string(name) +
                                       ": ignored explicit argument '" +
                                       std::string(body.substr(eq + 1)) + "'");
                m_seen.emplace_back(o->names[0], "");
            } else if (eq != std::string_view::npos) {
                m_seen.emplace_back(o->names[0], std::string(body.substr(eq + 1)));
            } else if (auto r = take_value(*o, a)) {
                return r;
            }
            continue;
        }
        for (size_t j = 1; j < a.size(); ++j) { // -abc, -xVALUE, -x VALUE
            auto const* o = find_short(a[j]);
            if (!o)
                return usage_error("unrecognized arguments: " + std::string(a));
            if (o->metavar.empty()) {
                m_seen.emplace_back(o->names[0], "");
                continue;
            }
            if (j + 1 < a.size())
                m_seen.emplace_back(o->names[0], std::string(a.substr(j + 1)));
            else if (auto r = take_value(*o, std::string("-") + a[j]))
                return r;
            break;
        }
    }
    if (has("help")) {
        print_help();
        return 0;
    }
    return std::nullopt;
}

bool Args::has(std::string_view name) const {
    return count(name) > 0;
}

int Args::count(std::string_view name) const {
    return int(std::count_if(m_seen.begin(), m_seen.end(),
                             [&](auto const& s) { return s.first == name; }));
}

std::string Args::value(std::string_view name, std::string fallback) const {
    for (auto it = m_seen.rbegin(); it != m_seen.rend(); ++it)
        if (it->first == name)
            return it->second;
    return fallback;
}

std::vector<std::string> Args::values(std::string_view name) const {
    std::vector<std::string> out;
    for (auto const& s : m_seen)
        if (s.first == name)
            out.push_back(s.second);
    return out;
}

int Args::usage_error(std::string const& msg) const {
    std::fprintf(stderr, "usage: %s %s\n%s: error: %s\n", m_prog.c_str(), m_usage.c_str(),
                 m_prog.c_str(), msg.c_str());
    return 2;
}

int Args::fail(std::string const& msg) const {
    std::fprintf(stderr, "%s: error: %s\n", m_prog.c_str(), msg.c_str());
    return 1;
}

void Args::print_help() const {
    std::printf("usage: %s %s\n\n%s\n\noptions:\n", m_prog.c_str(), m_usage.c_str(),
                m_description.c_str());
    for (auto const& o : m_opts) {
        if (o.help.empty())
            continue;
        std::string left = "  ";
        if (o.short_name)
            left +=
                std::string("-") + o.short_name + (o.metavar.empty() ? "" : " " + o.metavar) + ", ";
        for (size_t k = 0; k < o.names.size(); ++k)
            left += (k ? ", --" : "--") + o.names[k] + (o.metavar.empty() ? "" : " " + o.metavar);
        if (left.size() < 30)
            std::printf("%-30s%s\n", left.c_str(), o.help.c_str());
        else
            std::printf("%s\n%30s%s\n", left.c_str(), "", o.help.c_str());
    }
    if (!m_epilog.empty())
        std::printf("\n%s\n", m_epilog.c_str());
}

} // namespace bulkhead::dom0::cli
