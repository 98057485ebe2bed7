// qubes.OpenInVM end to end in-process: the caller side (open_file_in_vm) and the service
// side (serve_open_in_vm) connected by pipes, the service on a thread, real viewer scripts.
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/openinvm/caller.h>
#include <bulkhead/openinvm/service.h>
#include <bulkhead/openinvm/validate.h>

#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <span>
#include <thread>
#include <unistd.h>

using namespace bulkhead;
using namespace bulkhead::openinvm;

namespace {

// A Transport whose far end is `service(in, out)` on a thread; finish() joins it and
// returns its value as the remote exit code.
Transport in_process(std::function<int(UniqueFd in, UniqueFd out)> service) {
    auto c2s = sys::pipe().value();
    auto s2c = sys::pipe().value();
    auto code = std::make_shared<int>(-1);
    auto th = std::make_shared<std::thread>(
        [code, service, in = std::move(c2s.first), out = std::move(s2c.second)]() mutable {
            *code = service(std::move(in), std::move(out));
        });
    Transport t;
    t.to_remote = std::move(c2s.second);
    t.from_remote = std::move(s2c.first);
    t.finish = [th, code]() -> Result<int> {
        if (th->joinable())
            th->join();
        return *code;
    };
    return t;
}

struct Dirs {
    std::string work = sys::make_temp_dir("/tmp/bh-oiv-work-").value();
    std::string tmp = sys::make_temp_dir("/tmp/bh-oiv-svc-").value();
    ~Dirs() {
        (void)sys::remove_tree(work);
        (void)sys::remove_tree(tmp);
    }
};

ServiceOptions service_opts(Dirs const& d, std::string const& viewer_script) {
    ServiceOptions o;
    o.opener = {"/bin/sh", "-c", viewer_script, "viewer"};
    o.tmp_root = d.tmp;
    return o;
}

// The real service side.
Transport real_service(ServiceOptions opts) {
    return in_process([opts](UniqueFd in, UniqueFd out) {
        auto r = serve_open_in_vm(in.get(), out.get(), opts);
        return r ? 0 : 1;
    });
}

std::string make_file(Dirs const& d, std::string const& name, std::string const& content) {
    auto path = d.work + "/" + name;
    REQUIRE(sys::write_file_atomic(path, content, 0640).has_value());
    return path;
}

bool same_times(struct stat const& a, struct stat const& b) {
    return a.st_ino == b.st_ino && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
           a.st_mtim.tv_nsec == b.st_mtim.tv_nsec && a.st_size == b.st_size;
}

} // namespace

TEST_CASE("edited by the viewer: the original is replaced, mode kept, no temp left") {
    sys::ignore_sigpipe();
    Dirs d;
    auto path = make_file(d, "notes.txt", "original\n");
    auto out =
        open_file_in_vm(path, real_service(service_opts(d, "echo edited >> \"$1\"")), ViewOnly::No);
    REQUIRE(out.has_value());
    CHECK(*out == Outcome::Replaced);
    CHECK(sys::read_file(path).value() == "original\nedited\n");
    CHECK((sys::stat(path).value().st_mode & 07777) == 0640);
    CHECK(sys::list_dir(d.work).value() == std::vector<std::string>{"notes.txt"});
    CHECK(sys::list_dir(d.tmp).value().empty()); // the service's private dir is gone
}

TEST_CASE("left alone (or rewritten identically): the original is untouched") {
    sys::ignore_sigpipe();
    Dirs d;
    auto path = make_file(d, "photo.png", std::string("\x89PNG\r\n\x1a\n", 8) + "data");
    auto before = sys::stat(path).value();
    for (auto script : {"true", "cp \"$1\" \"$1.x\" && mv \"$1.x\" \"$1\"", "touch \"$1\""}) {
        INFO(script);
        auto out = open_file_in_vm(path, real_service(service_opts(d, script)), ViewOnly::No);
        REQUIRE(out.has_value());
        CHECK(*out == Outcome::Unchanged);
        CHECK(same_times(before, sys::stat(path).value()));
        CHECK(sys::list_dir(d.work).value().size() == 1);
    }
}

TEST_CASE("the viewer sees the file under its validated name in a private directory") {
    sys::ignore_sigpipe();
    Dirs d;
    auto seen = d.work + "/seen";
    auto path = make_file(d, "a b.txt", "x");
    auto script = "echo \"$1\" > " + seen + "; stat -c %a \"$(dirname \"$1\")\" >> " + seen;
    REQUIRE(open_file_in_vm(path, real_service(service_opts(d, script)), ViewOnly::No));
    auto lines = sys::read_file(seen).value();
    CHECK(lines.find(d.tmp + "/bulkhead-open-") == 0);
    CHECK(lines.find("/a_b.txt\n700\n") != std::string::npos);
}

TEST_CASE("a cut stream or failed call keeps the original") {
    sys::ignore_sigpipe();
    Dirs d;
    auto path = make_file(d, "doc.odt", "precious\n");
    auto before = sys::stat(path).value();
    for (int code : {255, 1}) {
        auto cut = in_process([code](UniqueFd in, UniqueFd out) {
            (void)sys::read_to_end(in.get());
            (void)sys::write_all(out.get(), "prec"); // part of an "edit", then the call breaks
            return code;
        });
        auto out = open_file_in_vm(path, std::move(cut), ViewOnly::No);
        CHECK_FALSE(out.has_value());
        CHECK(sys::read_file(path).value() == "precious\n");
        CHECK(same_times(before, sys::stat(path).value()));
        CHECK(sys::list_dir(d.work).value() == std::vector<std::string>{"doc.odt"});
    }
}

TEST_CASE("an edit larger than the cap is refused, the original kept") {
    sys::ignore_sigpipe();
    Dirs d;
    auto path = make_file(d, "small.txt", "abc");
    auto big = in_process([](UniqueFd in, UniqueFd out) {
        (void)sys::read_to_end(in.get());
        (void)sys::write_all(out.get(), std::string(4096, 'z'));
        return 0;
    });
    auto out = open_file_in_vm(path, std::move(big), ViewOnly::No, 1024);
    CHECK_FALSE(out.has_value());
    CHECK(sys::read_file(path).value() == "abc");
    CHECK(sys::list_dir(d.work).value().size() == 1);
}

TEST_CASE("a symlink is never followed or replaced") {
    sys::ignore_sigpipe();
    Dirs d;
    auto target = make_file(d, "target.txt", "t");
    auto link = d.work + "/link.txt";
    REQUIRE(sys::symlink(target, link).has_value());
    bool called = false;
    auto svc = in_process([&called](UniqueFd in, UniqueFd) {
        called = !sys::read_to_end(in.get()).value_or("").empty();
        return 0;
    });
    auto out = open_file_in_vm(link, std::move(svc), ViewOnly::No);
    CHECK_FALSE(out.has_value());
    CHECK_FALSE(called); // nothing was sent
    CHECK(sys::readlink(link).value() == target);
    CHECK(sys::read_file(target).value() == "t");
}

TEST_CASE("view-only: the remote copy is read-only; an edit made anyway is discarded") {
    sys::ignore_sigpipe();
    Dirs d;
    auto path = make_file(d, "v.txt", "v\n");
    auto before = sys::stat(path).value();
    auto seen = d.tmp + "-seen";
    auto script = "basename \"$1\" > " + seen + "; stat -c %a \"$1\" >> " + seen +
                  "; chmod 600 \"$1\"; echo changed > \"$1\"";
    auto out = open_file_in_vm(path, real_service(service_opts(d, script)), ViewOnly::Yes);
    CHECK(sys::read_file(seen).value_or("") == "v.txt\n400\n");
    (void)sys::unlink(seen);
    REQUIRE(out.has_value());
    CHECK(*out == Outcome::Viewed);
    CHECK(same_times(before, sys::stat(path).value()));
    CHECK(sys::list_dir(d.work).value().size() == 1);
}

TEST_CASE("service: hostile name field, symlink swap by the viewer, short field") {
    sys::ignore_sigpipe();
    Dirs d;
    auto run_service = [&](std::string const& input, std::string const& script) {
        auto in = sys::pipe().value();
        auto out = sys::pipe().value();
        REQUIRE(sys::write_all(in.second.get(), input).has_value());
        in.second.reset();
        auto r = serve_open_in_vm(in.first.get(), out.second.get(), service_opts(d, script));
        out.second.reset();
        return std::pair{r.has_value(), sys::read_to_end(out.first.get()).value()};
    };
    auto seen = d.work + "/seen";
    std::string field(kNameFieldSize, '\0');
    std::string evil = "../../home/user/.bashrc";
    std::copy(evil.begin(), evil.end(), field.begin());
    auto [ok1, back1] = run_service(field + "payload", "echo \"$1\" > " + seen);
    CHECK(ok1);
    CHECK(back1.empty());
    auto where = sys::read_file(seen).value();
    CHECK(where.find(d.tmp + "/bulkhead-open-") == 0);
    CHECK(where.size() > 13);
    CHECK(where.substr(where.size() - 13) == "/file.bashrc\n");
    // The viewer swaps the file for a symlink to a secret: nothing is sent back.
    auto secret = make_file(d, "secret", "s3cret");
    std::string field2(kNameFieldSize, '\0');
    field2.replace(0, 5, "x.txt");
    auto [ok2, back2] = run_service(field2 + "abc", "rm \"$1\" && ln -s " + secret + " \"$1\"");
    CHECK(ok2);
    CHECK(back2.empty());
    // A name field cut short: no file, no viewer, an error.
    auto [ok3, back3] = run_service("short", "echo ran > " + seen);
    CHECK_FALSE(ok3);
    CHECK(back3.empty());
    CHECK(sys::list_dir(d.tmp).value().empty());
}
