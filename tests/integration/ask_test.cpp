// Policy "ask" end to end: a real bulkheadd with --ask-agent script:PATH, the answer picking
// where a domain's call runs (or denying it).
#include "system.h"

#include <bulkhead/base/sys/fd.h>

#include <catch2/catch.hpp>

using bulkhead::testing::System;
namespace sys = bulkhead::sys;

namespace {

std::string const kClient = "/usr/lib/bulkhead/qrexec-client-vm";

} // namespace

TEST_CASE("policy ask: the answer picks the target; deny, not offered, timeout are 126",
          "[integration]") {
    auto dir = sys::make_temp_dir("/tmp/bulkhead-it-ask-").value();
    // The answerer: records the question, answers what the test put in ./answer.
    auto script = dir + "/answer.sh";
    REQUIRE(sys::write_file_atomic(script,
                                   "#!/bin/sh\ncat > " + dir + "/question\na=$(cat " + dir +
                                       "/answer)\n[ \"$a\" = hang ] && exec sleep 30\n"
                                       "printf '%s\\n' \"$a\"\n",
                                   0755));
    auto answer = [&](std::string const& a) {
        REQUIRE(sys::write_file_atomic(dir + "/answer", a, 0644));
    };
    {
        System s("qubes.Hostname * untrusted @dispvm ask default_target=@dispvm:dvm\n"
                 "qubes.Hostname * untrusted @anyvm ask default_target=work\n",
                 {"--ask-agent", "script:" + script, "--ask-timeout", "1.5"});
        s.make_template();
        s.ok({"qvm-create", "-t", "tmpl", "-l", "blue", "work"});
        s.ok({"qvm-create", "-t", "tmpl", "-l", "black", "vault"});
        s.ok(
            {"qvm-create", "-t", "tmpl", "-l", "purple", "-P", "template_for_dispvms=True", "dvm"});
        s.ok({"qvm-create", "-t", "tmpl", "-l", "red", "-P", "default_dispvm=dvm", "untrusted"});
        auto call = [&](std::string const& target) {
            return s.tool(
                {"qvm-run", "-p", "untrusted", kClient + " " + target + " qubes.Hostname"});
        };
        INFO("daemon log:\n" << s.daemon_log());

        answer("vault"); // not the default: the call runs where the answer says (autostart)
        auto r = call("@default");
        CHECK(r.code == 0);
        CHECK(r.out == "vault\n");
        auto q = sys::read_file(dir + "/question").value();
        INFO("question: " << q);
        CHECK(q.find("\"source\":\"untrusted\"") != std::string::npos);
        CHECK(q.find("\"service\":\"qubes.Hostname\"") != std::string::npos);
        CHECK(q.find("\"default_target\":\"work\"") != std::string::npos);
        CHECK(q.find("{\"name\":\"vault\",\"label\":\"black\",\"color\":\"#000000\"}") !=
              std::string::npos);
        CHECK(q.find("{\"name\":\"work\",\"label\":\"blue\",\"color\":\"#3465a4\"}") !=
              std::string::npos);

        answer("work");
        r = call("vault"); // the request names vault; the user may still pick another offered one
        CHECK(r.code == 0);
        CHECK(r.out == "work\n");

        answer("@dispvm:dvm"); // a new disposable of dvm (the dispvm path)
        r = call("@dispvm");
        CHECK(r.code == 0);
        CHECK(r.out.rfind("disp", 0) == 0);
        q = sys::read_file(dir + "/question").value();
        CHECK(q.find("\"default_target\":\"@dispvm:dvm\"") != std::string::npos);
        CHECK(q.find("{\"name\":\"@dispvm:dvm\",\"label\":\"purple\",\"color\":\"#75507b\"}") !=
              std::string::npos);

        answer(""); // deny
        CHECK(call("work").code == 126);
        answer("dom0"); // not offered
        CHECK(call("work").code == 126);
        answer("hang"); // no answer within --ask-timeout
        auto start = std::chrono::steady_clock::now();
        CHECK(call("work").code == 126);
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
    }
    (void)sys::remove_tree(dir);
}
