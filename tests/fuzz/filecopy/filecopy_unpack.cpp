// Fuzz target filecopy_unpack: the real unpacker on any stream, writing into a scratch
// destination that holds a planted symlink "escape" -> ../outside. Invariants after every
// input: nothing appeared in ../outside; no temporary file is left; every symlink created
// stays inside the destination when resolved lexically from where it sits.
#include <bulkhead/filecopy/unpack.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

void check(bool ok, char const* what) {
    if (!ok) {
        std::fprintf(stderr, "filecopy_unpack invariant failed: %s\n", what);
        std::abort();
    }
}

fs::path const& scratch() {
    static fs::path root = [] {
        char tmpl[] = "/tmp/bulkhead-fuzz-filecopy-XXXXXX";
        char* dir = ::mkdtemp(tmpl);
        check(dir != nullptr, "mkdtemp");
        return fs::path(dir);
    }();
    return root;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    auto dest = scratch() / "dest";
    auto outside = scratch() / "outside";
    std::error_code ec;
    if (fs::exists(dest)) // a previous input may have left read-only directories
        for (auto const& e : fs::recursive_directory_iterator(dest, ec))
            if (!e.is_symlink(ec) && e.is_directory(ec)) // a link loop must not throw
                fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dest, ec);
    fs::remove_all(outside, ec);
    fs::create_directories(dest);
    fs::create_directories(outside);
    fs::create_symlink("../outside", dest / "escape");

    int stream = ::memfd_create("stream", MFD_CLOEXEC);
    check(stream >= 0, "memfd_create");
    check(size == 0 || ::write(stream, data, size) == ssize_t(size), "write stream");
    ::lseek(stream, 0, SEEK_SET);
    int sink = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    int dir = ::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    check(sink >= 0 && dir >= 0, "open");
    bulkhead::filecopy::UnpackOptions caps;
    caps.max_bytes = 1 << 20;
    caps.max_files = 64;
    caps.sync_before_reply = false; // a disk flush per input would only slow the fuzzer
    auto report = bulkhead::filecopy::unpack(stream, sink, dir, caps);
    ::close(stream);
    ::close(sink);
    ::close(dir);
    check(report.replied, "no reply written");

    check(fs::is_empty(outside), "something was written through the planted symlink");
    auto base = fs::weakly_canonical(dest);
    for (auto const& entry : fs::recursive_directory_iterator(dest)) {
        auto name = entry.path().filename().string();
        check(name.rfind(".bulkhead-filecopy-", 0) != 0, "temporary file left behind");
        if (!entry.is_symlink() || entry.path() == dest / "escape")
            continue;
        auto target = fs::read_symlink(entry.path());
        check(target.is_relative(), "absolute symlink created");
        auto resolved = (entry.path().parent_path() / target).lexically_normal();
        auto rel = resolved.lexically_relative(dest);
        check(!rel.empty() && *rel.begin() != "..", "symlink escapes the destination");
    }
    return 0;
}
