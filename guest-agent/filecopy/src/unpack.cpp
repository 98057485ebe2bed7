// The unpacker: stream → files below an open directory (see unpack.h for the guarantees).
#include <bulkhead/filecopy/unpack.h>

#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/rpc/filecopy/validator.h>
#include <bulkhead/rpc/filecopy/wire.h>

#include "stream_reader.h"

#include <cerrno>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace bulkhead::filecopy {

namespace fc = rpc::filecopy;

namespace {

Logger const log("filecopy");

Unexpected fail(int err, std::string what) {
    return Unexpected{Error(Errc::System, std::move(what), err)};
}

// The parent directory of a validated name, opened component by component, and its leaf.
struct Parent {
    UniqueFd owned; // empty when the parent is the destination itself
    int fd = -1;
    std::string leaf;
};

Result<Parent> open_parent(int root, std::string const& name) {
    Parent p;
    p.fd = root;
    size_t start = 0;
    while (true) {
        size_t slash = name.find('/', start);
        if (slash == std::string::npos) {
            p.leaf = name.substr(start);
            return p;
        }
        auto comp = name.substr(start, slash - start);
        int fd = ::openat(p.fd, comp.c_str(),
                          O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
            return fail(errno, "openat " + comp);
        p.owned = UniqueFd(fd);
        p.fd = fd;
        start = slash + 1;
    }
}

Result<void> set_times(int fd, char const* leaf, fc::ValidatedEntry const& e, int flags) {
    timespec times[2] = {e.atime, e.mtime};
    int rc = leaf ? ::utimensat(fd, leaf, times, flags) : ::futimens(fd, times);
    if (rc < 0)
        return fail(errno, "utimensat");
    return ok();
}

class Unpacker {
public:
    Unpacker(int stream_fd, int root, UnpackOptions const& options)
        : m_in(stream_fd)
        , m_root(root)
        , m_options(options) {}

    // Runs to the end marker; an error carries the errno to reply in sys_errno().
    Result<void> run() {
        while (true) {
            std::array<std::byte, fc::file_header_size> raw;
            TRY(m_in.read_exact(raw));
            auto step = TRY(fc::FilecopyValidator::header(fc::UntrustedBytes(raw)));
            if (step.end)
                return ok();
            std::vector<std::byte> name_bytes(step.header.namelen);
            TRY(m_in.read_exact(name_bytes));
            auto e = TRY(fc::FilecopyValidator::entry(step.header, fc::UntrustedBytes(name_bytes)));
            m_report.last_name = e.name;
            bool closing = e.type == fc::EntryType::Directory && m_open_dirs.count(e.name);
            if (!closing) {
                if (m_report.entries + 1 > m_options.max_files)
                    return fail(EDQUOT, "over the cap on files");
                ++m_report.entries;
            }
            switch (e.type) {
            case fc::EntryType::File:
                TRY(file(e));
                break;
            case fc::EntryType::Directory:
                TRY(closing ? close_dir(e) : open_dir(e));
                break;
            case fc::EntryType::Symlink:
                TRY(symlink(e));
                break;
            }
        }
    }

    UnpackReport& report() { return m_report; }
    uint32_t crc() const { return m_in.crc(); }

private:
    Result<void> count_bytes(uint64_t n) {
        if (n > m_options.max_bytes || m_report.bytes > m_options.max_bytes - n)
            return fail(EDQUOT, "over the cap on bytes");
        m_report.bytes += n;
        return ok();
    }

    Result<void> file(fc::ValidatedEntry const& e) {
        TRY(count_bytes(e.size));
        auto parent = TRY(open_parent(m_root, e.name));
        // A temporary name nobody else uses; O_EXCL|O_NOFOLLOW never opens anything existing.
        std::string tmp;
        UniqueFd out;
        for (int attempt = 0; !out; ++attempt) {
            tmp =
                ".bulkhead-filecopy-" + std::to_string(::getpid()) + "-" + std::to_string(m_seq++);
            int fd =
                ::openat(parent.fd, tmp.c_str(),
                         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
            if (fd >= 0)
                out = UniqueFd(fd);
            else if (errno != EEXIST || attempt > 100)
                return fail(errno, "create temporary file");
        }
        auto written = write_file(parent.fd, tmp, out.get(), e);
        if (!written) {
            ::unlinkat(parent.fd, tmp.c_str(), 0);
            return std::move(written).error();
        }
        return ok();
    }

    Result<void> write_file(int dir, std::string const& tmp, int fd, fc::ValidatedEntry const& e) {
        uint64_t left = e.size;
        while (left) {
            auto chunk = TRY(m_in.next_chunk(left));
            TRY(sys::write_all(fd, chunk));
            left -= chunk.size();
        }
        if (::fchmod(fd, e.permissions) < 0)
            return fail(errno, "fchmod");
        TRY(set_times(fd, nullptr, e, 0));
        if (::renameat2(dir, tmp.c_str(), dir, leaf_of(e.name).c_str(), RENAME_NOREPLACE) == 0)
            return ok();
        if (errno != EINVAL && errno != ENOSYS)
            return fail(errno, "renameat2");
        // No RENAME_NOREPLACE here: linkat never replaces either.
        if (::linkat(dir, tmp.c_str(), dir, leaf_of(e.name).c_str(), 0) < 0)
            return fail(errno, "linkat");
        ::unlinkat(dir, tmp.c_str(), 0);
        return ok();
    }

    static std::string leaf_of(std::string const& name) {
        auto slash = name.rfind('/');
        return slash == std::string::npos ? name : name.substr(slash + 1);
    }

    Result<void> open_dir(fc::ValidatedEntry const& e) {
        auto parent = TRY(open_parent(m_root, e.name));
        if (::mkdirat(parent.fd, parent.leaf.c_str(), 0700) < 0) {
            if (errno != EEXIST)
                return fail(errno, "mkdirat");
            // Only a real directory is entered; a symlink or file under that name fails.
            int fd = ::openat(parent.fd, parent.leaf.c_str(),
                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
            if (fd < 0)
                return fail(errno == ELOOP || errno == ENOTDIR ? EEXIST : errno,
                            "existing " + parent.leaf);
            ::close(fd);
        }
        m_open_dirs.insert(e.name);
        return ok();
    }

    Result<void> close_dir(fc::ValidatedEntry const& e) {
        m_open_dirs.erase(e.name);
        auto parent = TRY(open_parent(m_root, e.name));
        int fd = ::openat(parent.fd, parent.leaf.c_str(),
                          O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
            return fail(errno, "openat " + parent.leaf);
        UniqueFd dir(fd);
        if (::fchmod(fd, e.permissions) < 0)
            return fail(errno, "fchmod");
        return set_times(fd, nullptr, e, 0);
    }

    Result<void> symlink(fc::ValidatedEntry const& e) {
        TRY(count_bytes(e.size));
        std::vector<std::byte> raw(e.size);
        TRY(m_in.read_exact(raw));
        auto target = TRY(fc::FilecopyValidator::symlink_target(e, fc::UntrustedBytes(raw)));
        auto parent = TRY(open_parent(m_root, e.name));
        if (::symlinkat(target.c_str(), parent.fd, parent.leaf.c_str()) < 0)
            return fail(errno, "symlinkat");
        return set_times(parent.fd, parent.leaf.c_str(), e, AT_SYMLINK_NOFOLLOW);
    }

    StreamReader m_in;
    int m_root;
    UnpackOptions m_options;
    UnpackReport m_report;
    std::set<std::string> m_open_dirs;
    uint64_t m_seq = 0;
};

uint32_t reply_code(Error const& e) {
    if (e.code() == Errc::Closed)
        return fc::legal_eof;
    if (e.sys_errno())
        return uint32_t(e.sys_errno());
    return EIO;
}

} // namespace

UnpackReport unpack(int stream_fd, int reply_fd, int dest_dir_fd, UnpackOptions const& options) {
    Unpacker u(stream_fd, dest_dir_fd, options);
    auto result = u.run();
    UnpackReport report = std::move(u.report());
    report.crc32 = u.crc();
    if (!result) {
        report.error_code = reply_code(result.error());
        LOG_WARN(log, "unpack failed", {"error", result.error().message()},
                 {"code", report.error_code}, {"last", report.last_name});
    } else if (options.sync_before_reply) {
        ::syncfs(dest_dir_fd); // as Qubes: the data is on disk before success is reported
    }
    std::string_view last = report.last_name;
    auto reply = fc::encode_reply({report.error_code, report.crc32}, &last);
    report.replied = sys::write_all(reply_fd, reply).has_value();
    return report;
}

} // namespace bulkhead::filecopy
