#include <bulkhead/agent/passwd.h>

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/text.h>

namespace bulkhead::agent {

namespace {

std::optional<uint32_t> parse_id(std::string_view s) {
    auto v = text::parse_u64(s);
    if (!v || *v > 0xfffffffeu)
        return std::nullopt;
    return uint32_t(*v);
}

} // namespace

std::optional<PasswdEntry> find_user(std::string_view passwd_text, std::string_view name) {
    if (name.empty())
        return std::nullopt;
    for (auto const& line : text::split(passwd_text, '\n')) {
        auto f = text::split(line, ':');
        if (f.size() != 7 || f[0] != name)
            continue;
        auto uid = parse_id(f[2]);
        auto gid = parse_id(f[3]);
        if (!uid || !gid)
            continue;
        return PasswdEntry{f[0], *uid, *gid, f[5].empty() ? "/" : f[5],
                           f[6].empty() ? "/bin/sh" : f[6]};
    }
    return std::nullopt;
}

std::vector<gid_t> groups_of(std::string_view group_text, std::string_view user) {
    std::vector<gid_t> out;
    for (auto const& line : text::split(group_text, '\n')) {
        auto f = text::split(line, ':');
        if (f.size() != 4)
            continue;
        auto gid = parse_id(f[2]);
        if (!gid)
            continue;
        for (auto const& member : text::split(f[3], ','))
            if (member == user)
                out.push_back(*gid);
    }
    return out;
}

Result<std::optional<PasswdEntry>> lookup_user(std::string_view name, std::string const& passwd) {
    auto text = sys::read_file(passwd, 4u << 20);
    if (!text && text.error().code() != Errc::NotFound)
        return std::move(text).error();
    if (text)
        if (auto e = find_user(*text, name))
            return e;
    if (name == "root")
        return std::optional(PasswdEntry{"root", 0, 0, "/root", "/bin/sh"});
    return std::optional<PasswdEntry>();
}

std::vector<gid_t> lookup_groups(std::string_view user, std::string const& group) {
    auto text = sys::read_file(group, 4u << 20);
    return text ? groups_of(*text, user) : std::vector<gid_t>{};
}

} // namespace bulkhead::agent
