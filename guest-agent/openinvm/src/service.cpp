#include <bulkhead/openinvm/service.h>

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/text.h>
#include <bulkhead/base/untrusted.h>
#include <bulkhead/openinvm/opener.h>
#include <bulkhead/openinvm/validate.h>

#include <cstddef>
#include <cstdio>
#include <span>
#include <unistd.h>

namespace bulkhead::openinvm {

namespace {

void say(int fd, std::string const& text) {
    (void)sys::write_all(fd, "vm-file-editor: " + text + "\n");
}

// Removes the private directory however the service ends.
struct TempDir {
    std::string path;
    ~TempDir() {
        if (!path.empty())
            (void)sys::remove_tree(path);
    }
};

Result<Change> check_and_send(int dirfd, std::string const& name, CopyResult const& before,
                              int out_fd, ServiceOptions const& opts) {
    auto fd = sys::openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (!fd) {
        say(opts.log_fd, "the file is gone after the viewer: nothing to send back");
        return Change::Unchanged;
    }
    auto st = TRY(sys::fstat(fd->get()));
    if (!S_ISREG(st.st_mode))
        return unexpected(Errc::Invalid, "the viewer left something other than a file");
    auto after = TRY(hash_stream(fd->get(), opts.max_bytes));
    if (after.bytes == before.bytes && after.hash == before.hash)
        return Change::Unchanged;
    if (after.bytes == 0) {
        say(opts.log_fd, "the edited file is empty: the protocol cannot send that back");
        return Change::Unchanged;
    }
    if (::lseek(fd->get(), 0, SEEK_SET) < 0)
        return Error::from_errno("lseek", errno);
    auto sent = TRY(copy_stream(fd->get(), out_fd, opts.max_bytes));
    if (sent.bytes != after.bytes || sent.hash != after.hash)
        return unexpected(Errc::Busy, "the file changed while it was being sent back");
    return Change::SentBack;
}

} // namespace

Result<Change> serve_open_in_vm(int in_fd, int out_fd, ServiceOptions const& opts) {
    std::string untrusted_field(kNameFieldSize, '\0');
    TRY_CTX(sys::read_exact(in_fd, std::as_writable_bytes(std::span(untrusted_field))),
            "reading the name field");
    auto name = FileNameValidator::validate(Untrusted<std::string>(std::move(untrusted_field)));
    if (name.fell_back)
        say(opts.log_fd, "unusable file name from the caller; using " + name.name);

    TempDir dir{TRY(sys::make_temp_dir(opts.tmp_root + "/bulkhead-open-"))};
    auto dirfd = TRY(sys::open(dir.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    CopyResult before;
    {
        auto fd = TRY(sys::openat(dirfd.get(), name.name,
                                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        before = TRY_CTX(copy_stream(in_fd, fd.get(), opts.max_bytes), "receiving the file");
    }
    auto path = dir.path + "/" + name.name;
    if (name.view_only) // so the viewer shows it read-only (an edit would be discarded)
        TRY(sys::chmod(path, 0400));
    auto code = run_opener(opts.opener, path, opts.log_fd);
    if (!code)
        return std::move(code).error();
    if (*code != 0)
        say(opts.log_fd, "the viewer exited with " + std::to_string(*code));
    return check_and_send(dirfd.get(), name.name, before, out_fd, opts);
}

Result<int> serve_open_url(int in_fd, ServiceOptions const& opts) {
    auto untrusted = sys::read_to_end(in_fd, kMaxUrlBytes + 1);
    if (!untrusted)
        return std::move(untrusted).error().prefix("reading the URL");
    auto url = TRY(UrlValidator::validate(Untrusted<std::string>(std::move(*untrusted))));
    return run_opener(opts.opener, url, opts.log_fd);
}

} // namespace bulkhead::openinvm
