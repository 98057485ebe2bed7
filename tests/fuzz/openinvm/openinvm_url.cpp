// Fuzz target openinvm_url: UrlValidator on any bytes (the line a caller sends to
// qubes.OpenURL). An accepted URL has an allowed scheme and no control or space bytes.
#include <bulkhead/base/text.h>
#include <bulkhead/openinvm/validate.h>

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace bulkhead;
using namespace bulkhead::openinvm;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    std::string raw(reinterpret_cast<char const*>(data), size);
    auto v = UrlValidator::validate(Untrusted<std::string>(raw));
    if (!v)
        return 0;
    auto const& u = *v;
    bool bad = u.empty() || u.size() > kMaxUrlBytes || !text::is_valid_utf8(u);
    for (char c : u)
        bad = bad || static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
    auto sep = u.find("://");
    bad = bad || sep == std::string::npos || sep > 5;
    if (bad)
        std::abort();
    return 0;
}
