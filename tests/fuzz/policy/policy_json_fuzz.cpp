// Fuzzes JsonValue::parse and SystemInfo::from_json, then evaluates a fixed policy with every
// parsed domain as source (system info drives @dispvm, tags, types, uuid and ask expansion).
#include <bulkhead/policy/evaluate.h>
#include <bulkhead/policy/json.h>
#include <bulkhead/policy/policy.h>
#include <bulkhead/policy/system_info.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace bulkhead::policy;

namespace {

Policy const& policy() {
    static Policy const p = [] {
        auto r = Policy::parse_text("svc +a @anyvm @dispvm allow\n"
                                    "svc +b @anyvm @dispvm:@tag:t allow autostart=no\n"
                                    "svc * @tag:work @type:AppVM allow target=@dispvm\n"
                                    "svc * @dispvm:@tag:t @anyvm deny notify=no\n"
                                    "svc * @anyvm dom0 allow\n"
                                    "svc * @anyvm @anyvm ask default_target=@dispvm\n"
                                    "* * @anyvm @default ask\n");
        if (!r)
            std::abort();
        return std::move(*r);
    }();
    return p;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    std::string_view text(reinterpret_cast<char const*>(data), size);
    (void)JsonValue::parse(text);
    auto info = SystemInfo::from_json(text);
    if (!info)
        return 0;
    size_t n = 0;
    for (auto const& d : info->domains()) {
        if (++n > 8)
            break;
        for (auto const* svc : {"svc+a", "svc+b", "svc", "other"}) {
            for (std::string const& tgt :
                 {std::string("@dispvm"), std::string(""), d.name, "uuid:" + d.uuid}) {
                std::string line =
                    format_decision(evaluate(policy(), make_request(d.name, tgt, svc), *info));
                if (line.empty() || line.find('\n') != std::string::npos)
                    std::abort();
            }
        }
    }
    return 0;
}
