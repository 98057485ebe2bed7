#include <bulkhead/dom0/store/domain_record.h>

#include <array>

namespace bulkhead::dom0 {

namespace {
constexpr std::array<std::string_view, 5> kKlassNames = {"AdminVM", "TemplateVM", "AppVM", "DispVM",
                                                         "StandaloneVM"};
constexpr std::array<Label, 8> kLabels = {{{"red", 0xcc0000},
                                           {"orange", 0xf57900},
                                           {"yellow", 0xedd400},
                                           {"green", 0x73d216},
                                           {"gray", 0x555753},
                                           {"blue", 0x3465a4},
                                           {"purple", 0x75507b},
                                           {"black", 0x000000}}};
} // namespace

std::string_view klass_name(Klass k) {
    return kKlassNames[static_cast<size_t>(k)];
}

Result<Klass> parse_klass(std::string_view s) {
    for (size_t i = 0; i < kKlassNames.size(); ++i)
        if (kKlassNames[i] == s)
            return static_cast<Klass>(i);
    return unexpected(Errc::Invalid, "no such domain class: " + std::string(s));
}

std::optional<Label> find_label(std::string_view name) {
    for (auto const& l : kLabels)
        if (l.name == name)
            return l;
    return std::nullopt;
}

} // namespace bulkhead::dom0
