#include <bulkhead/openinvm/caller.h>

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/untrusted.h>
#include <bulkhead/openinvm/validate.h>

#include <cstdlib>
#include <memory>
#include <span>
#include <thread>
#include <unistd.h>

namespace bulkhead::openinvm {

namespace {

std::string client_program() {
    if (auto env = sys::getenv("BULKHEAD_QREXEC_CLIENT_VM"))
        return *env;
    std::string installed = "/usr/lib/bulkhead/qrexec-client-vm";
    if (::access(installed.c_str(), X_OK) == 0)
        return installed;
    return "qrexec-client-vm";
}

std::string dir_of(std::string const& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_of(std::string const& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// A temp file beside the original (same filesystem, so rename is atomic); removed unless
// kept.
struct TempFile {
    std::string path;
    UniqueFd fd;
    bool keep = false;
    ~TempFile() {
        if (!path.empty() && !keep)
            (void)sys::unlink(path);
    }
};

Result<std::unique_ptr<TempFile>> temp_beside(std::string const& path) {
    std::string tmpl = dir_of(path) + "/." + base_of(path).substr(0, 200) + ".edit-XXXXXX";
    int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno("mkostemp " + tmpl, errno);
    auto t = std::make_unique<TempFile>();
    t->path = tmpl;
    t->fd = UniqueFd(fd);
    return t;
}

bool same_file(struct stat const& a, struct stat const& b) {
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

Result<void> sync_dir(std::string const& dir) {
    auto fd = TRY(sys::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    return sys::fsync(fd.get());
}

} // namespace

Result<Transport> spawn_qrexec_client(std::string const& target, std::string const& service) {
    auto to = TRY(sys::pipe(O_CLOEXEC));   // we write → client stdin
    auto from = TRY(sys::pipe(O_CLOEXEC)); // client stdout → we read
    sys::SpawnOptions o;
    o.argv = {client_program(), target, service};
    o.fds = {{0, to.first.get()}, {1, from.second.get()}, {2, 2}};
    auto pid = TRY_CTX(sys::spawn(o), "starting " + o.argv.front());
    Transport t;
    t.to_remote = std::move(to.second);
    t.from_remote = std::move(from.first);
    t.finish = [pid]() -> Result<int> {
        auto status = TRY(sys::waitpid(pid));
        return status.code;
    };
    return t;
}

Result<Outcome> open_file_in_vm(std::string const& path, Transport transport, ViewOnly view,
                                uint64_t max_bytes) {
    auto finish = [&transport]() {
        transport.to_remote.reset();
        transport.from_remote.reset();
        return transport.finish();
    };
    auto link = sys::lstat(path);
    if (!link) {
        (void)finish();
        return std::move(link).error();
    }
    if (S_ISLNK(link->st_mode) || !S_ISREG(link->st_mode)) {
        (void)finish();
        return unexpected(Errc::Invalid,
                          path + " is not a regular file (symlinks are not followed)");
    }
    auto file = sys::open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (!file) {
        (void)finish();
        return std::move(file).error();
    }
    auto opened = TRY(sys::fstat(file->get()));
    if (!same_file(opened, *link)) {
        (void)finish();
        return unexpected(Errc::Busy, path + " changed while it was being opened");
    }
    std::unique_ptr<TempFile> temp;
    if (view == ViewOnly::No) {
        auto t = temp_beside(path);
        if (!t) {
            (void)finish();
            return std::move(t).error().prefix("no place for the edited copy (try --view-only)");
        }
        temp = std::move(*t);
    }

    // Send on a thread while the edited copy comes back: neither side can block the other.
    auto name = encode_name_field(path, view == ViewOnly::Yes ? kViewOnlyPrefix : "");
    Result<void> sent = ok();
    std::thread sender([&] {
        sent = sys::write_all(transport.to_remote.get(),
                              std::as_bytes(std::span(name.data(), name.size())));
        if (sent) {
            auto copied = copy_stream(file->get(), transport.to_remote.get(), max_bytes);
            if (!copied)
                sent = std::move(copied).error();
        }
        transport.to_remote.reset(); // EOF: the file is complete
    });
    auto received = copy_stream(transport.from_remote.get(), temp ? temp->fd.get() : -1, max_bytes);
    transport.from_remote.reset();
    sender.join();
    auto code = transport.finish();

    if (!code)
        return std::move(code).error().prefix("the call");
    if (*code != 0)
        return unexpected(Errc::Closed, "the call ended with code " + std::to_string(*code) +
                                            "; the original is unchanged");
    if (!sent)
        return std::move(sent).error().prefix("sending the file; the original is unchanged");
    if (!received)
        return std::move(received).error().prefix("receiving the edit; the original is unchanged");
    if (view == ViewOnly::Yes)
        return Outcome::Viewed;
    if (received->bytes == 0)
        return Outcome::Unchanged;

    TRY(sys::fsync(temp->fd.get()));
    if (::fchmod(temp->fd.get(), link->st_mode & 07777) < 0)
        return Error::from_errno("fchmod", errno);
    // The path must still be the file we sent: never rename over something swapped in.
    auto now = sys::lstat(path);
    if (!now || !S_ISREG(now->st_mode) || !same_file(*now, *link)) {
        temp->keep = true;
        return unexpected(Errc::Busy,
                          path + " was replaced during the edit; the edited copy is " + temp->path);
    }
    TRY(sys::rename(temp->path, path));
    temp->path.clear();
    TRY(sync_dir(dir_of(path)));
    return Outcome::Replaced;
}

Result<void> open_url_in_vm(std::string const& url, Transport transport) {
    auto checked = UrlValidator::validate(Untrusted<std::string>(url));
    if (!checked) {
        transport.to_remote.reset();
        transport.from_remote.reset();
        (void)transport.finish();
        return std::move(checked).error();
    }
    auto sent = sys::write_all(transport.to_remote.get(), *checked + "\n");
    transport.to_remote.reset();
    auto drained = copy_stream(transport.from_remote.get(), -1, 1 << 20);
    transport.from_remote.reset();
    auto code = TRY(transport.finish());
    if (code != 0)
        return unexpected(Errc::Closed, "the call ended with code " + std::to_string(code));
    TRY(std::move(sent));
    (void)drained;
    return ok();
}

} // namespace bulkhead::openinvm
