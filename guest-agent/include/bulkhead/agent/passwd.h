// /etc/passwd and /etc/group parsing without NSS (the agent is linked statically and runs in a
// busybox root). Trusts the files only as far as their format: malformed lines are skipped.
// Callers: the agent (who runs a command) and its tests.
#pragma once

#include <bulkhead/base/result.h>

#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace bulkhead::agent {

struct PasswdEntry {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string home;
    std::string shell;
};

// The entry for name in passwd-format text; nullopt when there is none.
std::optional<PasswdEntry> find_user(std::string_view passwd_text, std::string_view name);
// Supplementary groups of user in group-format text (groups listing it as a member).
std::vector<gid_t> groups_of(std::string_view group_text, std::string_view user);

// From files (default /etc/passwd, /etc/group). `root` always resolves, even without a file.
Result<std::optional<PasswdEntry>> lookup_user(std::string_view name,
                                               std::string const& passwd = "/etc/passwd");
std::vector<gid_t> lookup_groups(std::string_view user, std::string const& group = "/etc/group");

} // namespace bulkhead::agent
