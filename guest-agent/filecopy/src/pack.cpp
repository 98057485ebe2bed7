// The packer: local paths → stream, then the receiver's verdict (see pack.h).
#include <bulkhead/filecopy/pack.h>

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/rpc/filecopy/validator.h>
#include <bulkhead/rpc/filecopy/wire.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace bulkhead::filecopy {

namespace fc = rpc::filecopy;

namespace {

constexpr size_t chunk_size = 256 * 1024;

Result<struct stat> lstat_at(int dir, std::string const& leaf) {
    struct stat st;
    if (::fstatat(dir, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
        return Error::from_errno("lstat " + leaf, errno);
    return st;
}

Result<UniqueFd> open_dir_at(int dir, std::string const& leaf) {
    return sys::openat(dir, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

// Entry names of an open directory, sorted (so a stream is reproducible), without . and ..
Result<std::vector<std::string>> list_at(int dir_fd) {
    auto dup = TRY(sys::dup(dir_fd));
    DIR* d = ::fdopendir(dup.get());
    if (!d)
        return Error::from_errno("fdopendir", errno);
    dup.release();
    ::rewinddir(d);
    std::vector<std::string> names;
    errno = 0;
    while (auto* ent = ::readdir(d)) {
        std::string_view n = ent->d_name;
        if (n != "." && n != "..")
            names.emplace_back(n);
    }
    int err = errno;
    ::closedir(d);
    if (err)
        return Error::from_errno("readdir", err);
    std::sort(names.begin(), names.end());
    return names;
}

Result<std::string> readlink_at(int dir, std::string const& leaf, size_t size_hint) {
    std::string target(std::max<size_t>(size_hint, 64) + 1, '\0');
    while (true) {
        auto n = ::readlinkat(dir, leaf.c_str(), target.data(), target.size());
        if (n < 0)
            return Error::from_errno("readlink " + leaf, errno);
        if (size_t(n) < target.size()) {
            target.resize(size_t(n));
            return target;
        }
        target.resize(target.size() * 2);
    }
}

// Data bytes a path would send (for progress).
uint64_t measure(int dir, std::string const& leaf) {
    auto st = lstat_at(dir, leaf);
    if (!st)
        return 0;
    if (S_ISREG(st->st_mode) || S_ISLNK(st->st_mode))
        return uint64_t(st->st_size);
    if (!S_ISDIR(st->st_mode))
        return 0;
    auto sub = open_dir_at(dir, leaf);
    if (!sub)
        return 0;
    auto names = list_at(sub->get());
    uint64_t total = 0;
    if (names)
        for (auto const& n : *names)
            total += measure(sub->get(), n);
    return total;
}

class Packer {
public:
    Packer(int out, int reply, PackOptions const& options)
        : m_out(out)
        , m_reply(reply)
        , m_options(options) {}

    Result<void> send_path(std::string path) {
        while (path.size() > 1 && path.back() == '/')
            path.pop_back();
        auto slash = path.rfind('/');
        std::string parent = slash == std::string::npos ? "."
                             : slash == 0               ? "/"
                                                        : path.substr(0, slash);
        std::string leaf = slash == std::string::npos ? path : path.substr(slash + 1);
        if (leaf.empty() || leaf == "." || leaf == ".." || leaf == "/")
            return unexpected(Errc::Invalid, "cannot send '" + path + "': name it by its own name");
        auto dir = TRY_CTX(sys::open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC), path);
        auto st = TRY_CTX(lstat_at(dir.get(), leaf), path);
        return entry(dir.get(), leaf, leaf, st);
    }

    void measure_total(std::span<std::string const> paths) {
        for (auto p : paths) {
            while (p.size() > 1 && p.back() == '/')
                p.pop_back();
            auto slash = p.rfind('/');
            std::string parent = slash == std::string::npos ? "."
                                 : slash == 0               ? "/"
                                                            : p.substr(0, slash);
            auto dir = sys::open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dir)
                m_total +=
                    measure(dir->get(), slash == std::string::npos ? p : p.substr(slash + 1));
        }
    }

    Result<PackReport> finish() {
        auto end = fc::encode_end();
        TRY(emit(end));
        auto verdict = TRY(read_reply());
        m_report.crc32 = m_crc.value();
        if (verdict.crc32 != m_crc.value())
            return unexpected(Errc::Protocol,
                              "receiver's checksum differs: the transfer was corrupted");
        return m_report;
    }

private:
    Result<void> emit(std::span<std::byte const> bytes) {
        m_crc.update(bytes);
        auto w = sys::write_all(m_out, bytes);
        if (!w)
            return write_failed(std::move(w).error());
        return ok();
    }

    // The receiver stopped reading: its reply, if any, says why.
    Error write_failed(Error err) {
        auto verdict = read_reply();
        if (!verdict)
            return std::move(verdict).error();
        return err.prefix("writing the stream");
    }

    Result<void> data(std::span<std::byte const> bytes) {
        TRY(emit(bytes));
        m_report.bytes += bytes.size();
        if (m_options.progress)
            m_options.progress(m_report.bytes, std::max(m_total, m_report.bytes));
        return ok();
    }

    Result<void> header(std::string const& name, struct stat const& st, uint64_t filelen) {
        TRY_CTX(fc::FilecopyValidator::check_name(name), "cannot send '" + name + "'");
        fc::FileHeader h;
        h.namelen = uint32_t(name.size() + 1);
        h.mode = st.st_mode;
        h.filelen = filelen;
        h.atime = uint32_t(st.st_atim.tv_sec);
        h.atime_nsec = uint32_t(st.st_atim.tv_nsec);
        h.mtime = uint32_t(st.st_mtim.tv_sec);
        h.mtime_nsec = uint32_t(st.st_mtim.tv_nsec);
        auto raw = fc::encode(h);
        TRY(emit(raw));
        return emit(std::span(reinterpret_cast<std::byte const*>(name.c_str()), name.size() + 1));
    }

    Result<void> entry(int dir, std::string const& leaf, std::string const& name, struct stat st) {
        if (S_ISREG(st.st_mode)) {
            auto fd = TRY(sys::openat(dir, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
            st = TRY(sys::fstat(fd.get()));
            TRY(header(name, st, uint64_t(st.st_size)));
            TRY(file_data(fd.get(), name, uint64_t(st.st_size)));
        } else if (S_ISLNK(st.st_mode)) {
            auto target = TRY(readlink_at(dir, leaf, size_t(st.st_size)));
            TRY(header(name, st, target.size()));
            TRY(data(std::span(reinterpret_cast<std::byte const*>(target.data()), target.size())));
        } else if (S_ISDIR(st.st_mode)) {
            auto sub = TRY(open_dir_at(dir, leaf));
            TRY(header(name, st, 0));
            ++m_report.entries;
            TRY(early_reply());
            for (auto const& child : TRY(list_at(sub.get()))) {
                auto cst = TRY(lstat_at(sub.get(), child));
                TRY(entry(sub.get(), child, name + "/" + child, cst));
            }
            // Sent again after the contents: the receiver sets mode and times now.
            TRY(header(name, st, 0));
            return early_reply();
        } else {
            ++m_report.skipped;
            return ok();
        }
        ++m_report.entries;
        return early_reply();
    }

    Result<void> file_data(int fd, std::string const& name, uint64_t size) {
        std::vector<std::byte> buf(chunk_size);
        while (size) {
            auto want = std::span(buf).first(size_t(std::min<uint64_t>(size, buf.size())));
            auto n = TRY(sys::read(fd, want));
            if (n == 0)
                return unexpected(Errc::Invalid, name + " shrank while being sent");
            TRY(data(want.first(n)));
            size -= n;
        }
        return ok();
    }

    // A reply before the end marker means the receiver gave up: stop at once.
    Result<void> early_reply() {
        pollfd p{m_reply, POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR)))
            return ok();
        auto verdict = TRY(read_reply());
        (void)verdict;
        return unexpected(Errc::Protocol, "receiver replied success before the end of the stream");
    }

    // Reads result_header (+ ext); an error_code becomes an Error.
    Result<fc::ValidatedReply> read_reply() {
        std::array<std::byte, fc::result_header_size> raw;
        TRY_CTX(sys::read_exact(m_reply, raw), "receiver went away without a reply");
        auto verdict = TRY(fc::FilecopyValidator::reply(fc::UntrustedBytes(raw)));
        std::string last;
        std::array<std::byte, fc::result_header_ext_size> ext;
        if (sys::read_exact(m_reply, ext)) { // absent with old receivers
            auto len = fc::FilecopyValidator::reply_last_namelen(fc::UntrustedBytes(ext));
            if (len) {
                std::vector<std::byte> name(*len);
                if (sys::read_exact(m_reply, name))
                    last = fc::FilecopyValidator::reply_last_name(fc::UntrustedBytes(name));
            }
        }
        if (verdict.error_code == 0)
            return verdict;
        int code = int(verdict.error_code);
        std::string what = verdict.error_code == fc::legal_eof ? "the stream ended early"
                                                               : std::string(std::strerror(code));
        if (code == EEXIST)
            what = "a file named \"" + last + "\" already exists in QubesIncoming";
        else if (!last.empty())
            what += "; last file: \"" + last + "\"";
        Errc errc = code == EEXIST ? Errc::Exists : code == EDQUOT ? Errc::Limit : Errc::Denied;
        return Unexpected{Error(errc, "receiver: " + what, code)};
    }

    int m_out;
    int m_reply;
    PackOptions const& m_options;
    fc::Crc32 m_crc;
    PackReport m_report;
    uint64_t m_total = 0;
};

} // namespace

Result<PackReport> pack(std::span<std::string const> paths, int stream_fd, int reply_fd,
                        PackOptions const& options) {
    Packer p(stream_fd, reply_fd, options);
    if (options.progress)
        p.measure_total(paths);
    for (auto const& path : paths)
        TRY(p.send_path(path));
    return p.finish();
}

} // namespace bulkhead::filecopy
