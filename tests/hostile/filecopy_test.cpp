// A hostile domain sending qubes.Filecopy streams from the file-copy issue's list through a
// real bulkheadd into good's real qfile-unpacker: names escaping the incoming directory, an
// absolute name, a symlink out and a file through it, a file cut short. Each is refused
// (non-zero exit), nothing lands outside ~/QubesIncoming/hostile, no file there looks
// complete, and good keeps serving. The stream builders are the filecopy suite's
// (tests/guest-agent/filecopy/harness.h), which tests the unpacker alone with more streams.
#include "fixture.h"

#include "harness.h"

#include <bulkhead/base/sys/fd.h>

#include <catch2/catch.hpp>

#include <sys/stat.h>

using namespace bulkhead;
using namespace bulkhead::hostile;
namespace q = bulkhead::rpc::qrexec;

namespace {

std::string bytes(std::vector<std::byte> const& v) {
    return std::string(reinterpret_cast<char const*>(v.data()), v.size());
}

} // namespace

TEST_CASE("hostile agent: filecopy streams into good's unpacker", "[hostile]") {
    Fixture f;
    auto const incoming = f.s.root() + "/appvms/good/home/user/QubesIncoming/hostile";
    struct Case {
        char const* what;
        std::vector<std::byte> stream;
    };
    std::vector<Case> cases;
    {
        std::vector<std::byte> s;
        test::append_entry(s, "../../../../../../tmp/HSTLescape", S_IFREG | 0644, "x");
        test::append_end(s);
        cases.push_back({"a name climbing out with ..", s});
    }
    {
        std::vector<std::byte> s;
        test::append_entry(s, "/tmp/HSTLabsolute", S_IFREG | 0644, "x");
        test::append_end(s);
        cases.push_back({"an absolute name", s});
    }
    {
        std::vector<std::byte> s;
        test::append_entry(s, "out", S_IFLNK | 0777, "/tmp");
        test::append_entry(s, "out/HSTLthrough", S_IFREG | 0644, "x");
        test::append_end(s);
        cases.push_back({"a symlink out of the directory, then a file through it", s});
    }
    {
        std::vector<std::byte> s;
        test::append_entry(s, "HSTLcut", S_IFREG | 0644, std::string(1 << 20, 'c'));
        s.resize(s.size() - (1 << 20) + 10); // the header says 1 MiB, 10 bytes follow
        cases.push_back({"a file cut short, then the end of the stream", s});
    }
    {
        // The control: a well-formed stream is received, under its name.
        std::vector<std::byte> s;
        test::append_entry(s, "fine.txt", S_IFREG | 0644, "fine\n");
        test::append_end(s);
        f.bad.send(trigger3("good", "fc-ok", "qubes.Filecopy"));
        auto conn = connected(f.bad, "fc-ok");
        auto [code, out] = run_call(f.bad, conn, bytes(s));
        CHECK(code == 0);
        CHECK(sys::read_file(incoming + "/fine.txt").value_or("") == "fine\n");
    }
    int i = 0;
    for (auto const& c : cases) {
        INFO("case: " << c.what);
        auto ident = "fc" + std::to_string(i++);
        f.bad.send(trigger3("good", ident, "qubes.Filecopy"));
        auto conn = connected(f.bad, ident);
        auto [code, out] = run_call(f.bad, conn, bytes(c.stream));
        CHECK(code != 0);
        CHECK(code != q::exit_service_not_found);
        // Nothing under a name the stream chose, here or anywhere else.
        for (auto const& name : sys::list_dir(incoming).value_or(std::vector<std::string>{}))
            CHECK(name.find(kMarker) == std::string::npos);
    }
    f.good_is_fine();
    f.nothing_written_outside();
}
