// A temporary template store directory for the templates tests, removed afterwards.
#pragma once

#include <bulkhead/base/sys/fd.h>

#include <catch2/catch.hpp>

#include <string>

namespace bulkhead::templates::test {

struct TempDir {
    std::string path;
    TempDir() { path = sys::make_temp_dir("/tmp/bulkhead-templates-test-").value(); }
    ~TempDir() { (void)sys::remove_tree(path); }
    TempDir(TempDir const&) = delete;
    TempDir& operator=(TempDir const&) = delete;
};

// A staged directory tree to add as a layer: files[i] = {relative path, content}.
inline std::string stage(std::string const& root, std::string const& name,
                         std::vector<std::pair<std::string, std::string>> const& files) {
    auto dir = root + "/stage-" + name;
    REQUIRE(sys::mkdir_p(dir).has_value());
    for (auto const& [rel, content] : files) {
        auto path = dir + "/" + rel;
        REQUIRE(sys::mkdir_p(path.substr(0, path.rfind('/'))).has_value());
        REQUIRE(sys::write_file_atomic(path, content).has_value());
    }
    return dir;
}

} // namespace bulkhead::templates::test
