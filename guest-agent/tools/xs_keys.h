// xenstore reads shared by the guest's Xen tools (bulkhead-xen-init, bulkhead-xen-net), which
// link libxenstore statically and nothing else of Bulkhead's.
#pragma once

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

extern "C" {
#include <xenstore.h>
}

namespace bulkhead::xs {

// One key's value; false when it cannot be read (errno says why: ENOENT when absent).
inline bool read_key(xs_handle* xs, std::string const& key, std::string& out) {
    unsigned len = 0;
    void* v = xs_read(xs, XBT_NULL, key.c_str(), &len);
    if (!v)
        return false;
    out.assign(static_cast<char*>(v), len);
    std::free(v);
    return true;
}

// dir/0, dir/1, ... up to the first missing one.
inline std::vector<std::string> read_list(xs_handle* xs, std::string const& dir) {
    std::vector<std::string> out;
    for (unsigned i = 0;; ++i) {
        std::string v;
        if (!read_key(xs, dir + "/" + std::to_string(i), v))
            break;
        out.push_back(std::move(v));
    }
    return out;
}

// The names under dir (none when it is absent or unreadable).
inline std::vector<std::string> list_dir(xs_handle* xs, std::string const& dir) {
    std::vector<std::string> out;
    unsigned n = 0;
    if (char** names = xs_directory(xs, XBT_NULL, dir.c_str(), &n)) {
        for (unsigned i = 0; i < n; ++i)
            out.emplace_back(names[i]);
        std::free(names);
    }
    return out;
}

} // namespace bulkhead::xs
