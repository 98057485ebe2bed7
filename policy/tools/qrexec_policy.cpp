// qrexec-policy: `lint` checks policy directories, `eval` prints the decision for one call.
// Exit codes: lint 0 valid / 1 problems; eval 0 allow|ask, 1 deny, 2 usage or file error.
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/policy/evaluate.h>
#include <bulkhead/policy/policy.h>
#include <bulkhead/policy/system_info.h>

#include <cstdio>
#include <string>
#include <vector>

using namespace bulkhead;
using namespace bulkhead::policy;

namespace {

int usage() {
    std::fputs("usage: qrexec-policy lint [--policy-dir DIR]...\n"
               "       qrexec-policy eval [--policy-dir DIR]... --system-info FILE.json "
               "SOURCE TARGET SERVICE[+ARG]\n",
               stderr);
    return 2;
}

void print_problems(std::vector<Problem> const& problems) {
    for (auto const& p : problems)
        std::fprintf(stderr, "%s\n", p.text().c_str());
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2)
        return usage();
    std::string cmd = argv[1];
    if (cmd != "lint" && cmd != "eval")
        return usage();
    std::vector<std::string> dirs, positional;
    std::string system_info;
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--policy-dir" || a == "--system-info") {
            if (i + 1 >= argc)
                return usage();
            (a == "--policy-dir" ? dirs.emplace_back() : system_info) = argv[++i];
        } else if (a.size() > 1 && a[0] == '-') {
            return usage();
        } else {
            positional.push_back(a);
        }
    }
    if (dirs.empty())
        dirs.push_back("/etc/qubes/policy.d");
    std::vector<Problem> problems;
    if (cmd == "lint") {
        if (!positional.empty() || !system_info.empty())
            return usage();
        Policy::load_collect(dirs, problems);
        print_problems(problems);
        return problems.empty() ? 0 : 1;
    }
    if (positional.size() != 3 || system_info.empty())
        return usage();
    auto json = sys::read_file(system_info, 16u << 20);
    if (!json) {
        std::fprintf(stderr, "qrexec-policy: %s: %s\n", system_info.c_str(),
                     json.error().message().c_str());
        return 2;
    }
    auto info = SystemInfo::from_json(*json);
    if (!info) {
        std::fprintf(stderr, "qrexec-policy: %s: %s\n", system_info.c_str(),
                     info.error().message().c_str());
        return 2;
    }
    Policy policy = Policy::load_collect(dirs, problems);
    Decision d = Deny{true};
    if (!problems.empty())
        print_problems(problems); // a broken policy denies everything
    else
        d = evaluate(policy, make_request(positional[0], positional[1], positional[2]), *info);
    std::printf("%s\n", format_decision(d).c_str());
    return std::holds_alternative<Deny>(d) ? 1 : 0;
}
