// qfile-agent FILE...: the sending side of qubes.Filecopy, as Qubes' qfile-agent. The stream
// goes to stdout, the receiver's reply comes on stdin (qrexec-client-vm connects both).
// Exit 0 only when the receiver confirmed every byte (error_code 0, matching CRC); otherwise
// a message on stderr and exit 1. --progress prints "sent/total" bytes to stderr.
#include <bulkhead/filecopy/pack.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN); // a receiver that quits shows as EPIPE, then its reply
    bool progress = false;
    std::vector<std::string> paths;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--progress")
            progress = true;
        else if (a == "--")
            for (++i; i < argc; ++i)
                paths.emplace_back(argv[i]);
        else
            paths.push_back(a);
    }
    if (paths.empty()) {
        std::fprintf(stderr, "usage: qfile-agent [--progress] FILE...\n");
        return 2;
    }
    bulkhead::filecopy::PackOptions options;
    if (progress)
        options.progress = [](uint64_t sent, uint64_t total) {
            std::fprintf(stderr, "\rsent %llu/%llu bytes", (unsigned long long)sent,
                         (unsigned long long)total);
        };
    auto r = bulkhead::filecopy::pack(paths, 1, 0, options);
    if (progress)
        std::fprintf(stderr, "\n");
    if (!r) {
        std::fprintf(stderr, "qfile-agent: %s\n", r.error().message().c_str());
        return 1;
    }
    return 0;
}
