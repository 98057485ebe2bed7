// The template files of guest-agent/openinvm/rootfs: service scripts, Nautilus scripts,
// Thunar custom actions, Dolphin service menus; and that the busybox layer installs them.
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/text.h>
#include <bulkhead/openinvm/rootfs.h>
#include <bulkhead/templates/template_store.h>

#include <catch2/catch.hpp>

#include <map>
#include <unistd.h>

using namespace bulkhead;
using namespace bulkhead::openinvm;

namespace {

std::map<std::string, RootfsFile> files_by_path() {
    std::map<std::string, RootfsFile> m;
    for (auto const& f : rootfs_files())
        m.emplace(std::string(f.path), f);
    return m;
}

size_t count(std::string_view hay, std::string_view needle) {
    size_t n = 0;
    for (auto p = hay.find(needle); p != std::string_view::npos; p = hay.find(needle, p + 1))
        ++n;
    return n;
}

std::string const kScripts = "etc/skel/.local/share/nautilus/scripts/";

} // namespace

TEST_CASE("rootfs: qrexec services call the service programs") {
    auto m = files_by_path();
    REQUIRE(m.count("etc/qubes-rpc/qubes.OpenInVM"));
    REQUIRE(m.count("etc/qubes-rpc/qubes.OpenURL"));
    CHECK(m.at("etc/qubes-rpc/qubes.OpenInVM").mode == 0755);
    CHECK(m.at("etc/qubes-rpc/qubes.OpenInVM")
              .content.find("exec /usr/lib/bulkhead/vm-file-editor") != std::string_view::npos);
    CHECK(m.at("etc/qubes-rpc/qubes.OpenURL")
              .content.find("exec /usr/lib/bulkhead/bulkhead-open-url") != std::string_view::npos);
}

TEST_CASE("rootfs: Nautilus scripts, executable, valid sh, calling the right tools") {
    auto m = files_by_path();
    std::map<std::string, std::string> want = {
        {"Open in disposable VM", "qvm-open-in-dvm --view-only \"$f\""},
        {"Edit in disposable VM", "qvm-open-in-dvm \"$f\""},
        {"Copy to other domain", "exec qvm-copy \"$@\""},
        {"Move to other domain", "exec qvm-move \"$@\""},
    };
    auto dir = sys::make_temp_dir("/tmp/bh-oiv-sh-").value();
    for (auto const& [name, line] : want) {
        INFO(name);
        REQUIRE(m.count(kScripts + name));
        auto const& f = m.at(kScripts + name);
        CHECK(f.mode == 0755);
        CHECK(f.content.rfind("#!/bin/sh\n", 0) == 0);
        CHECK(f.content.find(line) != std::string_view::npos);
        auto path = dir + "/s";
        REQUIRE(sys::write_file_atomic(path, f.content, 0755).has_value());
        CHECK(sys::run({"/bin/sh", "-n", path}).value().status.code == 0);
    }
    (void)sys::remove_tree(dir);
}

TEST_CASE("rootfs: Thunar uca.xml has the four actions") {
    auto m = files_by_path();
    REQUIRE(m.count("etc/xdg/Thunar/uca.xml"));
    auto xml = m.at("etc/xdg/Thunar/uca.xml").content;
    CHECK(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 0) == 0);
    CHECK(count(xml, "<action>") == 4);
    CHECK(count(xml, "</action>") == 4);
    CHECK(count(xml, "<unique-id>") == 4);
    for (auto s : {"<name>Open in disposable VM</name>", "<name>Edit in disposable VM</name>",
                   "<name>Copy to other domain</name>", "<name>Move to other domain</name>",
                   "<command>qvm-open-in-dvm --view-only %f</command>",
                   "<command>qvm-open-in-dvm %f</command>", "<command>qvm-copy %F</command>",
                   "<command>qvm-move %F</command>"}) {
        INFO(s);
        CHECK(xml.find(s) != std::string_view::npos);
    }
    CHECK(xml.find("</actions>") != std::string_view::npos);
}

// desktop-file-validate knows Type=Service only as KDE's: it flags MimeType and Actions
// there (which KIO service menus need). Every other complaint fails the test.
TEST_CASE("rootfs: Dolphin service menus pass desktop-file-validate") {
    REQUIRE(::access("/usr/bin/desktop-file-validate", X_OK) == 0); // scripts/install-deps.sh
    auto dir = sys::make_temp_dir("/tmp/bh-oiv-desktop-").value();
    auto validate = [&](std::string_view content) {
        auto path = dir + "/menu.desktop";
        REQUIRE(sys::write_file_atomic(path, content).has_value());
        auto r = sys::run({"desktop-file-validate", path}).value();
        std::vector<std::string> other;
        for (auto const& l : text::split(r.out + r.err, '\n')) {
            if (l.empty())
                continue;
            bool kde_only = l.find("but the type is \"Service\" while this key is only valid for "
                                   "type \"Application\"") != std::string::npos &&
                            (l.find("key \"MimeType\"") != std::string::npos ||
                             l.find("key \"Actions\"") != std::string::npos);
            if (!kde_only)
                other.push_back(l);
        }
        return other;
    };
    auto m = files_by_path();
    std::string all;
    int menus = 0;
    for (auto const& [path, f] : m) {
        if (path.rfind("usr/share/kio/servicemenus/", 0) != 0)
            continue;
        ++menus;
        INFO(path);
        CHECK(path.substr(path.size() - 8) == ".desktop");
        CHECK(validate(f.content).empty());
        CHECK(f.content.find("X-KDE-ServiceTypes=KonqPopupMenu/Plugin") != std::string_view::npos);
        all += std::string(f.content);
    }
    CHECK(menus == 2);
    for (auto s :
         {"Name=Open in disposable VM", "Exec=qvm-open-in-dvm --view-only %f",
          "Name=Edit in disposable VM", "Exec=qvm-open-in-dvm %f", "Name=Copy to other domain",
          "Exec=qvm-copy %F", "Name=Move to other domain", "Exec=qvm-move %F"}) {
        INFO(s);
        CHECK(all.find(s) != std::string::npos);
    }
    // The filter lets real mistakes through: an action group without Name, a bad key.
    auto broken = validate("[Desktop Entry]\nType=Service\nActions=A;\n\n[Desktop Action A]\n"
                           "Exec=qvm-copy %F\nBogus Key=1\n");
    CHECK_FALSE(broken.empty());
    (void)sys::remove_tree(dir);
}

TEST_CASE("busybox layer installs the files and puts the tools on PATH") {
    auto dir = sys::make_temp_dir("/tmp/bh-oiv-layer-").value();
    auto base = dir + "/base";
    REQUIRE(templates::build_busybox_layer(base, "/bin/busybox").has_value());
    for (auto const& f : rootfs_files()) {
        auto path = base + "/" + std::string(f.path);
        INFO(path);
        CHECK(sys::read_file(path).value_or("") == f.content);
        CHECK((sys::stat(path).value().st_mode & 07777) == f.mode);
    }
    for (auto const* tool : path_tools())
        CHECK(sys::readlink(base + "/usr/bin/" + tool).value() ==
              std::string("/usr/lib/bulkhead/") + tool);
    (void)sys::remove_tree(dir);
}
