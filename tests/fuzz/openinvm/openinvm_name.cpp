// Fuzz target openinvm_name: FileNameValidator on any bytes (the 256-byte name field a
// caller sends to qubes.OpenInVM). Whatever comes in, the name must be a safe basename.
#include <bulkhead/base/text.h>
#include <bulkhead/openinvm/validate.h>

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace bulkhead;
using namespace bulkhead::openinvm;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    std::string raw(reinterpret_cast<char const*>(data), size);
    auto v = FileNameValidator::validate(Untrusted<std::string>(raw));
    auto const& n = v.name;
    bool bad = n.empty() || n.size() > kMaxNameBytes || n == "." || n == ".." ||
               n.find('/') != std::string::npos || !text::is_valid_utf8(n);
    for (char c : n)
        bad = bad || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    if (bad)
        std::abort();
    return 0;
}
