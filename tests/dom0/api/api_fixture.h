// Test support for the admin API suites (tests/dom0/api, tests/dom0/cli): a recording
// Lifecycle with settable power states, and an ApiServer on a temp socket over a real
// Store in a temp root.
#pragma once

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/dom0/api/api_client.h>
#include <bulkhead/dom0/api/api_server.h>
#include <bulkhead/dom0/api/lifecycle.h>
#include <bulkhead/dom0/store/store.h>

#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace bulkhead::dom0::test {

class TestLifecycle : public Lifecycle {
public:
    Result<void> start(std::string const& name) override {
        std::lock_guard lock(m_mutex);
        m_calls.push_back("start " + name);
        auto& s = state_of(name);
        if (s == "Running")
            return unexpected(Errc::Busy, "domain '" + name + "' is already running");
        s = "Running";
        return {};
    }
    Result<void> shutdown(std::string const& name, bool wait,
                          std::chrono::seconds timeout) override {
        std::lock_guard lock(m_mutex);
        m_calls.push_back("shutdown " + name + (wait ? " wait " : " nowait ") +
                          std::to_string(timeout.count()));
        auto& s = state_of(name);
        if (s == "Halted")
            return unexpected(Errc::Busy, "domain '" + name + "' is not running");
        s = "Halted";
        return {};
    }
    Result<void> kill(std::string const& name) override {
        std::lock_guard lock(m_mutex);
        m_calls.push_back("kill " + name);
        auto& s = state_of(name);
        if (s == "Halted")
            return unexpected(Errc::Busy, "domain '" + name + "' is not running");
        s = "Halted";
        return {};
    }
    Result<void> pause(std::string const& name) override {
        std::lock_guard lock(m_mutex);
        m_calls.push_back("pause " + name);
        auto& s = state_of(name);
        if (s != "Running")
            return unexpected(Errc::Busy, "domain '" + name + "' is not running");
        s = "Paused";
        return {};
    }
    Result<void> unpause(std::string const& name) override {
        std::lock_guard lock(m_mutex);
        m_calls.push_back("unpause " + name);
        auto& s = state_of(name);
        if (s != "Paused")
            return unexpected(Errc::Busy, "domain '" + name + "' is not paused");
        s = "Running";
        return {};
    }
    std::string power_state(std::string const& name) override {
        std::lock_guard lock(m_mutex);
        return state_of(name);
    }
    Result<void> before_remove(std::string const& name) override {
        std::lock_guard lock(m_mutex);
        m_calls.push_back("before_remove " + name);
        return {};
    }
    Result<void> network_changed(std::string const& name) override {
        std::lock_guard lock(m_mutex);
        m_calls.push_back("network_changed " + name);
        if (fail_network_once) {
            fail_network_once = false;
            return unexpected(Errc::Busy, "netvm would not start");
        }
        return {};
    }
    bool fail_network_once = false; // the next network_changed fails
    Result<void> check_shutdown(std::string const& name) override {
        std::lock_guard lock(m_mutex);
        if (name == busy_netvm)
            return unexpected(Errc::Busy, "There are other VMs connected to this VM: work");
        return {};
    }
    std::string busy_netvm; // check_shutdown refuses this one
    Result<void> firewall_changed(std::string const& name) override {
        std::lock_guard lock(m_mutex);
        m_calls.push_back("firewall_changed " + name);
        return {};
    }

    void set_state(std::string const& name, std::string state) {
        std::lock_guard lock(m_mutex);
        m_states[name] = std::move(state);
    }
    std::vector<std::string> calls() {
        std::lock_guard lock(m_mutex);
        return m_calls;
    }
    void clear_calls() {
        std::lock_guard lock(m_mutex);
        m_calls.clear();
    }

private:
    std::string& state_of(std::string const& name) {
        auto it = m_states.find(name);
        if (it == m_states.end())
            it = m_states.emplace(name, name == "dom0" ? "Running" : "Halted").first;
        return it->second;
    }
    std::mutex m_mutex;
    std::map<std::string, std::string> m_states;
    std::vector<std::string> m_calls;
};

template <typename T>
T need(Result<T> r, char const* what) {
    if (!r)
        throw std::runtime_error(std::string(what) + ": " + r.error().message());
    return std::move(*r);
}
inline void need(Result<void> r, char const* what) {
    if (!r)
        throw std::runtime_error(std::string(what) + ": " + r.error().message());
}

struct ApiFixture {
    explicit ApiFixture(size_t max_clients = 32, bool start = true)
        : root(need(sys::make_temp_dir("/tmp/bh-api"), "temp dir"))
        , store(need(Store::open(root), "store"))
        , server(std::make_unique<ApiServer>(*store, life, max_clients))
        , socket(root + "/run/admin.sock") {
        if (start)
            need(server->start(socket), "server start");
    }
    ~ApiFixture() {
        server->stop();
        server.reset();
        (void)sys::remove_tree(root);
    }
    ApiClient client() { return need(ApiClient::connect(socket), "connect"); }

    void make(std::string name, Klass k, std::map<std::string, std::string> props = {}) {
        need(store->create({name, k, "red", std::move(props)}), "create");
    }
    // fedora (TemplateVM), sys-net (netvm), work (AppVM on fedora, netvm sys-net),
    // dvm (AppVM, template_for_dispvms).
    void basic() {
        make("fedora", Klass::TemplateVM);
        make("sys-net", Klass::StandaloneVM, {{"provides_network", "True"}});
        make("work", Klass::AppVM, {{"template", "fedora"}, {"netvm", "sys-net"}});
        make("dvm", Klass::AppVM, {{"template", "fedora"}, {"template_for_dispvms", "True"}});
    }
    std::string prop(std::string const& d, std::string const& p) {
        return need(store->get_property(d, p), "get_property").value;
    }

    std::string root;
    TestLifecycle life;
    std::unique_ptr<Store> store;
    std::unique_ptr<ApiServer> server;
    std::string socket;
};

} // namespace bulkhead::dom0::test
