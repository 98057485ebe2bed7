// dom0-side storage for xen guests: images built from directories, loop devices over them.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>

#include <cstdint>
#include <string>

namespace bulkhead::dom0::xen {

// A read-only squashfs image of a template layer directory, built once (mksquashfs, to a
// temporary name, then renamed) and reused; a layer never changes once committed.
Result<void> ensure_layer_image(std::string const& layer_dir, std::string const& image);

// A private volume image: ext4, seeded with private_dir's contents when first made
// (mke2fs -d), persistent afterwards. The directory is only the seed; the image is the volume.
Result<void> ensure_private_image(std::string const& private_dir, std::string const& image,
                                  uint64_t size_mib);

// One file read from an ext4 image without mounting it (debugfs): NotFound if absent.
Result<std::string> read_from_ext4_image(std::string const& image, std::string const& path);

// A loop device over file, autoclear: the kernel frees it once the last user (blkback,
// and this fd) let go. Keep the returned fd open until blkback has the device.
struct LoopDevice {
    UniqueFd fd;
    std::string path; // /dev/loopN
};
Result<LoopDevice> attach_loop(std::string const& file, bool writable);

} // namespace bulkhead::dom0::xen
