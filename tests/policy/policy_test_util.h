// Shared helpers for the policy tests: a standard system info, temp policy directories,
// and one-line evaluation.
#pragma once

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/policy/evaluate.h>
#include <bulkhead/policy/policy.h>
#include <bulkhead/policy/system_info.h>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace policy_test {

using namespace bulkhead;
using namespace bulkhead::policy;

constexpr char const* kDom0Uuid = "00000000-0000-0000-0000-000000000000";
constexpr char const* kWorkUuid = "11111111-2222-3333-4444-555555555555";

// dom0; work (running, tag work, default dvm default-dvm); personal (halted, tag
// personal); vault (halted, no default_dispvm); default-dvm and other-dvm (dispvm
// templates, default-dvm tagged dvmtag); disp1 (a running DispVM of default-dvm); fedora
// (TemplateVM); sys-usb (internal, running); net (StandaloneVM, paused).
inline std::string const& system_info_json() {
    static std::string const json = R"({"domains": {
  "dom0": {"type": "AdminVM", "tags": ["work"], "default_dispvm": "default-dvm",
           "template_for_dispvms": false, "uuid": "00000000-0000-0000-0000-000000000000",
           "power_state": "Running", "internal": false, "icon": "adminvm-black"},
  "work": {"type": "AppVM", "tags": ["work"], "default_dispvm": "default-dvm",
           "template_for_dispvms": false, "uuid": "11111111-2222-3333-4444-555555555555",
           "power_state": "Running", "internal": false, "icon": "appvm-blue"},
  "personal": {"type": "AppVM", "tags": ["personal"], "default_dispvm": "other-dvm",
           "template_for_dispvms": false, "uuid": "22222222-2222-3333-4444-555555555555",
           "power_state": "Halted", "internal": false, "icon": "appvm-yellow"},
  "vault": {"type": "AppVM", "tags": [], "default_dispvm": null,
           "template_for_dispvms": false, "uuid": "33333333-2222-3333-4444-555555555555",
           "power_state": "Halted", "internal": false, "icon": "appvm-black"},
  "default-dvm": {"type": "AppVM", "tags": ["dvmtag"], "default_dispvm": "default-dvm",
           "template_for_dispvms": true, "uuid": "44444444-2222-3333-4444-555555555555",
           "power_state": "Halted", "internal": false, "icon": "appvm-red"},
  "other-dvm": {"type": "AppVM", "tags": [], "default_dispvm": "default-dvm",
           "template_for_dispvms": true, "uuid": "55555555-2222-3333-4444-555555555555",
           "power_state": "Halted", "internal": false, "icon": "appvm-red"},
  "disp1": {"type": "DispVM", "tags": ["disp"], "default_dispvm": "default-dvm",
           "template_for_dispvms": false, "uuid": "66666666-2222-3333-4444-555555555555",
           "power_state": "Running", "internal": false, "icon": "dispvm-red"},
  "fedora": {"type": "TemplateVM", "tags": [], "default_dispvm": "default-dvm",
           "template_for_dispvms": false, "uuid": "77777777-2222-3333-4444-555555555555",
           "power_state": "Halted", "internal": false, "icon": "templatevm-black"},
  "sys-usb": {"type": "AppVM", "tags": ["work"], "default_dispvm": "default-dvm",
           "template_for_dispvms": false, "uuid": "88888888-2222-3333-4444-555555555555",
           "power_state": "Running", "internal": true, "icon": "appvm-red"},
  "net": {"type": "StandaloneVM", "tags": [], "default_dispvm": "default-dvm",
           "template_for_dispvms": false, "uuid": "99999999-2222-3333-4444-555555555555",
           "power_state": "Paused", "internal": false, "icon": "standalonevm-red"}
}})";
    return json;
}

inline SystemInfo const& system_info() {
    static SystemInfo const info = [] {
        auto r = SystemInfo::from_json(system_info_json());
        if (!r)
            FAIL("system info: " << r.error().message());
        return std::move(*r);
    }();
    return info;
}

// Parses policy text that must be valid.
inline Policy parse(std::string const& text) {
    auto p = Policy::parse_text(text, "test.policy");
    if (!p)
        FAIL("policy does not parse: " << p.error().message());
    return std::move(*p);
}

// The error of policy text that must be invalid ("" when it parsed).
inline std::string parse_error(std::string const& text) {
    auto p = Policy::parse_text(text, "t.policy");
    return p ? std::string() : p.error().message();
}

// The decision line for one call.
inline std::string eval(std::string const& policy_text, std::string const& source,
                        std::string const& target, std::string const& service) {
    Policy p = parse(policy_text);
    return format_decision(evaluate(p, make_request(source, target, service), system_info()));
}

// A temporary directory removed at scope exit.
class TempDir {
public:
    TempDir() {
        auto d = sys::make_temp_dir("/tmp/bulkhead-policy-test-");
        REQUIRE(d);
        m_path = *d;
    }
    ~TempDir() { (void)sys::remove_tree(m_path); }
    TempDir(TempDir const&) = delete;
    TempDir& operator=(TempDir const&) = delete;
    std::string const& path() const { return m_path; }
    // Writes PATH (relative) with text, creating parent directories.
    std::string write(std::string const& rel, std::string const& text) const {
        std::string full = m_path + "/" + rel;
        auto slash = full.rfind('/');
        REQUIRE(sys::mkdir_p(full.substr(0, slash)));
        REQUIRE(sys::write_file_atomic(full, text));
        return full;
    }
    std::string mkdir(std::string const& rel) const {
        std::string full = m_path + "/" + rel;
        REQUIRE(sys::mkdir_p(full));
        return full;
    }

private:
    std::string m_path;
};

} // namespace policy_test
