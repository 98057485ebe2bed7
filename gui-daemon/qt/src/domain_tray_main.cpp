// bulkhead-domains: dom0's tray icon and list of running domains with their label colours,
// notifying when a domain starts or stops and when the GUI daemon records a clipboard copy
// or paste. Reads the admin API (as the qvm-* tools do).
//   usage: bulkhead-domains [--socket PATH] [--notice PATH] [--interval MS] [--list]
//   --list   print the running domains once (name state class label #rrggbb) and exit
#include "domain_tray.h"

#include <bulkhead/dom0/api/api_client.h>
#include <bulkhead/dom0/api/framing.h>

#include <QApplication>
#include <QSystemTrayIcon>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

using bulkhead::Result;
using bulkhead::gui::DomainRow;

Result<std::vector<DomainRow>> fetch(std::string const& socket) {
    auto client = TRY(bulkhead::dom0::ApiClient::connect(socket));
    bulkhead::admin::Request req;
    req.mutable_list_domains();
    auto ok = TRY(client.call_ok(req));
    return bulkhead::gui::domain_rows(ok);
}

std::string dir_of(std::string const& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : path.substr(0, slash);
}

int usage(FILE* to) {
    std::fputs("usage: bulkhead-domains [--socket PATH] [--notice PATH] [--interval MS] [--list]\n",
               to);
    return to == stdout ? 0 : 2;
}

} // namespace

int main(int argc, char** argv) {
    std::string socket = bulkhead::dom0::api::default_socket_path();
    std::string notice;
    long interval_ms = 1000;
    bool list = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--socket" && i + 1 < argc) {
            socket = argv[++i];
        } else if (a == "--notice" && i + 1 < argc) {
            notice = argv[++i];
        } else if (a == "--interval" && i + 1 < argc) {
            char* end = nullptr;
            interval_ms = std::strtol(argv[++i], &end, 10);
            if (*end || interval_ms < 100 || interval_ms > 600000)
                return usage(stderr);
        } else if (a == "--list") {
            list = true;
        } else if (a == "--help") {
            return usage(stdout);
        } else if (a.starts_with("-platform") || a.starts_with("-display")) {
            ++i; // Qt's own options, left to QApplication
        } else {
            return usage(stderr);
        }
    }
    if (notice.empty())
        notice = dir_of(socket) + "/clipboard-notice";
    if (list) {
        auto rows = fetch(socket);
        if (!rows) {
            std::fprintf(stderr, "bulkhead-domains: %s\n", rows.error().message().c_str());
            return 1;
        }
        for (auto const& r : *rows)
            std::printf("%s %s %s %s #%06x\n", r.name.c_str(), r.state.c_str(), r.klass.c_str(),
                        r.label.c_str(), r.rgb);
        return std::fflush(stdout) == 0 ? 0 : 1;
    }
    QApplication app(argc, argv);
    app.setQuitOnLastWindowClosed(false);
    bulkhead::gui::DomainTray tray([socket] { return fetch(socket); }, notice,
                                   std::chrono::milliseconds(interval_ms));
    if (!QSystemTrayIcon::isSystemTrayAvailable())
        tray.show(); // no tray to live in: the list is the program
    return app.exec();
}
