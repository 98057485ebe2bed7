#include "schema.h"
#include "store_impl.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/text.h>
#include <bulkhead/dom0/firewall/rule.h>

#include <array>
#include <cstdio>

namespace bulkhead::dom0 {

namespace {

Result<std::string> new_uuid() {
    auto fd = TRY(sys::open("/dev/urandom", O_RDONLY | O_CLOEXEC));
    std::array<unsigned char, 16> b{};
    TRY(sys::read_exact(fd.get(), std::as_writable_bytes(std::span(b))));
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
    char out[37];
    std::snprintf(out, sizeof out,
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                  b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                  b[14], b[15]);
    return std::string(out);
}

Result<void> check_tag(std::string const& tag) {
    if (tag.empty() || tag.size() > 64)
        return unexpected(Errc::Invalid, "invalid tag: must be 1 to 64 characters");
    for (char c : tag)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return unexpected(Errc::Invalid, "invalid tag '" + text::escape(tag) +
                                                 "': only letters, digits, '_' and '-'");
    return {};
}

Result<void> check_feature_key(std::string const& key) {
    if (key.empty() || key.size() > 64)
        return unexpected(Errc::Invalid, "invalid feature name: must be 1 to 64 characters");
    for (char c : key)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return unexpected(Errc::Invalid, "invalid feature name '" + text::escape(key) + "'");
    return {};
}

Result<void> check_text(std::string const& what, std::string const& v) {
    if (v.size() > 4096 || !text::is_valid_utf8(v))
        return unexpected(Errc::Invalid, what + ": expected UTF-8 text of at most 4096 bytes");
    return {};
}

} // namespace

// ---- StoreImpl ----

Result<std::optional<DomainRecord>> StoreImpl::find(std::string const& name) {
    auto st = TRY(db.query("SELECT qid, klass, uuid FROM domains WHERE name = ?", {name}));
    if (!TRY(st.step()))
        return std::optional<DomainRecord>();
    DomainRecord r;
    r.qid = st.col_int(0);
    r.name = name;
    r.klass = TRY(parse_klass(st.col_text(1)));
    r.uuid = st.col_text(2);
    auto p = TRY(db.query("SELECT name, value FROM properties WHERE qid = ?", {r.qid}));
    while (TRY(p.step()))
        r.properties[p.col_text(0)] = p.col_text(1);
    auto t = TRY(db.query("SELECT tag FROM tags WHERE qid = ?", {r.qid}));
    while (TRY(t.step()))
        r.tags.insert(t.col_text(0));
    auto f = TRY(db.query("SELECT key, value FROM features WHERE qid = ?", {r.qid}));
    while (TRY(f.step()))
        r.features[f.col_text(0)] = f.col_text(1);
    return std::optional<DomainRecord>(std::move(r));
}

Result<DomainRecord> StoreImpl::need(std::string const& name) {
    auto r = TRY(find(name));
    if (!r)
        return unexpected(Errc::NotFound, "domain '" + text::escape(name) + "' does not exist");
    return std::move(*r);
}

Result<std::vector<DomainRecord>> StoreImpl::all() {
    std::vector<std::string> names;
    auto st = TRY(db.query("SELECT name FROM domains ORDER BY name"));
    while (TRY(st.step()))
        names.push_back(st.col_text(0));
    std::vector<DomainRecord> out;
    for (auto const& n : names)
        out.push_back(TRY(need(n)));
    return out;
}

Result<std::string> StoreImpl::global(std::string const& prop) {
    auto v = TRY(db.scalar_text("SELECT value FROM globals WHERE name = ?", {prop}));
    return v.value_or("");
}

Result<PropertyValue> StoreImpl::effective(DomainRecord const& rec, PropDef const& def) {
    PropertyValue pv;
    pv.name = std::string(def.name);
    pv.type = def.type;
    if (def.name == "name") {
        pv.value = rec.name;
        return pv;
    }
    if (def.name == "klass") {
        pv.value = std::string(klass_name(rec.klass));
        return pv;
    }
    if (def.name == "qid") {
        pv.value = std::to_string(rec.qid);
        return pv;
    }
    if (def.name == "uuid") {
        pv.value = rec.uuid;
        return pv;
    }
    if (auto it = rec.properties.find(pv.name); it != rec.properties.end()) {
        pv.value = it->second;
        pv.is_default = false;
        return pv;
    }
    std::string const& n = pv.name;
    if (n == "label")
        pv.value = rec.klass == Klass::AdminVM ? "black" : "red";
    else if (n == "template")
        pv.value = rec.klass == Klass::AppVM    ? TRY(global("default_template"))
                   : rec.klass == Klass::DispVM ? TRY(global("default_dispvm"))
                                                : "";
    else if (n == "netvm") {
        std::string g = TRY(global("default_netvm"));
        bool none = rec.klass == Klass::AdminVM || rec.klass == Klass::TemplateVM || g == rec.name;
        pv.value = none ? "" : g;
    } else if (n == "default_dispvm")
        pv.value = TRY(global("default_dispvm"));
    else if (n == "kernel")
        pv.value = TRY(global("default_kernel"));
    else if (n == "provides_network" || n == "template_for_dispvms" || n == "autostart")
        pv.value = "False";
    else if (n == "memory")
        pv.value = "400";
    else if (n == "maxmem")
        pv.value = "4000";
    else if (n == "vcpus")
        pv.value = "2";
    else if (n == "default_user")
        pv.value = "user";
    else if (n == "virt_mode")
        pv.value = "pvh";
    else if (n == "qrexec_timeout" || n == "shutdown_timeout")
        pv.value = "60";
    return pv;
}

Result<void> StoreImpl::transaction(std::function<Result<void>()> const& fn) {
    TRY(db.exec("BEGIN IMMEDIATE"));
    auto r = fn();
    if (r)
        r = db.run("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'");
    if (!r) {
        (void)db.exec("ROLLBACK");
        return r;
    }
    if (auto c = db.exec("COMMIT"); !c) {
        (void)db.exec("ROLLBACK");
        return c;
    }
    ++generation;
    return {};
}

// ---- Store ----

Store::Store(std::unique_ptr<StoreImpl> impl)
    : m_impl(std::move(impl)) {}
Store::~Store() = default;

std::string Store::default_root() {
    return sys::getenv_or("BULKHEAD_ROOT", "/var/lib/bulkhead");
}

Result<std::unique_ptr<Store>> Store::open(std::string const& root) {
    TRY_CTX(sys::mkdir_p(root + "/store", 0700), "creating store directory");
    auto db = TRY(sql::Db::open(root + "/store/domains.db"));
    TRY(db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
                "PRAGMA foreign_keys = ON;"));
    TRY(schema::migrate(db));
    auto impl = std::make_unique<StoreImpl>(StoreImpl{std::move(db), 0});
    auto g = TRY(impl->db.scalar_text("SELECT value FROM meta WHERE key = 'generation'"));
    impl->generation = g ? std::stoull(*g) : 0;
    if (!TRY(impl->find("dom0"))) {
        auto uuid = TRY(new_uuid());
        auto* p = impl.get();
        TRY(impl->transaction([&]() -> Result<void> {
            return p->db.run("INSERT INTO domains (qid, name, klass, uuid) VALUES (0, 'dom0', "
                             "'AdminVM', ?)",
                             {uuid});
        }));
    }
    return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Result<std::vector<DomainRecord>> Store::list() {
    std::lock_guard lock(m_mutex);
    return m_impl->all();
}

Result<DomainRecord> Store::get(std::string const& name) {
    std::lock_guard lock(m_mutex);
    return m_impl->need(name);
}

Result<DomainRecord> Store::create(CreateSpec const& spec) {
    std::lock_guard lock(m_mutex);
    auto& s = *m_impl;
    TRY(validate_domain_name(spec.name, true));
    if (spec.klass == Klass::AdminVM)
        return unexpected(Errc::Invalid, "cannot create another AdminVM");
    if (TRY(s.find(spec.name)))
        return unexpected(Errc::Exists, "domain '" + spec.name + "' already exists");
    if (spec.label.empty())
        return unexpected(Errc::Invalid, "a label is required");
    auto label = TRY(canonical_value(PropType::Label, "label", spec.label));
    auto uuid = TRY(new_uuid());
    TRY(s.transaction([&]() -> Result<void> {
        TRY(s.db.run("INSERT INTO domains (name, klass, uuid) VALUES (?, ?, ?)",
                     {spec.name, std::string(klass_name(spec.klass)), uuid}));
        int64_t qid = s.db.last_rowid();
        TRY(s.db.run("INSERT INTO properties (qid, name, value) VALUES (?, 'label', ?)",
                     {qid, label}));
        for (auto const& [k, v] : spec.properties) {
            auto rec = TRY(s.need(spec.name));
            auto const* def = TRY(find_property(spec.klass, k));
            if (def->read_only)
                return unexpected(Errc::Invalid, "property '" + k + "' is read-only");
            auto cv = TRY(canonical_value(def->type, k, v));
            TRY(s.validate_property(rec, *def, cv));
            TRY(s.db.run("INSERT OR REPLACE INTO properties (qid, name, value) VALUES (?, ?, ?)",
                         {qid, k, cv}));
        }
        if (spec.klass == Klass::AppVM || spec.klass == Klass::DispVM) {
            auto rec = TRY(s.need(spec.name));
            auto t = TRY(s.effective(rec, *TRY(find_property(spec.klass, "template"))));
            if (t.value.empty())
                return unexpected(Errc::Invalid, std::string(klass_name(spec.klass)) +
                                                     " needs a template and no default_template "
                                                     "is set");
            if (t.is_default)
                TRY(s.validate_property(rec, *TRY(find_property(spec.klass, "template")), t.value));
        }
        return {};
    }));
    return s.need(spec.name);
}

Result<void> Store::check_removable(std::string const& name) {
    std::lock_guard lock(m_mutex);
    auto rec = TRY(m_impl->need(name));
    if (rec.klass == Klass::AdminVM)
        return unexpected(Errc::Denied, "cannot remove the AdminVM dom0");
    return m_impl->check_references(name);
}

Result<void> Store::remove(std::string const& name) {
    std::lock_guard lock(m_mutex);
    auto& s = *m_impl;
    auto rec = TRY(s.need(name));
    if (rec.klass == Klass::AdminVM)
        return unexpected(Errc::Denied, "cannot remove the AdminVM dom0");
    TRY(s.check_references(name));
    return s.transaction(
        [&]() -> Result<void> { return s.db.run("DELETE FROM domains WHERE qid = ?", {rec.qid}); });
}

Result<DomainRecord> Store::clone(std::string const& src, std::string const& dst) {
    std::lock_guard lock(m_mutex);
    auto& s = *m_impl;
    auto rec = TRY(s.need(src));
    if (rec.klass == Klass::AdminVM || rec.klass == Klass::DispVM)
        return unexpected(Errc::Invalid, "cannot clone a " + std::string(klass_name(rec.klass)));
    TRY(validate_domain_name(dst, true));
    if (TRY(s.find(dst)))
        return unexpected(Errc::Exists, "domain '" + dst + "' already exists");
    auto uuid = TRY(new_uuid());
    TRY(s.transaction([&]() -> Result<void> {
        TRY(s.db.run("INSERT INTO domains (name, klass, uuid) VALUES (?, ?, ?)",
                     {dst, std::string(klass_name(rec.klass)), uuid}));
        int64_t qid = s.db.last_rowid();
        TRY(s.db.run("INSERT INTO properties (qid, name, value) SELECT ?, name, value FROM "
                     "properties WHERE qid = ?",
                     {qid, rec.qid}));
        TRY(s.db.run("INSERT INTO tags (qid, tag) SELECT ?, tag FROM tags WHERE qid = ?",
                     {qid, rec.qid}));
        TRY(s.db.run("INSERT INTO features (qid, key, value) SELECT ?, key, value FROM features "
                     "WHERE qid = ?",
                     {qid, rec.qid}));
        TRY(s.db.run(
            "INSERT INTO firewall (qid, rules) SELECT ?, rules FROM firewall WHERE qid = ?",
            {qid, rec.qid}));
        return s.db.run("INSERT INTO layers (qid, position, layer) SELECT ?, position, layer FROM "
                        "layers WHERE qid = ?",
                        {qid, rec.qid});
    }));
    return s.need(dst);
}

Result<PropertyValue> Store::get_property(std::string const& name, std::string const& prop) {
    std::lock_guard lock(m_mutex);
    auto rec = TRY(m_impl->need(name));
    auto const* def = TRY(find_property(rec.klass, prop));
    return m_impl->effective(rec, *def);
}

Result<std::vector<PropertyValue>> Store::list_properties(std::string const& name) {
    std::lock_guard lock(m_mutex);
    auto rec = TRY(m_impl->need(name));
    std::vector<PropertyValue> out;
    for (auto const& n : property_names(rec.klass))
        out.push_back(TRY(m_impl->effective(rec, *TRY(find_property(rec.klass, n)))));
    return out;
}

Result<void> Store::set_property(std::string const& name, std::string const& prop,
                                 std::string const& value) {
    std::lock_guard lock(m_mutex);
    auto& s = *m_impl;
    auto rec = TRY(s.need(name));
    auto const* def = TRY(find_property(rec.klass, prop));
    if (def->read_only)
        return unexpected(Errc::Invalid, "property '" + prop + "' is read-only");
    auto cv = TRY(canonical_value(def->type, prop, value));
    TRY(s.validate_property(rec, *def, cv));
    return s.transaction([&]() -> Result<void> {
        return s.db.run("INSERT OR REPLACE INTO properties (qid, name, value) VALUES (?, ?, ?)",
                        {rec.qid, prop, cv});
    });
}

Result<void> Store::reset_property(std::string const& name, std::string const& prop) {
    std::lock_guard lock(m_mutex);
    auto& s = *m_impl;
    auto rec = TRY(s.need(name));
    auto const* def = TRY(find_property(rec.klass, prop));
    if (def->read_only)
        return unexpected(Errc::Invalid, "property '" + prop + "' is read-only");
    TRY(s.validate_reset(rec, *def));
    return s.transaction([&]() -> Result<void> {
        return s.db.run("DELETE FROM properties WHERE qid = ? AND name = ?", {rec.qid, prop});
    });
}

Result<std::vector<std::string>> Store::list_tags(std::string const& name) {
    std::lock_guard lock(m_mutex);
    auto rec = TRY(m_impl->need(name));
    return std::vector<std::string>(rec.tags.begin(), rec.tags.end());
}

Result<void> Store::add_tag(std::string const& name, std::string const& tag) {
    std::lock_guard lock(m_mutex);
    auto& s = *m_impl;
    auto rec = TRY(s.need(name));
    TRY(check_tag(tag));
    return s.transaction([&]() -> Result<void> {
        return s.db.run("INSERT OR IGNORE INTO tags (qid, tag) VALUES (?, ?)", {rec.qid, tag});
    });
}

Result<void> Store::remove_tag(std::string const& name, std::string const& tag) {
    std::lock_guard lock(m_mutex);
    auto& s = *m_impl;
    auto rec = TRY(s.need(name));
    if (!rec.tags.count(tag))
        return unexpected(Errc::NotFound,
                          "domain '" + name + "' has no tag '" + text::escape(tag) + "'");
    return s.transaction([&]() -> Result<void> {
        return s.db.run("DELETE FROM tags WHERE qid = ? AND tag = ?", {rec.qid, tag});
    });
}

Result<std::map<std::string, std::string>> Store::list_features(std::string const& name) {
    std::lock_guard lock(m_mutex);
    return TRY(m_impl->need(name)).features;
}

Result<std::string> Store::get_feature(std::string const& name, std::string const& key) {
    std::lock_guard lock(m_mutex);
    auto rec = TRY(m_impl->need(name));
    auto it = rec.features.find(key);
    if (it == rec.features.end())
        return unexpected(Errc::NotFound,
                          "domain '" + name + "' has no feature '" + text::escape(key) + "'");
    return it->second;
}

Result<void> Store::set_feature(std::string const& name, std::string const& key,
                                std::string const& value) {
    std::lock_guard lock(m_mutex);
    auto& s = *m_impl;
    auto rec = TRY(s.need(name));
    TRY(check_feature_key(key));
    TRY(check_text("feature value", value));
    return s.transaction([&]() -> Result<void> {
        return s.db.run("INSERT OR REPLACE INTO features (qid, key, value) VALUES (?, ?, ?)",
                        {rec.qid, key, value});
    });
}

Result<void> Store::remove_feature(std::string const& name, std::string const& key) {
    std::lock_guard lock(m_mutex);
    auto& s = *m_impl;
    auto rec = TRY(s.need(name));
    if (!rec.features.count(key))
        return unexpected(Errc::NotFound,
                          "domain '" + name + "' has no feature '" + text::escape(key) + "'");
    return s.transaction([&]() -> Result<void> {
        return s.db.run("DELETE FROM features WHERE qid = ? AND key = ?", {rec.qid, key});
    });
}

Result<std::string> Store::get_global(std::string const& prop) {
    std::lock_guard lock(m_mutex);
    TRY(find_global(prop));
    return m_impl->global(prop);
}

Result<std::vector<PropertyValue>> Store::list_globals() {
    std::lock_guard lock(m_mutex);
    std::vector<PropertyValue> out;
    for (auto const& d : global_defs()) {
        auto v = TRY(m_impl->global(std::string(d.name)));
        out.push_back(PropertyValue{std::string(d.name), v, v.empty(), d.type});
    }
    return out;
}

Result<void> Store::set_global(std::string const& prop, std::string const& value) {
    std::lock_guard lock(m_mutex);
    auto& s = *m_impl;
    auto const* def = TRY(find_global(prop));
    auto cv = TRY(canonical_value(def->type, prop, value));
    TRY(s.validate_global(*def, cv));
    return s.transaction([&]() -> Result<void> {
        return s.db.run("INSERT OR REPLACE INTO globals (name, value) VALUES (?, ?)", {prop, cv});
    });
}

Result<std::vector<std::string>> Store::firewall_rules(std::string const& name) {
    std::lock_guard lock(m_mutex);
    auto rec = TRY(m_impl->need(name));
    auto v = TRY(m_impl->db.scalar_text("SELECT rules FROM firewall WHERE qid = ?", {rec.qid}));
    if (!v)
        return firewall::default_rules();
    return v->empty() ? std::vector<std::string>{} : text::split(*v, '\n');
}

Result<std::vector<std::string>> Store::set_firewall_rules(std::string const& name,
                                                           std::vector<std::string> const& rules,
                                                           int64_t now) {
    std::lock_guard lock(m_mutex);
    auto& s = *m_impl;
    auto rec = TRY(s.need(name));
    if (rec.klass == Klass::AdminVM)
        return unexpected(Errc::Invalid, "dom0 has no firewall");
    if (rules.size() > 10000)
        return unexpected(Errc::Limit, "at most 10000 firewall rules per domain");
    std::vector<std::string> canon;
    for (size_t i = 0; i < rules.size(); ++i) {
        auto r = firewall::parse_rule(rules[i], now);
        if (!r)
            return Unexpected{std::move(r).error().prefix("rule " + std::to_string(i + 1))};
        canon.push_back(firewall::format_rule(*r));
    }
    TRY(s.transaction([&]() -> Result<void> {
        return s.db.run("INSERT OR REPLACE INTO firewall (qid, rules) VALUES (?, ?)",
                        {rec.qid, text::join(canon, "\n")});
    }));
    return canon;
}

Result<std::vector<std::string>> Store::layers(std::string const& template_name) {
    std::lock_guard lock(m_mutex);
    auto rec = TRY(m_impl->need(template_name));
    auto st = TRY(
        m_impl->db.query("SELECT layer FROM layers WHERE qid = ? ORDER BY position", {rec.qid}));
    std::vector<std::string> out;
    while (TRY(st.step()))
        out.push_back(st.col_text(0));
    return out;
}

Result<void> Store::set_layers(std::string const& template_name,
                               std::vector<std::string> const& l) {
    std::lock_guard lock(m_mutex);
    auto& s = *m_impl;
    auto rec = TRY(s.need(template_name));
    if (rec.klass != Klass::TemplateVM)
        return unexpected(Errc::Invalid, "domain '" + template_name + "' is not a TemplateVM");
    for (auto const& layer : l)
        if (layer.empty() || layer.size() > 255 || layer.find('/') != std::string::npos ||
            layer == "." || layer == "..")
            return unexpected(Errc::Invalid, "invalid layer name '" + text::escape(layer) + "'");
    return s.transaction([&]() -> Result<void> {
        TRY(s.db.run("DELETE FROM layers WHERE qid = ?", {rec.qid}));
        for (size_t i = 0; i < l.size(); ++i)
            TRY(s.db.run("INSERT INTO layers (qid, position, layer) VALUES (?, ?, ?)",
                         {rec.qid, static_cast<int64_t>(i), l[i]}));
        return {};
    });
}

Result<std::vector<std::string>> Store::layer_stack(std::string const& name) {
    std::lock_guard lock(m_mutex);
    auto& s = *m_impl;
    std::vector<DomainRecord> chain; // self-or-template first, base last
    auto rec = TRY(s.need(name));
    for (int depth = 0; depth < 64; ++depth) {
        if (rec.klass == Klass::TemplateVM)
            chain.push_back(rec);
        auto def = find_property(rec.klass, "template");
        if (!def)
            break;
        auto t = TRY(s.effective(rec, **def));
        if (t.value.empty())
            break;
        rec = TRY(s.need(t.value));
    }
    std::vector<std::string> out;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        auto st =
            TRY(s.db.query("SELECT layer FROM layers WHERE qid = ? ORDER BY position", {it->qid}));
        while (TRY(st.step()))
            out.push_back(st.col_text(0));
    }
    return out;
}

uint64_t Store::generation() {
    std::lock_guard lock(m_mutex);
    return m_impl->generation;
}

} // namespace bulkhead::dom0
