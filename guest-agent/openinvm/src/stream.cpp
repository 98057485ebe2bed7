#include <bulkhead/openinvm/stream.h>

#include <bulkhead/base/sys/fd.h>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace bulkhead::openinvm {

namespace {
constexpr uint64_t fnv_offset = 14695981039346656037ull;
constexpr uint64_t fnv_prime = 1099511628211ull;
} // namespace

std::array<char, 256> encode_name_field(std::string_view path, std::string_view prefix) {
    std::array<char, 256> field{};
    prefix = prefix.substr(0, 64);
    auto room = field.size() - 1 - prefix.size();
    auto slash = path.rfind('/');
    auto base = slash == std::string_view::npos ? path : path.substr(slash + 1);
    if (base.size() > room) {
        base = base.substr(base.size() - room);
        while (!base.empty() && (static_cast<unsigned char>(base.front()) & 0xc0) == 0x80)
            base.remove_prefix(1);
    }
    std::copy(prefix.begin(), prefix.end(), field.begin());
    std::copy(base.begin(), base.end(), field.begin() + static_cast<long>(prefix.size()));
    return field;
}

Result<CopyResult> copy_stream(int from, int to, uint64_t max) {
    std::vector<std::byte> buf(64 * 1024);
    CopyResult r{0, fnv_offset};
    for (;;) {
        auto n = TRY(sys::read(from, buf));
        if (n == 0)
            return r;
        if (n > max - r.bytes)
            return unexpected(Errc::Limit, "file larger than " + std::to_string(max) + " bytes");
        r.bytes += n;
        for (size_t i = 0; i < n; ++i)
            r.hash = (r.hash ^ static_cast<uint8_t>(buf[i])) * fnv_prime;
        if (to >= 0)
            TRY(sys::write_all(to, std::span<std::byte const>(buf.data(), n)));
    }
}

Result<CopyResult> hash_stream(int fd, uint64_t max) {
    return copy_stream(fd, -1, max);
}

} // namespace bulkhead::openinvm
