#include <bulkhead/openinvm/opener.h>

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/text.h>

#include <unistd.h>

namespace bulkhead::openinvm {

namespace {

std::optional<std::string> find_on_path(std::string const& path_env, std::string const& name) {
    for (auto const& dir : text::split(path_env, ':')) {
        if (dir.empty())
            continue;
        auto candidate = dir + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0)
            return candidate;
    }
    return std::nullopt;
}

std::optional<std::vector<std::string>> command_line(std::string_view text) {
    auto argv = text::split_ws(text);
    if (argv.empty())
        return std::nullopt;
    return argv;
}

} // namespace

OpenerConfig opener_config_from_env() {
    OpenerConfig cfg;
    cfg.env_command = sys::getenv("BULKHEAD_OPEN_CMD");
    cfg.config_path = sys::getenv_or("BULKHEAD_OPEN_COMMAND_FILE", kOpenCommandFile);
    cfg.path_env = sys::getenv_or("PATH", "/usr/local/bin:/usr/bin:/bin");
    return cfg;
}

Result<std::vector<std::string>> resolve_opener(OpenerConfig const& cfg) {
    if (cfg.env_command) {
        if (auto argv = command_line(*cfg.env_command))
            return *argv;
        return unexpected(Errc::Invalid, "BULKHEAD_OPEN_CMD is empty");
    }
    if (auto text = sys::read_file(cfg.config_path, 64 * 1024)) {
        for (auto const& line : text::split(*text, '\n')) {
            auto t = text::trim(line);
            if (t.empty() || t.front() == '#')
                continue;
            if (auto argv = command_line(t))
                return *argv;
        }
    } else if (text.error().sys_errno() != ENOENT) {
        return std::move(text).error().prefix("reading the open command");
    }
    if (auto mimeopen = find_on_path(cfg.path_env, "mimeopen"))
        return std::vector<std::string>{*mimeopen, "-n"};
    if (auto xdg = find_on_path(cfg.path_env, "xdg-open"))
        return std::vector<std::string>{*xdg};
    if (auto see = find_on_path(cfg.path_env, "see"))
        return std::vector<std::string>{*see};
    return unexpected(Errc::NotFound,
                      "no program to open files: set BULKHEAD_OPEN_CMD, write " + cfg.config_path +
                          ", or install libfile-mimeinfo-perl, xdg-utils or mailcap");
}

Result<int> run_opener(std::vector<std::string> const& prefix, std::string const& target,
                       int log_fd) {
    auto null = TRY(sys::open("/dev/null", O_RDONLY | O_CLOEXEC));
    sys::SpawnOptions o;
    o.argv = prefix;
    o.argv.push_back(target);
    o.fds = {{0, null.get()}, {1, log_fd}, {2, log_fd}};
    auto pid = TRY_CTX(sys::spawn(o), "starting " + prefix.front());
    auto status = TRY(sys::waitpid(pid));
    return status.code;
}

} // namespace bulkhead::openinvm
