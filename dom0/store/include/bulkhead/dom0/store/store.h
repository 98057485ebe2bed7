// Store: the domain database ($BULKHEAD_ROOT/store/domains.db, SQLite in WAL mode).
// Callers: the daemon (several threads) and the admin API. Every mutation is one
// transaction, validated first; nothing changes when a call returns an error.
// Inputs (names, values) are user text from the admin API: all of it is checked here.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/dom0/store/domain_record.h>
#include <bulkhead/dom0/store/properties.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace bulkhead::dom0 {

struct StoreImpl;

struct CreateSpec {
    std::string name;
    Klass klass = Klass::AppVM;
    std::string label;                             // required
    std::map<std::string, std::string> properties; // template goes here too
};

struct PropertyValue {
    std::string name;
    std::string value; // effective value ("" = none)
    bool is_default = true;
    PropType type = PropType::String;
};

class Store {
public:
    static constexpr int kSchemaVersion = 3;
    // Opens (creating when missing) root/store/domains.db; creates dom0 at first open.
    static Result<std::unique_ptr<Store>> open(std::string const& root);
    // The root used by the daemon and tools: $BULKHEAD_ROOT, else /var/lib/bulkhead.
    static std::string default_root();
    ~Store();

    Result<std::vector<DomainRecord>> list();
    Result<DomainRecord> get(std::string const& name);
    Result<DomainRecord> create(CreateSpec const& spec);
    // Refuses when another domain or a global property refers to it, and for dom0.
    // The caller checks the power state first (the store does not know it).
    Result<void> check_removable(std::string const& name);
    Result<void> remove(std::string const& name);
    Result<DomainRecord> clone(std::string const& src, std::string const& dst);

    Result<PropertyValue> get_property(std::string const& name, std::string const& prop);
    Result<std::vector<PropertyValue>> list_properties(std::string const& name);
    Result<void> set_property(std::string const& name, std::string const& prop,
                              std::string const& value);
    Result<void> reset_property(std::string const& name, std::string const& prop);

    Result<std::vector<std::string>> list_tags(std::string const& name);
    Result<void> add_tag(std::string const& name, std::string const& tag);
    Result<void> remove_tag(std::string const& name, std::string const& tag);

    Result<std::map<std::string, std::string>> list_features(std::string const& name);
    Result<std::string> get_feature(std::string const& name, std::string const& key);
    Result<void> set_feature(std::string const& name, std::string const& key,
                             std::string const& value);
    Result<void> remove_feature(std::string const& name, std::string const& key);

    Result<std::string> get_global(std::string const& prop);
    Result<std::vector<PropertyValue>> list_globals();
    Result<void> set_global(std::string const& prop, std::string const& value);

    // A domain's firewall rules (dom0/firewall canonical text, first match wins; Qubes'
    // default ["action=accept"] until set). set_firewall_rules validates every rule and
    // stores the canonical form; `now` resolves expire=+N.
    Result<std::vector<std::string>> firewall_rules(std::string const& name);
    Result<std::vector<std::string>>
    set_firewall_rules(std::string const& name, std::vector<std::string> const& rules, int64_t now);

    // A template's own layers, lowest first.
    Result<std::vector<std::string>> layers(std::string const& template_name);
    Result<void> set_layers(std::string const& template_name, std::vector<std::string> const& l);
    // A domain's full stack: its template chain's layers, base template first.
    Result<std::vector<std::string>> layer_stack(std::string const& name);

    // Increases with every committed mutation (persisted).
    uint64_t generation();

private:
    explicit Store(std::unique_ptr<StoreImpl> impl);
    std::mutex m_mutex;
    std::unique_ptr<StoreImpl> m_impl;
};

} // namespace bulkhead::dom0
