#include "harness.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/rpc/filecopy/wire.h>

#include <catch2/catch.hpp>

#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace bulkhead::test {

namespace fs = std::filesystem;

namespace {

struct IgnoreSigpipe {
    IgnoreSigpipe() { std::signal(SIGPIPE, SIG_IGN); }
} const ignore_sigpipe;

} // namespace

Scratch::Scratch()
    : root(sys::make_temp_dir("/tmp/bh-filecopy-").value()) {}

Scratch::~Scratch() {
    std::error_code ec;
    for (auto const& e : fs::recursive_directory_iterator(root, ec))
        if (e.is_directory() && !e.is_symlink())
            fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(root, ec);
}

void Scratch::mkdir(std::string const& rel, mode_t mode) const {
    REQUIRE(::mkdir(path(rel).c_str(), mode) == 0);
    REQUIRE(::chmod(path(rel).c_str(), mode) == 0);
}

void Scratch::write(std::string const& rel, std::string const& data, mode_t mode) const {
    auto fd = sys::open(path(rel), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    REQUIRE(fd.has_value());
    REQUIRE(sys::write_all(fd->get(), data).has_value());
    REQUIRE(::fchmod(fd->get(), mode) == 0);
}

void Scratch::symlink(std::string const& target, std::string const& rel) const {
    REQUIRE(::symlink(target.c_str(), path(rel).c_str()) == 0);
}

std::string Scratch::read(std::string const& rel) const {
    auto data = sys::read_file(path(rel), size_t(1) << 30);
    REQUIRE(data.has_value());
    return *data;
}

bool Scratch::exists(std::string const& rel) const {
    struct stat st;
    return ::lstat(path(rel).c_str(), &st) == 0;
}

UniqueFd Scratch::open_dir(std::string const& rel) const {
    auto fd = sys::open(rel.empty() ? root : path(rel), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(fd.has_value());
    return std::move(*fd);
}

Transfer transfer(std::vector<std::string> const& paths, int dest_fd,
                  filecopy::UnpackOptions const& options, filecopy::PackOptions const& pack,
                  std::function<void(std::span<std::byte>, uint64_t)> relay) {
    auto stream = sys::pipe().value();
    auto reply = sys::pipe().value();
    UniqueFd stream_r = std::move(stream.first), stream_w = std::move(stream.second);
    UniqueFd reply_r = std::move(reply.first), reply_w = std::move(reply.second);
    std::thread relayer;
    if (relay) {
        auto hop = sys::pipe().value();
        relayer =
            std::thread([in = std::move(stream_r), out = std::move(hop.second), relay]() mutable {
                std::vector<std::byte> buf(65536);
                uint64_t offset = 0;
                while (true) {
                    auto n = sys::read(in.get(), buf);
                    if (!n || *n == 0)
                        break;
                    auto chunk = std::span(buf).first(*n);
                    relay(chunk, offset);
                    offset += *n;
                    if (!sys::write_all(out.get(), chunk))
                        break;
                }
            });
        stream_r = std::move(hop.first);
    }
    Transfer t;
    std::thread receiver([&, in = std::move(stream_r), out = std::move(reply_w)]() mutable {
        t.received = filecopy::unpack(in.get(), out.get(), dest_fd, options);
        in.reset(); // a sender still writing now sees EPIPE
        out.reset();
    });
    t.sent = filecopy::pack(paths, stream_w.get(), reply_r.get(), pack);
    stream_w.reset();
    receiver.join();
    if (relayer.joinable())
        relayer.join();
    return t;
}

filecopy::UnpackReport unpack_bytes(std::vector<std::byte> const& stream, int dest_fd,
                                    filecopy::UnpackOptions const& options) {
    auto pipe = sys::pipe().value();
    auto reply = sys::pipe().value();
    UniqueFd stream_r = std::move(pipe.first), reply_r = std::move(reply.first),
             reply_w = std::move(reply.second);
    std::thread writer(
        [&stream, w = std::move(pipe.second)]() mutable { (void)sys::write_all(w.get(), stream); });
    auto report = filecopy::unpack(stream_r.get(), reply_w.get(), dest_fd, options);
    stream_r.reset();
    writer.join();
    // The reply is on the pipe: a result_header with the same error code.
    std::array<std::byte, rpc::filecopy::result_header_size> raw;
    REQUIRE(sys::read_exact(reply_r.get(), raw).has_value());
    CHECK(rpc::filecopy::load_le32(raw.data()) == report.error_code);
    CHECK(rpc::filecopy::load_le64(raw.data() + 8) == report.crc32);
    return report;
}

void append_entry(std::vector<std::byte>& out, std::string const& name, uint32_t mode,
                  std::string const& data, uint32_t mtime) {
    rpc::filecopy::FileHeader h{uint32_t(name.size() + 1), mode, data.size(), mtime, 0, mtime, 0};
    auto raw = rpc::filecopy::encode(h);
    out.insert(out.end(), raw.begin(), raw.end());
    for (char c : name)
        out.push_back(std::byte(c));
    out.push_back(std::byte(0));
    for (char c : data)
        out.push_back(std::byte(c));
}

void append_end(std::vector<std::byte>& out) {
    auto raw = rpc::filecopy::encode_end();
    out.insert(out.end(), raw.begin(), raw.end());
}

} // namespace bulkhead::test
