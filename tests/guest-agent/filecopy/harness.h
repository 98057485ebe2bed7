// Helpers for the Filecopy tests: a scratch directory, files in it, and a transfer from the
// packer to the unpacker through two real pipes (the unpacker on its own thread).
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>
#include <bulkhead/filecopy/pack.h>
#include <bulkhead/filecopy/unpack.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace bulkhead::test {

// A temporary directory, removed (chmod'ed writable first) on destruction.
struct Scratch {
    std::string root;
    Scratch();
    ~Scratch();
    std::string path(std::string const& rel) const { return root + "/" + rel; }
    void mkdir(std::string const& rel, mode_t mode = 0755) const;
    void write(std::string const& rel, std::string const& data, mode_t mode = 0644) const;
    void symlink(std::string const& target, std::string const& rel) const;
    std::string read(std::string const& rel) const;
    bool exists(std::string const& rel) const; // lstat: a dangling symlink exists
    UniqueFd open_dir(std::string const& rel = "") const;
};

struct Transfer {
    Result<filecopy::PackReport> sent = Error(Errc::Internal, "not run");
    filecopy::UnpackReport received;
};

// pack(paths) → pipe → [relay] → pipe → unpack(dest_fd), reply back through a pipe.
// relay, when set, sees every chunk on its way and may change it (fault injection).
Transfer transfer(std::vector<std::string> const& paths, int dest_fd,
                  filecopy::UnpackOptions const& options = {},
                  filecopy::PackOptions const& pack = {},
                  std::function<void(std::span<std::byte>, uint64_t offset)> relay = {});

// Raw stream bytes (hand-made, possibly malformed) → unpack(dest_fd). Closes the stream after.
filecopy::UnpackReport unpack_bytes(std::vector<std::byte> const& stream, int dest_fd,
                                    filecopy::UnpackOptions const& options = {});

// Stream building blocks.
void append_entry(std::vector<std::byte>& out, std::string const& name, uint32_t mode,
                  std::string const& data = {}, uint32_t mtime = 1'600'000'000);
void append_end(std::vector<std::byte>& out);

} // namespace bulkhead::test
