#include "common.h"

#include <bulkhead/base/text.h>
#include <bulkhead/dom0/api/framing.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <set>

namespace bulkhead::dom0::cli {

std::string socket_path(Args const& args) {
    auto p = args.value("admin-socket");
    return p.empty() ? api::default_socket_path() : p;
}

std::optional<Session> Session::open(Args const& args, int* status) {
    auto path = socket_path(args);
    auto c = ApiClient::connect(path);
    if (!c) {
        *status = args.fail("cannot reach the admin API (is bulkheadd running?): " +
                            safe(c.error().message()));
        return std::nullopt;
    }
    return Session(args, std::move(*c));
}

std::optional<admin::Ok> Session::call(admin::Request const& req) {
    auto r = m_client.call_ok(req);
    if (!r) {
        m_args.fail(safe(r.error().message()));
        return std::nullopt;
    }
    return std::move(*r);
}

std::optional<std::vector<admin::DomainInfo>> Session::domains(bool with_properties) {
    admin::Request req;
    req.mutable_list_domains()->set_with_properties(with_properties);
    auto ok = call(req);
    if (!ok)
        return std::nullopt;
    std::vector<admin::DomainInfo> out(ok->domains().begin(), ok->domains().end());
    std::sort(out.begin(), out.end(),
              [](auto const& a, auto const& b) { return a.name() < b.name(); });
    return out;
}

std::string safe(std::string_view s) {
    std::string out;
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    return out;
}

std::optional<int> check_domain_selection(Args& args) {
    bool all = args.has("all");
    if (!all && args.positionals().empty())
        return args.usage_error("one of the arguments --all VMNAME is required");
    if (all && !args.positionals().empty())
        return args.usage_error("--all and VMNAME are mutually exclusive");
    if (args.has("exclude") && !all)
        return args.usage_error("--exclude requires --all");
    return std::nullopt;
}

std::optional<std::vector<admin::DomainInfo>>
select_domains(Session& s, std::vector<std::string> const& names, bool all, bool with_properties) {
    auto& args = s.args();
    auto doms = s.domains(with_properties);
    if (!doms)
        return std::nullopt;
    std::vector<admin::DomainInfo> out;
    if (all) {
        auto ex = args.values("exclude");
        std::set<std::string> excluded(ex.begin(), ex.end());
        for (auto const& d : *doms)
            if (d.klass() != "AdminVM" && !excluded.count(d.name()))
                out.push_back(d);
        return out;
    }
    for (auto const& n : names) {
        auto it =
            std::find_if(doms->begin(), doms->end(), [&](auto const& d) { return d.name() == n; });
        if (it == doms->end()) {
            args.fail("no such domain: '" + text::escape(n) + "'");
            return std::nullopt;
        }
        out.push_back(*it);
    }
    return out;
}

void print_table(std::vector<std::vector<std::string>> const& rows) {
    std::vector<size_t> width;
    for (auto const& r : rows)
        for (size_t i = 0; i < r.size(); ++i) {
            if (width.size() <= i)
                width.push_back(0);
            width[i] = std::max(width[i], r[i].size());
        }
    for (auto const& r : rows) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size())
                line += std::string(width[i] - r[i].size() + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        std::printf("%s\n", line.c_str());
    }
}

bool confirm(std::string const& question) {
    std::printf("%s [y/N] ", question.c_str());
    std::fflush(stdout);
    std::string answer;
    if (!std::getline(std::cin, answer))
        return false;
    auto a = std::string(text::trim(answer));
    std::transform(a.begin(), a.end(), a.begin(), [](unsigned char c) { return std::tolower(c); });
    return a == "y" || a == "yes";
}

} // namespace bulkhead::dom0::cli
