#include <bulkhead/templates/template_store.h>

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/text.h>
#include <bulkhead/openinvm/rootfs.h>

#include <filesystem>
#include <sys/stat.h>

namespace bulkhead::templates {

namespace {
bool valid_name(std::string const& n) {
    if (n.empty() || n.size() > 64 || n[0] == '.')
        return false;
    for (char c : n)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
            return false;
    return true;
}

std::vector<std::string> lines(std::string_view text) {
    std::vector<std::string> out;
    for (auto const& l : text::split(text, '\n'))
        if (auto t = text::trim(l); !t.empty())
            out.emplace_back(t);
    return out;
}

Result<void> write(std::string const& path, std::string_view text, mode_t mode = 0644) {
    return sys::write_file_atomic(path, text, mode);
}
} // namespace

Result<void> build_busybox_layer(std::string const& dir, std::string const& busybox) {
    for (auto sub : {"bin", "sbin", "usr/bin", "usr/sbin", "etc/qubes-rpc", "home/user", "rw",
                     "tmp", "root", "proc", "dev", "var/log", "run"})
        TRY(sys::mkdir_p(dir + "/" + sub, 0755));
    TRY(sys::chmod(dir + "/tmp", 01777));
    TRY(sys::unlink(dir + "/var/run")); // /var/run -> /run: the agent's socket lives there
    TRY(sys::symlink("/run", dir + "/var/run"));
    TRY(sys::chown(dir + "/home/user", 1000, 1000));
    auto binary = TRY_CTX(sys::read_file(busybox), "reading busybox");
    TRY(write(dir + "/bin/busybox", binary, 0755));
    auto list = TRY(sys::run({busybox, "--list-full"}));
    if (list.status.code != 0)
        return unexpected(Errc::System, busybox + " --list-full failed");
    for (auto const& applet : lines(list.out)) {
        if (applet == "bin/busybox" || applet.find("..") != std::string::npos)
            continue;
        auto link = dir + "/" + applet;
        TRY(sys::unlink(link));
        TRY(sys::symlink("/bin/busybox", link));
    }
    TRY(write(dir + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                                   "user:x:1000:1000:user:/home/user:/bin/sh\n"));
    TRY(write(dir + "/etc/group", "root:x:0:\nuser:x:1000:\n"));
    TRY(write(dir + "/etc/hostname", "bulkhead\n"));
    TRY(write(dir + "/etc/qubes-rpc/qubes.Echo", "#!/bin/sh\nexec cat\n", 0755));
    TRY(write(dir + "/etc/qubes-rpc/qubes.Hostname", "#!/bin/sh\nexec hostname\n", 0755));
    // The guest tools dom0 shows at /usr/lib/bulkhead, on PATH as in a Qubes template.
    TRY(sys::unlink(dir + "/usr/bin/qrexec-client-vm"));
    TRY(sys::symlink("/usr/lib/bulkhead/qrexec-client-vm", dir + "/usr/bin/qrexec-client-vm"));
    // File copy: the qubes.Filecopy service is the unpacker (as in Qubes); qvm-copy and its
    // three other names are one script.
    TRY(sys::unlink(dir + "/etc/qubes-rpc/qubes.Filecopy"));
    TRY(sys::symlink("/usr/lib/bulkhead/qfile-unpacker", dir + "/etc/qubes-rpc/qubes.Filecopy"));
    for (auto const* tool : {"qvm-copy", "qvm-move", "qvm-copy-to-vm", "qvm-move-to-vm"}) {
        TRY(sys::unlink(dir + "/usr/bin/" + tool));
        TRY(sys::symlink("/usr/lib/bulkhead/qvm-copy", dir + "/usr/bin/" + tool));
    }
    // Open in another domain: services, file-manager actions, qvm-open-in-{vm,dvm} on PATH.
    for (auto const& f : openinvm::rootfs_files()) {
        auto path = dir + "/" + std::string(f.path);
        TRY(sys::mkdir_p(path.substr(0, path.rfind('/')), 0755));
        TRY(write(path, f.content, f.mode));
    }
    for (auto const* tool : openinvm::path_tools()) {
        TRY(sys::unlink(dir + "/usr/bin/" + tool));
        TRY(sys::symlink(std::string("/usr/lib/bulkhead/") + tool, dir + "/usr/bin/" + tool));
    }
    return ok();
}

Result<void> TemplateStore::create_busybox(std::string const& tmpl, std::string const& busybox) {
    if (!valid_name(tmpl))
        return unexpected(Errc::Invalid, "bad template name: " + tmpl);
    if (sys::exists(dir(tmpl)))
        return unexpected(Errc::Exists, "template exists: " + tmpl);
    auto built = build_busybox_layer(dir(tmpl) + "/base", busybox);
    if (built)
        built = write(dir(tmpl) + "/layers", "base\n");
    if (!built)
        (void)sys::remove_tree(dir(tmpl)); // no half-built template blocks a retry
    return built;
}

Result<void> TemplateStore::add_layer(std::string const& tmpl, std::string const& layer,
                                      std::string const& source_dir) {
    if (!valid_name(tmpl) || !valid_name(layer) || layer == "layers")
        return unexpected(Errc::Invalid, "bad template or layer name");
    auto existing = TRY(sys::read_file(dir(tmpl) + "/layers"));
    auto names = lines(existing);
    for (auto const& n : names)
        if (n == layer)
            return unexpected(Errc::Exists, "layer exists: " + layer);
    auto source = TRY_CTX(sys::stat(source_dir), "layer source " + source_dir);
    if (!S_ISDIR(source.st_mode))
        return unexpected(Errc::Invalid, "layer source is not a directory: " + source_dir);
    // copy() would merge into a leftover directory of that name: refuse it instead.
    auto target = dir(tmpl) + "/" + layer;
    if (sys::exists(target))
        return unexpected(Errc::Exists, "layer directory exists: " + target);
    std::error_code ec;
    std::filesystem::copy(source_dir, target,
                          std::filesystem::copy_options::recursive |
                              std::filesystem::copy_options::copy_symlinks,
                          ec);
    if (ec) {
        (void)sys::remove_tree(target);
        return Error(Errc::System, "copying " + source_dir + ": " + ec.message());
    }
    return write(dir(tmpl) + "/layers", existing + layer + "\n");
}

Result<std::vector<std::string>> TemplateStore::layers(std::string const& tmpl) const {
    auto text = TRY_CTX(sys::read_file(dir(tmpl) + "/layers"), "template " + tmpl);
    auto base = TRY(sys::realpath(dir(tmpl)));
    std::vector<std::string> out;
    for (auto const& n : lines(text))
        out.push_back(base + "/" + n);
    if (out.empty())
        return unexpected(Errc::Invalid, "template without layers: " + tmpl);
    return out;
}

} // namespace bulkhead::templates
