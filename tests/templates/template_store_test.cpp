// TemplateStore: the busybox base layer, stacking layers, listing them, and the refusals
// (bad names, duplicates, missing sources) — none of which may leave a half-made template.
#include "temp_store.h"

#include <bulkhead/base/sys/proc.h>
#include <bulkhead/templates/template_store.h>

#include <catch2/catch.hpp>

#include <sys/stat.h>

using namespace bulkhead;
using namespace bulkhead::templates;
using namespace bulkhead::templates::test;

TEST_CASE("busybox template: one base layer with a usable root tree", "[templates]") {
    TempDir tmp;
    TemplateStore store(tmp.path + "/store");
    REQUIRE(store.create_busybox("fedora-min").has_value());
    auto layers = store.layers("fedora-min").value();
    REQUIRE(layers.size() == 1);
    auto base = layers[0];
    CHECK(base == sys::realpath(tmp.path).value() + "/store/fedora-min/base");
    CHECK(sys::read_file(tmp.path + "/store/fedora-min/layers").value() == "base\n");

    auto bb = sys::stat(base + "/bin/busybox").value();
    CHECK(S_ISREG(bb.st_mode));
    CHECK((bb.st_mode & 0111) != 0);
    CHECK(sys::readlink(base + "/bin/sh").value() == "/bin/busybox");
    CHECK(sys::readlink(base + "/bin/cat").value() == "/bin/busybox");
    CHECK(sys::read_file(base + "/etc/passwd").value().find("user:x:1000:1000:") !=
          std::string::npos);
    CHECK(sys::read_file(base + "/etc/group").value().find("user:x:1000:") != std::string::npos);
    CHECK((sys::stat(base + "/tmp").value().st_mode & 07777) == 01777);
    CHECK(sys::stat(base + "/home/user").value().st_uid == 1000);
    for (auto d : {"rw", "proc", "dev", "run", "root", "var/log"})
        CHECK(S_ISDIR(sys::stat(base + "/" + d).value().st_mode));
    auto echo = sys::stat(base + "/etc/qubes-rpc/qubes.Echo").value();
    CHECK((echo.st_mode & 0111) != 0);
    CHECK(sys::exists(base + "/etc/qubes-rpc/qubes.Hostname"));
    // The busybox in the layer runs (it is static) and its applets resolve through it.
    auto out = sys::run({base + "/bin/busybox", "echo", "layer-ok"}).value();
    CHECK(out.status.code == 0);
    CHECK(out.out == "layer-ok\n");
}

TEST_CASE("a second busybox template of the same name is refused", "[templates]") {
    TempDir tmp;
    TemplateStore store(tmp.path);
    REQUIRE(store.create_busybox("t").has_value());
    auto again = store.create_busybox("t");
    REQUIRE_FALSE(again.has_value());
    CHECK(again.error().code() == Errc::Exists);
    CHECK(store.layers("t").value().size() == 1);
    // Another name in the same store is fine.
    CHECK(store.create_busybox("t2").has_value());
}

TEST_CASE("template and layer names are checked", "[templates]") {
    TempDir tmp;
    TemplateStore store(tmp.path);
    for (std::string bad : std::vector<std::string>{"", ".hidden", "..", "a/b", "../escape",
                                                    "sp ace", "tab\t", std::string(65, 'a'), "é"}) {
        INFO("name '" << bad << "'");
        auto r = store.create_busybox(bad);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == Errc::Invalid);
    }
    CHECK(sys::list_dir(tmp.path).value().empty());
    CHECK(store.create_busybox(std::string(64, 'a')).has_value());
    CHECK(store.create_busybox("debian-12.x_min").has_value());

    auto src = stage(tmp.path, "src", {{"etc/x", "x\n"}});
    for (std::string bad : std::vector<std::string>{"", "layers", ".git", "../up", "a/b", "x y"}) {
        INFO("layer '" << bad << "'");
        auto r = store.add_layer("debian-12.x_min", bad, src);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == Errc::Invalid);
    }
    CHECK(store.layers("debian-12.x_min").value().size() == 1);
}

TEST_CASE("add_layer stacks layers lowest first and copies the tree as it is", "[templates]") {
    TempDir tmp;
    TemplateStore store(tmp.path + "/store");
    REQUIRE(store.create_busybox("work").has_value());
    auto desktop = stage(tmp.path, "desktop", {{"etc/layer", "desktop\n"}, {"usr/share/a", "a"}});
    REQUIRE(sys::symlink("/etc/layer", desktop + "/etc/link").has_value());
    REQUIRE(sys::chmod(desktop + "/usr/share/a", 0600).has_value());
    auto dev = stage(tmp.path, "dev", {{"etc/layer", "dev\n"}});
    REQUIRE(store.add_layer("work", "desktop", desktop).has_value());
    REQUIRE(store.add_layer("work", "dev", dev).has_value());

    auto layers = store.layers("work").value();
    REQUIRE(layers.size() == 3);
    auto root = sys::realpath(tmp.path + "/store/work").value();
    CHECK(layers[0] == root + "/base");
    CHECK(layers[1] == root + "/desktop");
    CHECK(layers[2] == root + "/dev");
    CHECK(sys::read_file(layers[1] + "/etc/layer").value() == "desktop\n");
    CHECK(sys::read_file(layers[2] + "/etc/layer").value() == "dev\n");
    // Symlinks are copied as symlinks (never followed into the host), modes kept.
    CHECK(sys::readlink(layers[1] + "/etc/link").value() == "/etc/layer");
    CHECK((sys::stat(layers[1] + "/usr/share/a").value().st_mode & 0777) == 0600);
    // A copy, not a reference: changing the source later changes nothing.
    REQUIRE(sys::write_file_atomic(dev + "/etc/layer", "changed\n").has_value());
    CHECK(sys::read_file(layers[2] + "/etc/layer").value() == "dev\n");
    CHECK(sys::read_file(root + "/layers").value() == "base\ndesktop\ndev\n");
}

TEST_CASE("add_layer refusals leave the template as it was", "[templates]") {
    TempDir tmp;
    TemplateStore store(tmp.path + "/store");
    REQUIRE(store.create_busybox("t").has_value());
    auto src = stage(tmp.path, "src", {{"etc/x", "x\n"}});
    REQUIRE(store.add_layer("t", "extra", src).has_value());
    auto before = sys::read_file(tmp.path + "/store/t/layers").value();

    SECTION("duplicate layer name") {
        auto r = store.add_layer("t", "extra", src);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == Errc::Exists);
        auto base = store.add_layer("t", "base", src);
        REQUIRE_FALSE(base.has_value());
        CHECK(base.error().code() == Errc::Exists);
    }
    SECTION("missing template") {
        auto r = store.add_layer("nope", "extra", src);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().message().find("nope") != std::string::npos);
        CHECK_FALSE(sys::exists(tmp.path + "/store/nope"));
    }
    SECTION("missing source directory") {
        auto r = store.add_layer("t", "ghost", tmp.path + "/does-not-exist");
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().message().find("does-not-exist") != std::string::npos);
        CHECK_FALSE(sys::exists(tmp.path + "/store/t/ghost"));
    }
    SECTION("source is a file, not a directory") {
        auto r = store.add_layer("t", "file", src + "/etc/x");
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == Errc::Invalid);
        CHECK_FALSE(sys::exists(tmp.path + "/store/t/file"));
    }
    SECTION("a stale directory of that name is not merged into") {
        REQUIRE(sys::mkdir_p(tmp.path + "/store/t/stale/etc").has_value());
        REQUIRE(sys::write_file_atomic(tmp.path + "/store/t/stale/etc/old", "old").has_value());
        auto r = store.add_layer("t", "stale", src);
        REQUIRE_FALSE(r.has_value());
        CHECK(sys::exists(tmp.path + "/store/t/stale/etc/old"));
    }
    CHECK(sys::read_file(tmp.path + "/store/t/layers").value() == before);
    CHECK(store.layers("t").value().size() == 2);
}

TEST_CASE("a busybox build that fails leaves no template behind", "[templates]") {
    TempDir tmp;
    TemplateStore store(tmp.path + "/store");
    auto r = store.create_busybox("broken", tmp.path + "/no-busybox-here");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message().find("busybox") != std::string::npos);
    CHECK_FALSE(sys::exists(tmp.path + "/store/broken"));
    // So the same name can be built once the cause is fixed.
    CHECK(store.create_busybox("broken").has_value());
}

TEST_CASE("layers() refuses a template without layers or a missing one", "[templates]") {
    TempDir tmp;
    TemplateStore store(tmp.path);
    auto missing = store.layers("nothing");
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().message().find("nothing") != std::string::npos);

    REQUIRE(sys::mkdir_p(tmp.path + "/empty").has_value());
    REQUIRE(sys::write_file_atomic(tmp.path + "/empty/layers", "\n\n").has_value());
    auto empty = store.layers("empty");
    REQUIRE_FALSE(empty.has_value());
    CHECK(empty.error().code() == Errc::Invalid);
}

TEST_CASE("build_busybox_layer writes into an existing directory", "[templates]") {
    TempDir tmp;
    REQUIRE(sys::mkdir_p(tmp.path + "/root/etc").has_value());
    REQUIRE(build_busybox_layer(tmp.path + "/root", "/bin/busybox").has_value());
    CHECK(sys::readlink(tmp.path + "/root/bin/sh").value() == "/bin/busybox");
    // Building twice over the same tree is fine (applet links are replaced).
    CHECK(build_busybox_layer(tmp.path + "/root", "/bin/busybox").has_value());
}
