// Loads policy directories and follows !include / !include-dir / !include-service.
// Builds the per-service index once, so evaluation only scans relevant rules.
#include "parse_context.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/text.h>

#include <algorithm>
#include <map>
#include <sys/stat.h>

namespace bulkhead::policy {
using bulkhead::text::join;

namespace detail {
using namespace bulkhead::text;

namespace {

void parse_file(ParseContext& ctx, std::string const& path,
                std::optional<ServiceScope> const& scope, std::string const& from, uint32_t line) {
    auto report = [&](std::string msg) {
        if (from.empty())
            ctx.problems->push_back(Problem{path, 0, std::move(msg)});
        else
            ctx.problems->push_back(Problem{from, line, std::move(msg)});
    };
    if (ctx.stack.size() >= size_t(kMaxIncludeDepth)) {
        report("includes nested too deeply at '" + escape(path) + "'");
        return;
    }
    if (std::find(ctx.stack.begin(), ctx.stack.end(), path) != ctx.stack.end()) {
        report("include cycle: '" + escape(path) + "'");
        return;
    }
    if (++ctx.files_read > kMaxFilesRead) {
        if (ctx.files_read == kMaxFilesRead + 1)
            report("too many included files (more than " + std::to_string(kMaxFilesRead) + ")");
        return;
    }
    auto st = sys::stat(path);
    if (!st) {
        report("cannot read '" + escape(path) + "': " + st.error().message());
        return;
    }
    if (!S_ISREG(st->st_mode)) {
        report("'" + escape(path) + "' is not a regular file");
        return;
    }
    auto text = sys::read_file(path, kMaxFileSize);
    if (!text) {
        report("cannot read '" + escape(path) + "': " + text.error().message());
        return;
    }
    ctx.stack.push_back(path);
    parse_text_into(ctx, *text, path, scope);
    ctx.stack.pop_back();
}

// Regular *.policy files of a directory, sorted; bad names reported.
std::vector<std::string> policy_files(ParseContext& ctx, std::string const& dir,
                                      std::string const& from, uint32_t line) {
    std::vector<std::string> out;
    auto names = sys::list_dir(dir);
    if (!names) {
        if (from.empty())
            ctx.problems->push_back(
                Problem{dir, 0, "cannot list policy directory: " + names.error().message()});
        else
            ctx.problems->push_back(Problem{
                from, line, "cannot list '" + escape(dir) + "': " + names.error().message()});
        return out;
    }
    for (auto const& n : *names) {
        if (is_ignored_file_name(n))
            continue;
        out.push_back(n); // names are checked in order, by parse_policy_file()
    }
    std::sort(out.begin(), out.end());
    return out;
}

// A *.policy file found in a directory: its name must be valid, then it is parsed.
void parse_policy_file(ParseContext& ctx, std::string const& dir, std::string const& name,
                       std::string const& from, uint32_t line) {
    std::string path = dir + "/" + name;
    if (auto err = check_file_name(name); !err.empty())
        ctx.problems->push_back(Problem{path, 0, err});
    else
        parse_file(ctx, path, std::nullopt, from, line);
}

} // namespace

void include_file(ParseContext& ctx, std::string const& path, std::string const& from,
                  uint32_t line, std::optional<ServiceScope> const& scope) {
    parse_file(ctx, path, scope, from, line);
}

void include_dir(ParseContext& ctx, std::string const& path, std::string const& from,
                 uint32_t line) {
    if (ctx.stack.size() >= size_t(kMaxIncludeDepth)) {
        ctx.problems->push_back(Problem{from, line, "includes nested too deeply"});
        return;
    }
    for (auto const& n : policy_files(ctx, path, from, line))
        parse_policy_file(ctx, path, n, from, line);
}

} // namespace detail

Policy Policy::load_collect(std::vector<std::string> const& dirs, std::vector<Problem>& out) {
    Policy p;
    detail::ParseContext ctx;
    ctx.out = &p;
    ctx.problems = &out;
    if (dirs.empty())
        out.push_back(Problem{"<policy>", 0, "no policy directory given"});
    std::map<std::string, std::string> by_base; // basename → its directory; first dir wins
    for (auto const& d : dirs)
        for (auto const& n : detail::policy_files(ctx, d, {}, 0))
            by_base.emplace(n, d);
    for (auto const& [base, dir] : by_base) {
        ctx.include_base = dir;
        detail::parse_policy_file(ctx, dir, base, {}, 0);
    }
    p.finish();
    return p;
}

Result<Policy> problems_to_error(Policy p, std::vector<Problem> const& problems) {
    if (problems.empty())
        return p;
    std::vector<std::string> lines;
    for (auto const& pr : problems)
        lines.push_back(pr.text());
    return unexpected(Errc::Invalid, join(lines, "\n"));
}

Result<Policy> Policy::load(std::vector<std::string> const& dirs) {
    std::vector<Problem> problems;
    Policy p = load_collect(dirs, problems);
    return problems_to_error(std::move(p), problems);
}

Result<Policy> Policy::parse_text(std::string_view text, std::string const& name,
                                  std::string const& include_base) {
    Policy p;
    std::vector<Problem> problems;
    detail::ParseContext ctx;
    ctx.out = &p;
    ctx.problems = &problems;
    ctx.include_base = include_base;
    ctx.stack.push_back(name);
    detail::parse_text_into(ctx, text, name, std::nullopt);
    p.finish();
    return problems_to_error(std::move(p), problems);
}

void Policy::finish() {
    m_by_service.clear();
    m_wildcard.clear();
    for (uint32_t i = 0; i < m_rules.size(); ++i)
        if (m_rules[i].service != "*")
            m_by_service.try_emplace(m_rules[i].service);
    for (uint32_t i = 0; i < m_rules.size(); ++i) {
        if (m_rules[i].service == "*") {
            m_wildcard.push_back(i);
            for (auto& [name, list] : m_by_service)
                list.push_back(i);
        } else {
            m_by_service[m_rules[i].service].push_back(i);
        }
    }
}

std::vector<uint32_t> const& Policy::rules_for(std::string_view service) const {
    auto it = m_by_service.find(service);
    return it == m_by_service.end() ? m_wildcard : it->second;
}

} // namespace bulkhead::policy
