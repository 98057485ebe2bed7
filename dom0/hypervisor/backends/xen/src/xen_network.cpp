#include "xen_network.h"

#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/text.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

extern "C" {
#include <libxl.h>
#include <xenstore.h>
}

namespace bulkhead::dom0::xen {
namespace {

Logger const log{"xen.net"};

std::string home(DomId id) {
    return "/local/domain/" + std::to_string(id) + "/";
}

std::string backend_dir(DomId id, DomId backend) {
    return home(backend) + "backend/vif/" + std::to_string(id) + "/0";
}

Error libxl_failed(char const* call, int rc, DomId id) {
    return Error(rc == ERROR_DOMAIN_NOTFOUND ? Errc::NotFound : Errc::System,
                 std::string(call) + " (domain " + std::to_string(id) + "): libxl error " +
                     std::to_string(rc));
}

// A ruleset travels in chunks small enough for any xenstored's node size limit.
constexpr size_t kChunk = 2000;

} // namespace

XenNetwork::XenNetwork(libxl_ctx* ctx, xs_handle* xs, XenOptions const& opts)
    : m_ctx(ctx)
    , m_xs(xs)
    , m_opts(opts) {}

XenNetwork::~XenNetwork() {
    if (m_xs)
        xs_close(m_xs);
}

Result<std::unique_ptr<XenNetwork>> XenNetwork::open(libxl_ctx* ctx, XenOptions const& opts) {
    xs_handle* xs = xs_open(0);
    if (!xs)
        return Error::from_errno("xs_open", errno);
    return std::unique_ptr<XenNetwork>(new XenNetwork(ctx, xs, opts));
}

Result<void> XenNetwork::write(std::string const& path, std::string const& value) {
    std::lock_guard lock(m_mutex);
    if (!xs_write(m_xs, XBT_NULL, path.c_str(), value.data(), unsigned(value.size())))
        return Error::from_errno("xs_write " + path, errno);
    return ok();
}

std::optional<std::string> XenNetwork::read(std::string const& path) {
    std::lock_guard lock(m_mutex);
    unsigned len = 0;
    void* v = xs_read(m_xs, XBT_NULL, path.c_str(), &len);
    if (!v)
        return std::nullopt;
    std::string out(static_cast<char*>(v), len);
    std::free(v);
    return out;
}

void XenNetwork::remove(std::string const& path) {
    std::lock_guard lock(m_mutex);
    xs_rm(m_xs, XBT_NULL, path.c_str());
}

Result<void> XenNetwork::wait_connected(DomId id, DomId backend) {
    auto const be = backend_dir(id, backend);
    auto const fe = home(id) + "device/vif/0";
    auto const deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(m_opts.network_timeout_ms);
    for (;;) {
        // (states: 4 connected; the frontend's is guest-written and only shown in the error)
        if (read(be + "/state").value_or("") == "4")
            return ok();
        if (std::chrono::steady_clock::now() > deadline)
            return unexpected(
                Errc::Timeout,
                "vif" + std::to_string(id) + ".0 did not connect within " +
                    std::to_string(m_opts.network_timeout_ms / 1000) + " s (backend state " +
                    read(be + "/state").value_or("-") + ", hotplug " +
                    read(be + "/hotplug-status").value_or("-") + ", frontend " +
                    text::escape(read(fe + "/state").value_or("-").substr(0, 8)) + ")");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

Result<NetworkLinkInfo> XenNetwork::attach(DomId id, NetworkLink const& link) {
    TRY(detach(id));
    NetworkLinkInfo info;
    std::string netns;
    if (link.backend == 0) {
        info.gateway = m_opts.uplink_gateway;
        info.dns = m_opts.uplink_dns.empty()
                       ? net::nameservers(sys::read_file("/etc/resolv.conf").value_or(""))
                       : m_opts.uplink_dns;
        netns = m_opts.uplink_netns.empty() ? net::own_netns() : m_opts.uplink_netns;
        TRY(m_uplink.open(netns));
    } else {
        info.gateway = link.gateway;
    }
    if (link.address.empty() || info.gateway.empty())
        return unexpected(Errc::Invalid,
                          "network link of domain " + std::to_string(id) + " needs addresses");
    auto const cfg = link.address + " " + info.gateway;
    // What each end configures: the domain its eth0, the netvm its vif (dom0's keys).
    TRY(write(home(id) + "bulkhead/net/config", cfg));
    if (link.backend != 0)
        TRY(write(home(link.backend) + "bulkhead/net/clients/" + std::to_string(id), cfg));

    libxl_device_nic nic;
    libxl_device_nic_init(&nic);
    nic.backend_domid = link.backend;
    nic.devid = 0;
    nic.nictype = LIBXL_NIC_TYPE_VIF;
    uint8_t const mac[6] = {0x00, 0x16, 0x3e, 0x5e, uint8_t(id >> 8), uint8_t(id & 0xff)};
    std::memcpy(nic.mac, mac, sizeof mac);
    nic.ip = ::strdup(link.address.c_str());
    // dom0's end is plugged below, by us: libxl's hotplug script must do nothing. (A netvm's
    // end is plugged by the netvm: libxl runs no script for a driver domain's device.)
    if (link.backend == 0)
        nic.script = ::strdup("/bin/true");
    int rc = libxl_device_nic_add(m_ctx, id, &nic, nullptr);
    libxl_device_nic_dispose(&nic);
    if (rc != 0)
        return libxl_failed("libxl_device_nic_add", rc, id);

    auto const vif = "vif" + std::to_string(id) + ".0";
    if (link.backend == 0) {
        if (!m_opts.uplink_netns.empty())
            TRY_CTX(net::ip_batch(net::own_netns(),
                                  "link set dev " + vif + " netns " + m_opts.uplink_netns + "\n"),
                    "moving " + vif + " to the uplink namespace");
        TRY_CTX(net::ip_batch(netns, net::backend_link_commands(vif, link.address, info.gateway)),
                "plugging " + vif);
        TRY(write(backend_dir(id, 0) + "/hotplug-status", "connected"));
    }
    if (auto c = wait_connected(id, link.backend); !c) {
        (void)detach(id);
        return std::move(c).error();
    }
    LOG_INFO(log, "network attached", {"id", std::to_string(id)}, {"vif", vif},
             {"backend", std::to_string(link.backend)}, {"address", link.address},
             {"gateway", info.gateway});
    return info;
}

Result<void> XenNetwork::detach(DomId id) {
    int n = 0;
    libxl_device_nic* nics = libxl_device_nic_list(m_ctx, id, &n);
    Result<void> out = ok();
    for (int i = 0; i < n; ++i) {
        DomId backend = nics[i].backend_domid;
        int rc = libxl_device_nic_remove(m_ctx, id, &nics[i], nullptr);
        if (rc != 0) {
            // The backend did not answer (a dead or stuck netvm): take it away regardless.
            LOG_WARN(log, "vif removal failed; destroying it", {"id", std::to_string(id)},
                     {"rc", std::to_string(rc)});
            rc = libxl_device_nic_destroy(m_ctx, id, &nics[i], nullptr);
            if (rc != 0 && rc != ERROR_DOMAIN_NOTFOUND && out)
                out = libxl_failed("libxl_device_nic_destroy", rc, id);
        }
        if (backend != 0)
            remove(home(backend) + "bulkhead/net/clients/" + std::to_string(id));
    }
    if (nics)
        libxl_device_nic_list_free(nics, n);
    remove(home(id) + "bulkhead/net");
    return out;
}

void XenNetwork::backend_died(DomId dead, std::vector<DomId> const& domains) {
    for (DomId id : domains) {
        if (id == dead)
            continue;
        int n = 0;
        libxl_device_nic* nics = libxl_device_nic_list(m_ctx, id, &n);
        for (int i = 0; i < n; ++i) {
            if (nics[i].backend_domid != dead)
                continue;
            // Nothing is left to negotiate with: the frontend's and libxl's records go, which
            // makes the client's netfront remove eth0 (libxl's own removal would wait for the
            // dead backend first).
            auto devid = std::to_string(nics[i].devid);
            remove(home(id) + "device/vif/" + devid);
            remove("/libxl/" + std::to_string(id) + "/device/vif/" + devid);
            remove(home(id) + "bulkhead/net");
            LOG_INFO(log, "netvm gone: vif removed", {"id", std::to_string(id)},
                     {"netvm", std::to_string(dead)});
        }
        if (nics)
            libxl_device_nic_list_free(nics, n);
    }
}

Result<void> XenNetwork::apply_rules(DomId netvm, std::string const& ruleset) {
    auto const base = home(netvm) + "bulkhead/firewall";
    uint64_t gen = 0;
    {
        std::lock_guard lock(m_mutex);
        gen = ++m_gen;
        size_t chunks = (ruleset.size() + kChunk - 1) / kChunk;
        for (int attempt = 0;; ++attempt) {
            if (attempt == 8)
                return unexpected(Errc::Busy, "xenstore transaction kept conflicting");
            xs_transaction_t t = xs_transaction_start(m_xs);
            if (t == XBT_NULL)
                return Error::from_errno("xs_transaction_start", errno);
            bool written = true;
            for (size_t i = 0; i < chunks && written; ++i) {
                auto path = base + "/" + std::to_string(gen) + "/" + std::to_string(i);
                auto part = ruleset.substr(i * kChunk, kChunk);
                written = xs_write(m_xs, t, path.c_str(), part.data(), unsigned(part.size()));
            }
            auto cur = std::to_string(gen) + " " + std::to_string(chunks);
            written = written && xs_write(m_xs, t, (base + "/current").c_str(), cur.data(),
                                          unsigned(cur.size()));
            if (!written) {
                int err = errno;
                xs_transaction_end(m_xs, t, true);
                return Error::from_errno("xs_write " + base, err);
            }
            if (xs_transaction_end(m_xs, t, false))
                break;
            if (errno != EAGAIN)
                return Error::from_errno("xs_transaction_end", errno);
        }
    }
    auto const deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(m_opts.network_timeout_ms);
    std::optional<FirewallAck> ack;
    while (!ack || ack->gen != gen) {
        if (std::chrono::steady_clock::now() > deadline)
            return unexpected(Errc::Timeout, "netvm " + std::to_string(netvm) +
                                                 " did not answer its ruleset within " +
                                                 std::to_string(m_opts.network_timeout_ms / 1000) +
                                                 " s");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (auto v = read(home(netvm) + kFirewallAckKey))
            ack = FirewallAckValidator::parse(Untrusted<std::string>(std::move(*v)));
    }
    // Older generations are no longer needed (the netvm applied or refused this one).
    {
        std::lock_guard lock(m_mutex);
        unsigned n = 0;
        if (char** names = xs_directory(m_xs, XBT_NULL, base.c_str(), &n)) {
            for (unsigned i = 0; i < n; ++i) {
                std::string name = names[i];
                if (name != "current" && name != std::to_string(gen))
                    xs_rm(m_xs, XBT_NULL, (base + "/" + name).c_str());
            }
            std::free(names);
        }
    }
    if (!ack->ok)
        return unexpected(Errc::System, "nft in netvm " + std::to_string(netvm) +
                                            " refused the ruleset: " + ack->error);
    return ok();
}

} // namespace bulkhead::dom0::xen
