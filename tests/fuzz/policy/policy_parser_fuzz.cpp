// Fuzzes Policy::parse_text (no includes: text without a policy directory never reads a
// file), then evaluates a few calls on whatever parsed. Invariants: a parse either yields a
// policy or an error naming <fuzz>:LINE; a decision always formats to one allow/deny/ask line.
#include <bulkhead/policy/evaluate.h>
#include <bulkhead/policy/policy.h>
#include <bulkhead/policy/system_info.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace bulkhead::policy;

namespace {

SystemInfo const& info() {
    static SystemInfo const si = [] {
        auto r = SystemInfo::from_json(R"({"domains": {
          "dom0": {"type": "AdminVM", "tags": [], "power_state": "Running", "uuid":
                   "00000000-0000-0000-0000-000000000000"},
          "work": {"type": "AppVM", "tags": ["work"], "default_dispvm": "dvm",
                   "power_state": "Running", "uuid": "11111111-2222-3333-4444-555555555555"},
          "vault": {"type": "AppVM", "tags": [], "default_dispvm": null},
          "dvm": {"type": "AppVM", "tags": ["t"], "template_for_dispvms": true},
          "disp1": {"type": "DispVM", "default_dispvm": "dvm", "power_state": "Running"},
          "fedora": {"type": "TemplateVM"},
          "sys-usb": {"type": "AppVM", "internal": true, "power_state": "Running"}}})");
        if (!r)
            std::abort();
        return std::move(*r);
    }();
    return si;
}

void check(Decision const& d) {
    std::string line = format_decision(d);
    if (line.rfind("allow ", 0) != 0 && line.rfind("deny ", 0) != 0 && line.rfind("ask ", 0) != 0)
        std::abort();
    if (line.find('\n') != std::string::npos)
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    std::string_view text(reinterpret_cast<char const*>(data), size);
    auto p = Policy::parse_text(text, "<fuzz>");
    if (!p) {
        if (p.error().message().rfind("<fuzz>:", 0) != 0)
            std::abort();
        return 0;
    }
    static char const* const kCalls[][3] = {
        {"work", "vault", "qubes.Filecopy"},
        {"work", "", "qubes.Filecopy"},
        {"work", "@dispvm", "svc+arg"},
        {"vault", "dom0", "svc"},
        {"disp1", "@dispvm:dvm", "svc+"},
        {"dom0", "work", "admin.vm.List"},
        {"work", "uuid:00000000-0000-0000-0000-000000000000", "svc"},
    };
    for (auto const& c : kCalls)
        check(evaluate(*p, make_request(c[0], c[1], c[2]), info()));
    // Every service the policy names, from a source and to a target it names.
    for (size_t i = 0; i < p->rules().size() && i < 16; ++i) {
        Rule const& r = p->rules()[i];
        std::string svc = r.service == "*" ? std::string("x") : r.service;
        if (r.argument)
            svc += "+" + *r.argument;
        check(evaluate(*p, make_request("work", r.target.text(), svc), info()));
        check(evaluate(
            *p, make_request(r.source.value.empty() ? "work" : r.source.value, "@default", svc),
            info()));
    }
    return 0;
}
