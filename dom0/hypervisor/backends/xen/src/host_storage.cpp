#include "host_storage.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/text.h>

#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace bulkhead::dom0::xen {
namespace {

std::string temp_name(std::string const& final_path) {
    static std::atomic<unsigned> counter{0};
    return final_path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

// Runs a tool; its failure is an Error naming the tool and quoting its stderr (dom0 data).
Result<std::string> run_tool(std::vector<std::string> const& argv) {
    auto r = sys::run(argv);
    if (!r)
        return std::move(r).error().prefix(argv[0]);
    if (r->status.code != 0) {
        auto err = r->err.substr(0, 400);
        while (!err.empty() && err.back() == '\n')
            err.pop_back();
        return unexpected(Errc::System, argv[0] + " exited " + std::to_string(r->status.code) +
                                            ": " + text::escape(err));
    }
    return std::move(r->out);
}

} // namespace

Result<void> ensure_layer_image(std::string const& layer_dir, std::string const& image) {
    if (sys::exists(image))
        return {};
    auto st = TRY(sys::stat(layer_dir));
    if (!S_ISDIR(st.st_mode))
        return unexpected(Errc::Invalid, "template layer " + layer_dir + " is not a directory");
    auto tmp = temp_name(image);
    // Uncompressed: the guest reads it under emulation too, where decompression costs most.
    auto made = run_tool({"mksquashfs", layer_dir, tmp, "-noappend", "-no-progress", "-quiet",
                          "-noI", "-noD", "-noF", "-noX", "-no-xattrs"});
    if (!made) {
        (void)sys::unlink(tmp);
        return std::move(made).error().prefix("building the image of layer " + layer_dir);
    }
    TRY(sys::rename(tmp, image));
    return {};
}

Result<void> ensure_private_image(std::string const& private_dir, std::string const& image,
                                  uint64_t size_mib) {
    if (sys::exists(image))
        return {};
    TRY(sys::mkdir_p(private_dir, 0755));
    auto tmp = temp_name(image);
    auto made = run_tool({"mke2fs", "-q", "-F", "-t", "ext4", "-L", "private", "-d", private_dir,
                          tmp, std::to_string(size_mib) + "M"});
    if (!made) {
        (void)sys::unlink(tmp);
        return std::move(made).error().prefix("creating the private volume " + image);
    }
    TRY(sys::rename(tmp, image));
    return {};
}

Result<std::string> read_from_ext4_image(std::string const& image, std::string const& path) {
    auto r = TRY(sys::run({"debugfs", "-R", "cat \"/" + path + "\"", image}));
    // debugfs exits 0 even when the file is missing; it says so on stderr.
    if (r.err.find("File not found") != std::string::npos)
        return unexpected(Errc::NotFound, path + " in " + image);
    if (r.status.code != 0)
        return unexpected(Errc::System, "debugfs exited " + std::to_string(r.status.code));
    return std::move(r.out);
}

Result<LoopDevice> attach_loop(std::string const& file, bool writable) {
    auto backing = TRY(sys::open(file, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC));
    auto control = TRY(sys::open("/dev/loop-control", O_RDWR | O_CLOEXEC));
    // Another process may take the free device between GET_FREE and CONFIGURE: retry.
    for (int attempt = 0; attempt < 16; ++attempt) {
        int n = ::ioctl(control.get(), LOOP_CTL_GET_FREE);
        if (n < 0)
            return Error::from_errno("ioctl LOOP_CTL_GET_FREE", errno);
        std::string path = "/dev/loop" + std::to_string(n);
        auto dev = sys::open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
        if (!dev)
            return std::move(dev).error();
        loop_config cfg{};
        cfg.fd = uint32_t(backing.get());
        cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR | (writable ? 0 : LO_FLAGS_READ_ONLY);
        if (::ioctl(dev->get(), LOOP_CONFIGURE, &cfg) == 0)
            return LoopDevice{std::move(*dev), path};
        if (errno != EBUSY)
            return Error::from_errno("ioctl LOOP_CONFIGURE " + path, errno);
    }
    return unexpected(Errc::Busy, "no free loop device for " + file);
}

} // namespace bulkhead::dom0::xen
