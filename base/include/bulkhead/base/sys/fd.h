// libc file and descriptor calls, each wrapped once: Result with the call's name in the error.
// Callers: every module. EINTR is retried here so callers never see it.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>

#include <cstddef>
#include <cstdint>
#include <fcntl.h>
#include <span>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace bulkhead::sys {

Result<UniqueFd> open(std::string const& path, int flags, mode_t mode = 0);
Result<UniqueFd> openat(int dirfd, std::string const& path, int flags, mode_t mode = 0);
Result<size_t> read(int fd, std::span<std::byte> buf); // 0 = EOF
Result<size_t> write(int fd, std::span<std::byte const> buf);
Result<void> write_all(int fd, std::span<std::byte const> buf);
Result<void> write_all(int fd, std::string_view text);
// Reads exactly buf.size() bytes; Errc::Closed on EOF before that.
Result<void> read_exact(int fd, std::span<std::byte> buf);
// Reads until EOF, at most max bytes (Errc::Limit past it).
Result<std::string> read_to_end(int fd, size_t max = 64u << 20);
Result<std::string> read_file(std::string const& path, size_t max = 64u << 20);
// Writes a file atomically: temp file in the same directory, fsync, rename.
Result<void> write_file_atomic(std::string const& path, std::string_view data, mode_t mode = 0644);
// Installs a copy of src at dst (atomically, as write_file_atomic) unless dst already has the
// same bytes; streams through a fixed buffer (no whole-file allocation). True if it copied.
Result<bool> install_file(std::string const& src, std::string const& dst, mode_t mode = 0644);
Result<std::pair<UniqueFd, UniqueFd>> pipe(int flags = O_CLOEXEC);
Result<UniqueFd> dup(int fd);
Result<void> dup2(int from, int to);
Result<void> set_nonblocking(int fd, bool on = true);
Result<void> set_cloexec(int fd, bool on = true);
Result<struct stat> fstat(int fd);
Result<struct stat> stat(std::string const& path);
Result<struct stat> lstat(std::string const& path);
bool exists(std::string const& path);
Result<void> mkdir(std::string const& path, mode_t mode = 0755); // EEXIST is fine
Result<void> mkdir_p(std::string const& path, mode_t mode = 0755);
Result<void> unlink(std::string const& path); // ENOENT is fine
Result<void> rmdir(std::string const& path);
Result<void> remove_tree(std::string const& path); // no symlink following
Result<void> rename(std::string const& from, std::string const& to);
Result<void> chmod(std::string const& path, mode_t mode);
Result<void> chown(std::string const& path, uid_t uid, gid_t gid);
Result<void> symlink(std::string const& target, std::string const& link);
Result<void> link(std::string const& from, std::string const& to); // hard link
Result<std::string> readlink(std::string const& path);
Result<void> fsync(int fd);
Result<void> ftruncate(int fd, off_t size);
Result<UniqueFd> memfd_create(std::string const& name, unsigned flags = 0);
Result<std::vector<std::string>> list_dir(std::string const& path); // sorted, no . or ..
Result<std::string> make_temp_dir(std::string const& prefix);       // mkdtemp
Result<std::string> realpath(std::string const& path);

} // namespace bulkhead::sys
