// Runs the real qvm-* binaries (build/bin/qvm-*) as subprocesses against an in-test
// ApiServer (real Store in a temp root, recording Lifecycle).
#pragma once

#include "api_fixture.h"

#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/text.h>

#include <string>
#include <vector>

namespace bulkhead::dom0::test {

inline std::string bin_dir() {
    return need(sys::self_exe_dir(), "self_exe_dir") + "/..";
}

struct CliFixture : ApiFixture {
    using ApiFixture::ApiFixture;
    CliFixture() = default;
    // Runs tool with args; --admin-socket points at this fixture's server.
    sys::RunOutput run(std::string const& tool, std::vector<std::string> args,
                       std::string const& input = {}) {
        std::vector<std::string> argv{bin_dir() + "/" + tool, "--admin-socket=" + socket};
        argv.insert(argv.end(), args.begin(), args.end());
        return need(sys::run(argv, input), "run");
    }
    std::vector<std::string> lines(std::string const& out) {
        auto l = text::split(out, '\n');
        if (!l.empty() && l.back().empty())
            l.pop_back();
        return l;
    }
};

} // namespace bulkhead::dom0::test
