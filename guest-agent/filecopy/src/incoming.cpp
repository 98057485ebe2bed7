// ~/QubesIncoming/<domain>: where the qubes.Filecopy service writes, opened without following
// any symlink below the home directory.
#include <bulkhead/filecopy/unpack.h>

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/text.h>

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
    return text::is_domain_name(name);
}

Result<UniqueFd> open_incoming_dir(std::string const& home, std::string_view source_domain,
                                   std::optional<std::pair<uid_t, gid_t>> owner) {
    if (!valid_domain_name(source_domain))
        return unexpected(Errc::Invalid, "not a domain name");
    auto home_fd = TRY(sys::open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    auto incoming = TRY(make_and_open(home_fd.get(), "QubesIncoming", owner));
    return make_and_open(incoming.get(), std::string(source_domain), owner);
}

Result<UnpackOptions> load_unpack_options(std::vector<std::string> const& paths,
                                          UnpackOptions options) {
    for (auto const& path : paths) {
        auto text = sys::read_file(path, 64 * 1024);
        if (!text) {
            if (text.error().sys_errno() == ENOENT)
                continue;
            return std::move(text).error().prefix(path);
        }
        int line_no = 0;
        for (auto const& raw : text::split(*text, '\n')) {
            ++line_no;
            std::string_view whole = raw;
            auto line = text::trim(whole.substr(0, whole.find('#')));
            if (line.empty())
                continue;
            auto where = path + ":" + std::to_string(line_no);
            auto eq = line.find('=');
            if (eq == std::string_view::npos)
                return unexpected(Errc::Invalid, where + ": expected KEY = VALUE");
            auto key = text::trim(line.substr(0, eq));
            auto value = text::trim(line.substr(eq + 1));
            uint64_t scale = 1;
            if (!value.empty()) {
                switch (value.back()) {
                case 'K':
                    scale = uint64_t(1) << 10;
                    break;
                case 'M':
                    scale = uint64_t(1) << 20;
                    break;
                case 'G':
                    scale = uint64_t(1) << 30;
                    break;
                default:
                    break;
                }
                if (scale != 1)
                    value.remove_suffix(1);
            }
            auto n = text::parse_u64(value);
            if (!n || *n == 0 || *n > ~uint64_t(0) / scale)
                return unexpected(Errc::Invalid, where + ": bad value for " + std::string(key));
            if (key == "max_bytes")
                options.max_bytes = *n * scale;
            else if (key == "max_files")
                options.max_files = *n * scale;
            else
                return unexpected(Errc::Invalid, where + ": unknown key " + std::string(key));
        }
    }
    return options;
}

} // namespace bulkhead::filecopy
