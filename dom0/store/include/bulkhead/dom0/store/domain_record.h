// DomainRecord: one domain as the store holds it (class, identity, explicitly set
// properties, tags, features). Callers: the store, the admin API, the daemon.
// Values are already validated by the store; nothing here is untrusted.
#pragma once

#include <bulkhead/base/result.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace bulkhead::dom0 {

enum class Klass { AdminVM, TemplateVM, AppVM, DispVM, StandaloneVM };

std::string_view klass_name(Klass k);
Result<Klass> parse_klass(std::string_view s);

struct Label {
    std::string_view name;
    uint32_t color;
};
// red orange yellow green gray blue purple black, with Qubes' colours.
std::optional<Label> find_label(std::string_view name);

struct DomainRecord {
    int64_t qid = 0;
    std::string name;
    Klass klass = Klass::AppVM;
    std::string uuid;
    std::map<std::string, std::string> properties; // explicitly set only
    std::set<std::string> tags;
    std::map<std::string, std::string> features;
};

} // namespace bulkhead::dom0
