// SerializedHypervisor: one call at a time into a backend. The domain manager calls the
// backend from many threads (admin API clients, broker workers, the disposable pool's
// worker, the detached destroyers) while the event loop drains its events; a backend that
// keeps plain state (the sandbox's domain table, reaped by both destroy and take_events)
// must never see two at once. Calls are short (create: one launch; destroy: one reap).
#pragma once

#include <bulkhead/dom0/hypervisor/hypervisor.h>

#include <memory>
#include <mutex>

namespace bulkhead::dom0 {

class SerializedHypervisor final : public Hypervisor {
public:
    explicit SerializedHypervisor(std::unique_ptr<Hypervisor> inner)
        : m_inner(std::move(inner)) {}

    std::string_view backend_name() const override { return m_inner->backend_name(); }
    Result<DomId> create(DomainSpec const& spec) override {
        std::lock_guard lock(m_mutex);
        return m_inner->create(spec);
    }
    Result<void> shutdown(DomId id) override {
        std::lock_guard lock(m_mutex);
        return m_inner->shutdown(id);
    }
    Result<void> destroy(DomId id) override {
        std::lock_guard lock(m_mutex);
        return m_inner->destroy(id);
    }
    Result<void> pause(DomId id) override {
        std::lock_guard lock(m_mutex);
        return m_inner->pause(id);
    }
    Result<void> unpause(DomId id) override {
        std::lock_guard lock(m_mutex);
        return m_inner->unpause(id);
    }
    Result<DomainInfo> info(DomId id) override {
        std::lock_guard lock(m_mutex);
        return m_inner->info(id);
    }
    Result<std::vector<DomainInfo>> list() override {
        std::lock_guard lock(m_mutex);
        return m_inner->list();
    }
    Result<void> set_memory_target(DomId id, uint64_t mib) override {
        std::lock_guard lock(m_mutex);
        return m_inner->set_memory_target(id, mib);
    }
    Result<NetworkLinkInfo> attach_network(DomId id, NetworkLink const& link) override {
        std::lock_guard lock(m_mutex);
        return m_inner->attach_network(id, link);
    }
    Result<void> detach_network(DomId id) override {
        std::lock_guard lock(m_mutex);
        return m_inner->detach_network(id);
    }
    Result<void> apply_network_rules(DomId netvm, std::string const& ruleset) override {
        std::lock_guard lock(m_mutex);
        return m_inner->apply_network_rules(netvm, ruleset);
    }
    int event_fd() const override { return m_inner->event_fd(); }
    Result<std::vector<HypervisorEvent>> take_events() override {
        std::lock_guard lock(m_mutex);
        return m_inner->take_events();
    }

private:
    std::unique_ptr<Hypervisor> m_inner;
    std::mutex m_mutex;
};

} // namespace bulkhead::dom0
