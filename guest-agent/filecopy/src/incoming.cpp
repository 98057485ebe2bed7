// ~/QubesIncoming/<domain>: where the qubes.Filecopy service writes, opened without following
// any symlink below the home directory.
#include <bulkhead/filecopy/unpack.h>

#include <bulkhead/base/sys/fd.h>

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bulkhead::filecopy {

namespace {

Result<UniqueFd> make_and_open(int parent, std::string const& name,
                               std::optional<std::pair<uid_t, gid_t>> owner) {
    bool created = ::mkdirat(parent, name.c_str(), 0700) == 0;
    if (!created && errno != EEXIST)
        return Error::from_errno("mkdirat " + name, errno);
    int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno("openat " + name, errno);
    UniqueFd dir(fd);
    if (created && owner && ::fchown(fd, owner->first, owner->second) < 0)
        return Error::from_errno("fchown " + name, errno);
    return dir;
}

} // namespace

bool valid_domain_name(std::string_view name) {
    if (name.empty() || name.size() > 31)
        return false;
    auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    if (!alpha(name[0]))
        return false;
    for (char c : name)
        if (!alpha(c) && !(c >= '0' && c <= '9') && c != '_' && c != '.' && c != '-')
            return false;
    return true;
}

Result<UniqueFd> open_incoming_dir(std::string const& home, std::string_view source_domain,
                                   std::optional<std::pair<uid_t, gid_t>> owner) {
    if (!valid_domain_name(source_domain))
        return unexpected(Errc::Invalid, "not a domain name");
    auto home_fd = TRY(sys::open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    auto incoming = TRY(make_and_open(home_fd.get(), "QubesIncoming", owner));
    return make_and_open(incoming.get(), std::string(source_domain), owner);
}

} // namespace bulkhead::filecopy
