// Open in another domain end to end: a domain runs qvm-open-in-dvm on a file, the
// disposable's viewer (from /etc/bulkhead/open-command) edits it, the edit comes back,
// and dom0 destroys the disposable when the call ends.
#include "system.h"

#include <bulkhead/base/sys/fd.h>

#include <catch2/catch.hpp>

#include <thread>

using bulkhead::testing::System;
namespace sys = bulkhead::sys;

TEST_CASE("qvm-open-in-dvm: the disposable's edit replaces the file; the disposable is gone",
          "[integration]") {
    System s("qubes.OpenInVM * @anyvm @dispvm allow\n");
    s.make_template();
    // The viewer every domain of tmpl uses: appends a line naming the domain it ran in.
    s.ok({"qvm-template", "import-layer", "tmpl",
          s.make_layer_dir("etc/bulkhead/open-command", "/bin/sh /etc/bulkhead/test-viewer\n")});
    s.ok({"qvm-template", "import-layer", "tmpl",
          s.make_layer_dir("etc/bulkhead/test-viewer",
                           "case \"$1\" in *keep*) exit 0 ;; esac\n"
                           "echo \"edited in $(hostname)\" >> \"$1\"\n")});
    s.ok({"qvm-create", "-t", "tmpl", "-l", "red", "-P", "template_for_dispvms=True", "dvm"});
    s.ok({"qvm-create", "-t", "tmpl", "-l", "blue", "-P", "default_dispvm=dvm", "work"});
    s.ok({"qvm-run", "-p", "work", "echo original > /home/user/doc.txt"});

    auto r = s.tool({"qvm-run", "-p", "work", "qvm-open-in-dvm /home/user/doc.txt"});
    INFO("stderr: " << r.err << "\ndaemon log:\n" << s.daemon_log());
    REQUIRE(r.code == 0);
    auto doc = s.ok({"qvm-run", "-p", "work", "cat /home/user/doc.txt"});
    CHECK(doc.rfind("original\nedited in disp", 0) == 0);
    CHECK(s.ok({"qvm-run", "-p", "work", "ls -a /home/user"}).find(".edit-") == std::string::npos);

    // Gone from the store and the disk (destruction is asynchronous: allow a moment).
    std::string list = s.raw_list_without("disp");
    CHECK(list.find("disp") == std::string::npos);
    for (auto const& n : sys::list_dir(s.root() + "/appvms").value_or(std::vector<std::string>{}))
        CHECK(n.rfind("disp", 0) != 0);

    // A viewer that changes nothing: nothing comes back, the original is untouched (mtime).
    s.ok({"qvm-run", "-p", "work", "echo same > /home/user/keep.txt"});
    auto before = s.ok({"qvm-run", "-p", "work", "stat -c %Y.%i /home/user/keep.txt"});
    std::this_thread::sleep_for(std::chrono::milliseconds(1100)); // a rewrite would show
    s.ok({"qvm-run", "-p", "work", "qvm-open-in-dvm /home/user/keep.txt"});
    CHECK(s.ok({"qvm-run", "-p", "work", "cat /home/user/keep.txt"}) == "same\n");
    CHECK(s.ok({"qvm-run", "-p", "work", "stat -c %Y.%i /home/user/keep.txt"}) == before);

    // Without a policy rule the call is refused and the file stays as it was.
    auto denied = s.tool({"qvm-run", "-p", "work", "qvm-open-in-vm dvm /home/user/doc.txt"});
    CHECK(denied.code != 0);
    CHECK(s.ok({"qvm-run", "-p", "work", "cat /home/user/doc.txt"}) == doc);
}
