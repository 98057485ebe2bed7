// Fuzz target filecopy_reply: the bytes a sender reads back (result_header, result_header_ext,
// last name) through FilecopyValidator. Invariants: a shown last name is printable ASCII
// without '"', at most max_last_namelen bytes.
#include <bulkhead/rpc/filecopy/validator.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

using namespace bulkhead::rpc::filecopy;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    std::span<std::byte const> in(reinterpret_cast<std::byte const*>(data), size);
    if (in.size() < result_header_size)
        return 0;
    auto r = FilecopyValidator::reply(UntrustedBytes(in.first(result_header_size)));
    if (!r)
        std::abort(); // any 16 bytes are a reply
    in = in.subspan(result_header_size);
    if (in.size() < result_header_ext_size)
        return 0;
    auto len =
        FilecopyValidator::reply_last_namelen(UntrustedBytes(in.first(result_header_ext_size)));
    in = in.subspan(result_header_ext_size);
    if (!len)
        return 0;
    auto name = in.first(std::min<size_t>(*len, in.size()));
    auto shown = FilecopyValidator::reply_last_name(UntrustedBytes(name));
    bool printable = std::all_of(shown.begin(), shown.end(),
                                 [](char c) { return c >= ' ' && c <= '~' && c != '"'; });
    if (!printable || shown.size() != name.size()) {
        std::fprintf(stderr, "filecopy_reply: unsafe last name shown\n");
        std::abort();
    }
    return 0;
}
