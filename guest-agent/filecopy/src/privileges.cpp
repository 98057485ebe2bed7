// drop_privileges_to_owner: the unpacker runs as the destination's owner, never more.
#include <bulkhead/filecopy/unpack.h>

#include <bulkhead/base/sys/fd.h>

#include <cerrno>
#include <grp.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace bulkhead::filecopy {

Result<void> drop_privileges_to_owner(int dest_dir_fd) {
    auto st = TRY(sys::fstat(dest_dir_fd));
    if (!S_ISDIR(st.st_mode))
        return unexpected(Errc::Invalid, "destination is not a directory");
    uid_t uid = st.st_uid;
    gid_t gid = st.st_gid;
    if (::geteuid() == 0 && uid != 0) {
        if (::setgroups(1, &gid) < 0)
            return Error::from_errno("setgroups", errno);
        if (::setresgid(gid, gid, gid) < 0)
            return Error::from_errno("setresgid", errno);
        if (::setresuid(uid, uid, uid) < 0)
            return Error::from_errno("setresuid", errno);
        uid_t r, e, s;
        gid_t rg, eg, sg;
        if (::getresuid(&r, &e, &s) < 0 || r != uid || e != uid || s != uid ||
            ::getresgid(&rg, &eg, &sg) < 0 || rg != gid || eg != gid || sg != gid)
            return unexpected(Errc::Internal, "ids did not change");
        // Root must be gone for good.
        if (::setresuid(0, 0, 0) == 0)
            return unexpected(Errc::Internal, "could become root again");
    } else if (::geteuid() != uid) {
        return unexpected(Errc::Denied, "destination is owned by uid " + std::to_string(uid) +
                                            ", not by this process");
    }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return Error::from_errno("prctl(PR_SET_NO_NEW_PRIVS)", errno);
    return ok();
}

} // namespace bulkhead::filecopy
