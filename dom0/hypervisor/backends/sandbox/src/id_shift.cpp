#include "id_shift.h"

#include <bulkhead/base/unique_fd.h>

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bulkhead::dom0::sandbox {

namespace {

uint32_t shifted(uint32_t id, IdShift s) {
    uint32_t guest = id >= s.uid_base ? (id - s.uid_base) % 65536u : id;
    return guest >= 65536u ? id : s.target + guest; // host ids outside any range stay
}

// Changes the owner of name (relative to dirfd) without following it.
Result<void> shift_entry(int dirfd, char const* name, struct stat const& st, IdShift s) {
    uid_t uid = shifted(st.st_uid, s);
    gid_t gid = shifted(st.st_gid, s);
    if (uid == st.st_uid && gid == st.st_gid)
        return ok();
    if (::fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
        return Error::from_errno("fchownat", errno);
    if (!S_ISLNK(st.st_mode) && !S_ISDIR(st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID)) &&
        ::fchmodat(dirfd, name, st.st_mode & 07777, 0) != 0)
        return Error::from_errno("fchmodat", errno);
    return ok();
}

Result<void> shift_dir(int fd, dev_t dev, IdShift s, int depth) {
    if (depth > 256)
        return unexpected(Errc::Invalid, "id shift: directory tree too deep");
    UniqueFd dup_fd(::dup(fd));
    if (!dup_fd.valid())
        return Error::from_errno("dup", errno);
    DIR* d = ::fdopendir(dup_fd.get());
    if (!d)
        return Error::from_errno("fdopendir", errno);
    (void)dup_fd.release();
    struct Closer {
        DIR* d;
        ~Closer() { ::closedir(d); }
    } closer{d};
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..")
            continue;
        struct stat st;
        if (::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            return Error::from_errno("fstatat", errno);
        TRY(shift_entry(fd, name.c_str(), st, s));
        if (S_ISDIR(st.st_mode) && st.st_dev == dev) {
            UniqueFd sub(
                ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!sub.valid())
                return Error::from_errno("openat", errno);
            TRY(shift_dir(sub.get(), dev, s, depth + 1));
        }
    }
    return ok();
}

} // namespace

Result<void> shift_ids(std::string const& dir, IdShift shift) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid())
        return Error::from_errno("open " + dir, errno);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0)
        return Error::from_errno("fstat", errno);
    TRY(shift_entry(fd.get(), ".", st, shift));
    return shift_dir(fd.get(), st.st_dev, shift, 0);
}

} // namespace bulkhead::dom0::sandbox
