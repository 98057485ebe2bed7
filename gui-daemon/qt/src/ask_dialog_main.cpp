// bulkhead-ask-dialog: dom0's policy "ask" dialog. bulkheadd runs it with the question as
// JSON on stdin (dom0/ask/ask_agent.h); it prints the chosen target and exits 0, or exits 1
// on deny, close or timeout (2 on a bad question or usage).
//   usage: bulkhead-ask-dialog [--timeout SECONDS] < question.json
#include "ask_dialog.h"

#include <QApplication>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

int main(int argc, char** argv) {
    try {
        long timeout_s = 60;
        for (int i = 1; i < argc; ++i) {
            if (std::strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
                char* end = nullptr;
                timeout_s = std::strtol(argv[++i], &end, 10);
                if (*end || timeout_s <= 0 || timeout_s > 86400) {
                    std::fprintf(stderr, "bulkhead-ask-dialog: bad --timeout\n");
                    return 2;
                }
            } else if (std::strcmp(argv[i], "--help") == 0) {
                std::puts("usage: bulkhead-ask-dialog [--timeout SECONDS] < question.json\n"
                          "Prints the chosen target (exit 0); deny, close or timeout exit 1.");
                return 0;
            } else {
                // Qt's own options (-platform ...) are left to QApplication.
            }
        }
        std::string input;
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
            input.append(buf, n);
            if (input.size() > (1u << 20)) {
                std::fprintf(stderr, "bulkhead-ask-dialog: question too large\n");
                return 2;
            }
        }
        auto question = bulkhead::dom0::question_from_json(input);
        if (!question) {
            std::fprintf(stderr, "bulkhead-ask-dialog: %s\n", question.error().message().c_str());
            return 2;
        }
        QApplication app(argc, argv);
        bulkhead::gui::AskDialog dialog(bulkhead::gui::AskModel(std::move(*question)),
                                        std::chrono::seconds(timeout_s));
        dialog.show();
        dialog.raise();
        dialog.activateWindow();
        if (dialog.exec() != QDialog::Accepted || !dialog.answer())
            return 1;
        std::printf("%s\n", dialog.answer()->c_str());
        return std::fflush(stdout) == 0 ? 0 : 1;
    } catch (std::exception const& e) {
        std::fprintf(stderr, "bulkhead-ask-dialog: %s\n", e.what());
        return 1;
    } catch (...) {
        return 1;
    }
}
