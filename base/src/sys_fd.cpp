#include <bulkhead/base/sys/fd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace bulkhead::sys {

namespace {
Error err(char const* call, std::string const& what = {}) {
    int e = errno;
    return Error::from_errno(what.empty() ? std::string(call) : std::string(call) + " " + what, e);
}
} // namespace

Result<UniqueFd> open(std::string const& path, int flags, mode_t mode) {
    return openat(AT_FDCWD, path, flags, mode);
}

Result<UniqueFd> openat(int dirfd, std::string const& path, int flags, mode_t mode) {
    for (;;) {
        int fd = ::openat(dirfd, path.c_str(), flags | O_CLOEXEC, mode);
        if (fd >= 0)
            return UniqueFd(fd);
        if (errno != EINTR)
            return err("open", path);
    }
}

Result<size_t> read(int fd, std::span<std::byte> buf) {
    for (;;) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n >= 0)
            return size_t(n);
        if (errno != EINTR)
            return err("read");
    }
}

Result<size_t> write(int fd, std::span<std::byte const> buf) {
    for (;;) {
        ssize_t n = ::write(fd, buf.data(), buf.size());
        if (n >= 0)
            return size_t(n);
        if (errno != EINTR)
            return err("write");
    }
}

Result<void> write_all(int fd, std::span<std::byte const> buf) {
    while (!buf.empty()) {
        size_t n = TRY(write(fd, buf));
        buf = buf.subspan(n);
    }
    return {};
}

Result<void> write_all(int fd, std::string_view text) {
    return write_all(fd, std::as_bytes(std::span(text.data(), text.size())));
}

Result<void> read_exact(int fd, std::span<std::byte> buf) {
    while (!buf.empty()) {
        size_t n = TRY(read(fd, buf));
        if (n == 0)
            return unexpected(Errc::Closed, "read: end of stream");
        buf = buf.subspan(n);
    }
    return {};
}

Result<std::string> read_to_end(int fd, size_t max) {
    std::string out;
    char chunk[65536];
    for (;;) {
        size_t n = TRY(read(fd, std::as_writable_bytes(std::span(chunk))));
        if (n == 0)
            return out;
        if (out.size() + n > max)
            return unexpected(Errc::Limit, "read: more than " + std::to_string(max) + " bytes");
        out.append(chunk, n);
    }
}

Result<std::string> read_file(std::string const& path, size_t max) {
    auto fd = TRY(open(path, O_RDONLY));
    return TRY_CTX(read_to_end(fd.get(), max), path);
}

Result<void> write_file_atomic(std::string const& path, std::string_view data, mode_t mode) {
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    {
        auto fd = TRY(open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode));
        TRY(write_all(fd.get(), data));
        TRY(fsync(fd.get()));
    }
    return rename(tmp, path);
}

namespace {

// Up to buf.size() bytes (fewer only at EOF).
Result<size_t> read_some_full(int fd, std::span<std::byte> buf) {
    size_t got = 0;
    while (got < buf.size()) {
        ssize_t n = ::read(fd, buf.data() + got, buf.size() - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err("read");
        if (n == 0)
            break;
        got += static_cast<size_t>(n);
    }
    return got;
}

Result<bool> same_contents(int a, int b) {
    std::vector<std::byte> x(64 * 1024), y(64 * 1024);
    for (;;) {
        auto na = TRY(read_some_full(a, x));
        auto nb = TRY(read_some_full(b, y));
        if (na != nb || std::memcmp(x.data(), y.data(), na) != 0)
            return false;
        if (na == 0)
            return true;
    }
}

} // namespace

Result<bool> install_file(std::string const& src, std::string const& dst, mode_t mode) {
    auto in = TRY(open(src, O_RDONLY | O_CLOEXEC));
    if (auto old = open(dst, O_RDONLY | O_CLOEXEC | O_NOFOLLOW); old) {
        auto a = TRY(fstat(in.get()));
        auto b = TRY(fstat(old->get()));
        if (a.st_size == b.st_size && (b.st_mode & 07777) == mode &&
            TRY(same_contents(in.get(), old->get())))
            return false;
        if (::lseek(in.get(), 0, SEEK_SET) < 0)
            return err("lseek", src);
    }
    std::string tmp = dst + ".tmp." + std::to_string(::getpid());
    {
        auto out = TRY(open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
        if (::fchmod(out.get(), mode) < 0) // not narrowed by the umask
            return err("fchmod", tmp);
        std::vector<std::byte> buf(64 * 1024);
        for (;;) {
            auto n = TRY(read_some_full(in.get(), buf));
            if (n == 0)
                break;
            TRY(write_all(out.get(), std::span<std::byte const>(buf.data(), n)));
        }
        TRY(fsync(out.get()));
    }
    TRY(rename(tmp, dst));
    return true;
}

Result<std::pair<UniqueFd, UniqueFd>> pipe(int flags) {
    int fds[2];
    if (::pipe2(fds, flags) < 0)
        return err("pipe2");
    return std::pair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Result<UniqueFd> dup(int fd) {
    int r = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (r < 0)
        return err("dup");
    return UniqueFd(r);
}

Result<void> dup2(int from, int to) {
    if (::dup2(from, to) < 0)
        return err("dup2");
    return {};
}

Result<void> set_nonblocking(int fd, bool on) {
    int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0)
        return err("fcntl(F_GETFL)");
    fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
    if (::fcntl(fd, F_SETFL, fl) < 0)
        return err("fcntl(F_SETFL)");
    return {};
}

Result<void> set_cloexec(int fd, bool on) {
    if (::fcntl(fd, F_SETFD, on ? FD_CLOEXEC : 0) < 0)
        return err("fcntl(F_SETFD)");
    return {};
}

Result<struct stat> fstat(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) < 0)
        return err("fstat");
    return st;
}

Result<struct stat> stat(std::string const& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) < 0)
        return err("stat", path);
    return st;
}

Result<struct stat> lstat(std::string const& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) < 0)
        return err("lstat", path);
    return st;
}

bool exists(std::string const& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

Result<void> mkdir(std::string const& path, mode_t mode) {
    if (::mkdir(path.c_str(), mode) < 0 && errno != EEXIST)
        return err("mkdir", path);
    return {};
}

Result<void> mkdir_p(std::string const& path, mode_t mode) {
    for (size_t pos = 1; pos <= path.size(); ++pos) {
        if (pos == path.size() || path[pos] == '/')
            TRY(mkdir(path.substr(0, pos), mode));
    }
    return {};
}

Result<void> unlink(std::string const& path) {
    if (::unlink(path.c_str()) < 0 && errno != ENOENT)
        return err("unlink", path);
    return {};
}

Result<void> rmdir(std::string const& path) {
    if (::rmdir(path.c_str()) < 0 && errno != ENOENT)
        return err("rmdir", path);
    return {};
}

namespace {
Result<void> remove_at(int dirfd, std::string const& name) {
    if (::unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT)
        return {};
    if (errno != EISDIR && errno != EPERM)
        return err("unlinkat", name);
    auto sub = TRY(openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    DIR* d = ::fdopendir(::fcntl(sub.get(), F_DUPFD_CLOEXEC, 3));
    if (!d)
        return err("fdopendir", name);
    std::vector<std::string> names;
    while (auto* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..")
            names.push_back(n);
    }
    ::closedir(d);
    for (auto const& n : names)
        TRY(remove_at(sub.get(), n));
    if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT)
        return err("rmdir", name);
    return {};
}
} // namespace

Result<void> remove_tree(std::string const& path) {
    if (!exists(path))
        return {};
    return remove_at(AT_FDCWD, path);
}

Result<void> rename(std::string const& from, std::string const& to) {
    if (::rename(from.c_str(), to.c_str()) < 0)
        return err("rename", from);
    return {};
}

Result<void> chmod(std::string const& path, mode_t mode) {
    if (::chmod(path.c_str(), mode) < 0)
        return err("chmod", path);
    return {};
}

Result<void> chown(std::string const& path, uid_t uid, gid_t gid) {
    if (::lchown(path.c_str(), uid, gid) < 0)
        return err("chown", path);
    return {};
}

Result<void> symlink(std::string const& target, std::string const& link) {
    if (::symlink(target.c_str(), link.c_str()) < 0)
        return err("symlink", link);
    return {};
}

Result<void> link(std::string const& from, std::string const& to) {
    if (::link(from.c_str(), to.c_str()) < 0)
        return err("link", to);
    return {};
}

Result<std::string> readlink(std::string const& path) {
    char buf[PATH_MAX];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    if (n < 0)
        return err("readlink", path);
    return std::string(buf, size_t(n));
}

Result<void> fsync(int fd) {
    if (::fsync(fd) < 0)
        return err("fsync");
    return {};
}

Result<void> ftruncate(int fd, off_t size) {
    if (::ftruncate(fd, size) < 0)
        return err("ftruncate");
    return {};
}

Result<UniqueFd> memfd_create(std::string const& name, unsigned flags) {
    int fd = ::memfd_create(name.c_str(), flags | MFD_CLOEXEC);
    if (fd < 0)
        return err("memfd_create");
    return UniqueFd(fd);
}

Result<std::vector<std::string>> list_dir(std::string const& path) {
    DIR* d = ::opendir(path.c_str());
    if (!d)
        return err("opendir", path);
    std::vector<std::string> names;
    while (auto* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..")
            names.push_back(std::move(n));
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

Result<std::string> make_temp_dir(std::string const& prefix) {
    std::string tmpl = prefix + "XXXXXX";
    if (!::mkdtemp(tmpl.data()))
        return err("mkdtemp", prefix);
    return tmpl;
}

Result<std::string> realpath(std::string const& path) {
    char buf[PATH_MAX];
    if (!::realpath(path.c_str(), buf))
        return err("realpath", path);
    return std::string(buf);
}

} // namespace bulkhead::sys
