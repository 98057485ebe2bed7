// ProcessAskAgent: a real program answers (dom0/ask/process_ask_agent.h).
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/dom0/ask/process_ask_agent.h>

#include <catch2/catch.hpp>

#include <csignal>
#include <thread>

using namespace bulkhead;
using namespace bulkhead::dom0;
using namespace std::chrono_literals;

namespace {

struct Dir {
    std::string path = sys::make_temp_dir("/tmp/bulkhead-ask-test").value();
    ~Dir() { (void)sys::remove_tree(path); }
    // An executable shell script; returns its path.
    std::string script(std::string const& name, std::string const& body) {
        auto p = path + "/" + name;
        REQUIRE(sys::write_file_atomic(p, "#!/bin/sh\n" + body, 0755));
        return p;
    }
};

AskQuestion question() {
    AskQuestion q;
    q.source = "untrusted";
    q.service = "qubes.Echo";
    q.targets = {{"work", "blue", 0x3465a4}, {"vault", "black", 0}};
    q.default_target = "vault";
    return q;
}

std::optional<std::string> ask(std::string const& program, std::chrono::milliseconds t = 5s) {
    ProcessAskAgent agent({program});
    auto r = agent.ask(question(), t);
    REQUIRE(r);
    return *r;
}

// Gone or a zombie (the orphaned child is reparented; its new parent may not reap it).
bool dead(pid_t pid) {
    auto stat = sys::read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat)
        return true;
    auto close = stat->rfind(')');
    return close != std::string::npos && close + 2 < stat->size() && (*stat)[close + 2] == 'Z';
}

} // namespace

TEST_CASE("process ask agent: the program's answer, and the question on stdin", "[ask]") {
    Dir d;
    auto p = d.script("a", "cat > " + d.path + "/question\necho work\n");
    CHECK(ask(p) == std::optional<std::string>("work"));
    auto q = question_from_json(sys::read_file(d.path + "/question").value());
    REQUIRE(q);
    CHECK(q->source == "untrusted");
    CHECK(q->service == "qubes.Echo");
    CHECK(q->default_target == std::optional<std::string>("vault"));
    REQUIRE(q->targets.size() == 2);
    CHECK(q->targets[0].name == "work");
    CHECK(q->targets[0].color == 0x3465a4);
    // Not reading the question at all is fine too.
    CHECK(ask(d.script("b", "printf vault")) == std::optional<std::string>("vault"));
}

TEST_CASE("process ask agent: deny, garbage, not offered, failure are all deny", "[ask]") {
    Dir d;
    CHECK(!ask(d.script("empty", "cat >/dev/null\n")));
    CHECK(!ask(d.script("garbage", "echo 'work; rm -rf /'\n")));
    CHECK(!ask(d.script("binary", "printf 'work\\000'\n")));
    CHECK(!ask(d.script("notoffered", "echo untrusted\n")));
    CHECK(!ask(d.script("twolines", "echo work; echo vault\n")));
    CHECK(!ask(d.script("nonzero", "echo work; exit 1\n")));
    CHECK(!ask(d.script("killed", "echo work; kill -9 $$\n")));
    CHECK(!ask(d.script("flood", "yes work\n")));
    ProcessAskAgent missing({d.path + "/does-not-exist"});
    CHECK(!missing.ask(question(), 1s)); // an error (the caller denies)
    ProcessAskAgent relative({"sh"});
    CHECK(!relative.ask(question(), 1s));
}

TEST_CASE("process ask agent: no answer within the timeout is deny; the program is killed",
          "[ask]") {
    Dir d;
    // The script and a child it leaves behind both record their pids, then hang.
    auto p = d.script("slow", "sleep 30 &\necho $! > " + d.path + "/child\necho $$ > " + d.path +
                                  "/pid\nsleep 30\necho work\n");
    auto start = std::chrono::steady_clock::now();
    CHECK(!ask(p, 300ms));
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(took >= 300ms);
    CHECK(took < 5s);
    for (auto f : {"/pid", "/child"}) {
        auto text = sys::read_file(d.path + f);
        REQUIRE(text);
        pid_t pid = std::stoi(*text);
        bool gone = false;
        for (int i = 0; i < 100 && !gone; ++i) {
            gone = dead(pid);
            if (!gone)
                std::this_thread::sleep_for(10ms);
        }
        CHECK(gone);
    }
    // Exiting with stdout held open by a background child is also bounded by the timeout.
    auto held = d.script("held", "(sleep 30) &\necho work\n");
    start = std::chrono::steady_clock::now();
    CHECK(!ask(held, 300ms));
    CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("process ask agent: concurrent questions", "[ask]") {
    Dir d;
    auto p = d.script("a", "cat >/dev/null; sleep 0.2; echo work\n");
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&] {
            ProcessAskAgent agent({p});
            auto r = agent.ask(question(), 5s);
            if (r && *r == std::optional<std::string>("work"))
                ++ok;
        });
    for (auto& t : threads)
        t.join();
    CHECK(ok == 8);
}

TEST_CASE("process ask agent: cancel_all denies pending and later asks", "[ask]") {
    Dir d;
    auto p = d.script("slow", "sleep 30; echo work\n");
    ProcessAskAgent agent({p});
    std::optional<std::string> answer = "unset";
    auto start = std::chrono::steady_clock::now();
    std::thread t([&] { answer = agent.ask(question(), 20s).value(); });
    std::this_thread::sleep_for(200ms);
    agent.cancel_all();
    t.join();
    CHECK(!answer);
    CHECK(std::chrono::steady_clock::now() - start < 5s);
    auto fast = d.script("fast", "echo work\n");
    ProcessAskAgent fast_agent({fast});
    CHECK(fast_agent.ask(question(), 5s).value() == std::optional<std::string>("work"));
    fast_agent.cancel_all();
    CHECK(!fast_agent.ask(question(), 5s).value());
}
