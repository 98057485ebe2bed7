#include <bulkhead/agent/service.h>

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/text.h>

#include <cctype>
#include <sys/stat.h>
#include <unistd.h>

namespace bulkhead::agent {

namespace {

bool name_chars(std::string_view s, std::string_view extra) {
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && extra.find(c) == std::string_view::npos)
            return false;
    return true;
}

bool is_service_name(std::string_view s) {
    return !s.empty() && s.size() <= 255 && s != "." && s != ".." && name_chars(s, "._-");
}

bool is_arg(std::string_view s) {
    return s.size() <= 1024 && s != "." && s != ".." && name_chars(s, "._-+");
}

bool is_domain_name(std::string_view s) {
    return !s.empty() && s.size() < 64 && name_chars(s, "._-@:");
}

bool truthy(std::string_view v) {
    return v == "1" || v == "true" || v == "True" || v == "yes";
}

} // namespace

std::string_view strip_nogui(std::string_view command) {
    constexpr std::string_view prefix = "nogui:";
    if (command.substr(0, prefix.size()) == prefix)
        command.remove_prefix(prefix.size());
    return command;
}

Result<std::optional<ServiceCall>> parse_service_call(std::string_view command) {
    auto words = text::split(command, ' ');
    if (words.empty() || words[0] != "QUBESRPC")
        return std::optional<ServiceCall>();
    if (words.size() < 3)
        return unexpected(Errc::Invalid, "QUBESRPC without service and source");
    ServiceCall call;
    auto const& full = words[1];
    auto plus = full.find('+');
    call.service = full.substr(0, plus);
    if (plus != std::string::npos)
        call.arg = full.substr(plus + 1);
    call.source = words[2];
    if (!is_service_name(call.service))
        return unexpected(Errc::Invalid, "bad service name");
    if (!is_arg(call.arg))
        return unexpected(Errc::Invalid, "bad service argument");
    if (!is_domain_name(call.source))
        return unexpected(Errc::Invalid, "bad source domain");
    return std::optional(std::move(call));
}

ServiceConfig parse_service_config(std::string_view content) {
    ServiceConfig c;
    for (auto const& raw : text::split(content, '\n')) {
        auto line = text::trim(raw);
        if (line.empty() || line[0] == '#')
            continue;
        auto eq = line.find('=');
        if (eq == std::string_view::npos)
            continue;
        auto key = text::trim(line.substr(0, eq));
        auto value = text::trim(line.substr(eq + 1));
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
            value.back() == value.front())
            value = value.substr(1, value.size() - 2);
        if (key == "wait-for-session")
            c.wait_for_session = truthy(value);
        else if (key == "skip-service-descriptor")
            c.skip_service_descriptor = truthy(value);
    }
    return c;
}

ServiceConfig load_service_config(std::string const& dir, ServiceCall const& call) {
    for (auto const& name : {call.full_name(), call.service}) {
        auto content = sys::read_file(dir + "/" + name, 4096);
        if (content)
            return parse_service_config(*content);
    }
    return {};
}

std::vector<std::string> split_search_path(std::string_view colon_separated) {
    std::vector<std::string> out;
    for (auto const& d : text::split(colon_separated, ':'))
        if (!d.empty())
            out.push_back(d);
    return out;
}

Result<std::optional<ServiceFile>> find_service(std::vector<std::string> const& search_path,
                                                ServiceCall const& call) {
    for (auto const& dir : search_path) {
        for (bool with_arg : {true, false}) {
            if (with_arg && call.arg.empty())
                continue;
            std::string path = dir + "/" + (with_arg ? call.full_name() : call.service);
            struct stat st {};
            if (::stat(path.c_str(), &st) < 0)
                continue; // missing, or a dangling link: keep looking
            ServiceFile f;
            f.path = path;
            f.pass_arg = !with_arg && !call.arg.empty();
            if (S_ISSOCK(st.st_mode))
                f.kind = ServiceFile::Kind::Socket;
            else if (!S_ISREG(st.st_mode))
                continue;
            else if (::access(path.c_str(), X_OK) == 0)
                f.kind = ServiceFile::Kind::Executable;
            else
                f.kind = ServiceFile::Kind::Script;
            return std::optional(std::move(f));
        }
    }
    return std::optional<ServiceFile>();
}

} // namespace bulkhead::agent
