// Internal: state shared by the line parser (parser.cpp) and the file/dir loader (loader.cpp).
#pragma once

#include <bulkhead/policy/policy.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::policy::detail {

constexpr int kMaxIncludeDepth = 16;
constexpr size_t kMaxFileSize = 4u << 20;
constexpr size_t kMaxFilesRead = 4096; // every file read, includes counted each time

struct ServiceScope { // !include-service SERVICE ARG: the included file has no such columns
    std::string service;
    std::optional<std::string> argument;
};

struct ParseContext {
    Policy* out = nullptr;
    std::vector<Problem>* problems = nullptr;
    std::string include_base;       // relative include paths resolve here; empty: no includes
    std::vector<std::string> stack; // files being parsed (cycle detection)
    size_t files_read = 0;
};

void parse_text_into(ParseContext& ctx, std::string_view text, std::string const& file,
                     std::optional<ServiceScope> const& scope);
// Loader callbacks used by the !include directives.
void include_file(ParseContext& ctx, std::string const& path, std::string const& from,
                  uint32_t line, std::optional<ServiceScope> const& scope);
void include_dir(ParseContext& ctx, std::string const& path, std::string const& from,
                 uint32_t line);
// Returns an error message for a bad policy file name, or empty when fine.
std::string check_file_name(std::string_view name);
// "ignore" rules: dot files and names without .policy.
bool is_ignored_file_name(std::string_view name);

} // namespace bulkhead::policy::detail
