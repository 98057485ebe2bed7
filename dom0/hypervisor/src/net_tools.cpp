#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/text.h>
#include <bulkhead/dom0/hypervisor/net_tools.h>

#include <unistd.h>

namespace bulkhead::dom0::net {

namespace {

Logger const log{"net"};

} // namespace

// The tools by absolute path: bulkheadd's PATH may lack the sbin directories.
std::string tool_path(char const* name) {
    std::string path = sys::getenv_or("PATH", "");
    for (auto const& dir : text::split(path + ":/usr/sbin:/sbin:/usr/bin:/bin", ':')) {
        if (dir.empty() || dir[0] != '/')
            continue;
        auto full = dir + "/" + name;
        if (::access(full.c_str(), X_OK) == 0)
            return full;
    }
    return name; // spawn reports it missing
}

namespace {

Result<sys::RunOutput> run_raw(std::string const& netns, std::vector<std::string> argv,
                               std::string const& input, std::string const& what) {
    std::vector<std::string> full = {tool_path("nsenter"), "--net=" + netns, "--"};
    full.insert(full.end(), argv.begin(), argv.end());
    return TRY_CTX(sys::run(full, input), what);
}

Result<void> run_in(std::string const& netns, std::vector<std::string> argv,
                    std::string const& input, std::string const& what) {
    auto r = TRY(run_raw(netns, std::move(argv), input, what));
    if (r.status.code != 0)
        return unexpected(Errc::System, what + " failed (exit " + std::to_string(r.status.code) +
                                            "): " + text::escape(text::trim(r.err)));
    return ok();
}

// In the uplink namespace: what the netvms send out is masqueraded behind its address.
constexpr char const* kUplinkNat =
    "table ip bulkhead_uplink\ndelete table ip bulkhead_uplink\n"
    "table ip bulkhead_uplink {\n\tchain postrouting {\n"
    "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
    "\t\tip saddr 10.137.0.0/16 oifname != \"vif*\" masquerade\n\t}\n}\n";

} // namespace

std::string own_netns() {
    return "/proc/" + std::to_string(::getpid()) + "/ns/net";
}

Result<void> ip_batch(std::string const& netns, std::string const& commands) {
    return run_in(netns, {tool_path("ip"), "-batch", "-"}, commands, "ip in " + netns);
}

Result<void> load_nft(std::string const& netns, std::string const& script) {
    return run_in(netns, {tool_path("nft"), "-f", "-"}, script, "nft in " + netns);
}

Result<bool> has_link(std::string const& netns, std::string const& name) {
    // `ip link show` of a missing device fails: that is the answer.
    auto r = TRY(
        run_raw(netns, {tool_path("ip"), "-o", "link", "show", "dev", name}, "", "ip in " + netns));
    return r.status.code == 0;
}

Result<std::string> read_forwarding(std::string const& netns) {
    auto r = TRY(run_raw(netns, {tool_path("sysctl"), "-n", "net.ipv4.ip_forward"}, "",
                         "sysctl in " + netns));
    auto v = std::string(text::trim(r.out));
    if (r.status.code != 0 || (v != "0" && v != "1"))
        return unexpected(Errc::System, "sysctl in " + netns + ": cannot read net.ipv4.ip_forward");
    return v;
}

Result<void> disable_forwarding(std::string const& netns) {
    return run_in(netns, {tool_path("sysctl"), "-q", "-w", "net.ipv4.ip_forward=0"}, "",
                  "sysctl in " + netns);
}

Result<void> enable_forwarding(std::string const& netns) {
    return run_in(netns, {tool_path("sysctl"), "-q", "-w", "net.ipv4.ip_forward=1"}, "",
                  "sysctl in " + netns);
}

std::vector<std::string> nameservers(std::string const& resolv_conf) {
    std::vector<std::string> out;
    for (auto const& line : text::split(resolv_conf, '\n')) {
        auto words = text::split_ws(line);
        if (words.size() >= 2 && words[0] == "nameserver" && !words[1].starts_with("127.") &&
            words[1].find(':') == std::string::npos)
            out.push_back(words[1]);
    }
    return out;
}

std::string backend_link_commands(std::string const& vif, std::string const& address,
                                  std::string const& gateway) {
    return "link set dev " + vif + " up\n" + "addr add " + gateway + "/32 dev " + vif + "\n" +
           "route replace " + address + "/32 dev " + vif + " scope link\n";
}

std::string domain_link_commands(std::string const& dev, std::string const& address,
                                 std::string const& gateway) {
    return "link set dev " + dev + " up\naddr add " + address + "/32 dev " + dev +
           "\nroute replace " + gateway + "/32 dev " + dev +
           " scope link\nroute replace default via " + gateway + " dev " + dev + "\n";
}

Uplink::~Uplink() {
    restore();
}

Result<void> Uplink::open(std::string const& netns) {
    if (m_netns.empty()) {
        m_forward_before = TRY_CTX(read_forwarding(netns), "uplink forwarding");
        m_netns = netns;
    } else if (m_netns != netns) {
        return unexpected(Errc::Invalid, "the uplink moved from " + m_netns + " to " + netns);
    }
    TRY_CTX(enable_forwarding(netns), "uplink forwarding");
    TRY_CTX(load_nft(netns, kUplinkNat), "uplink NAT");
    return ok();
}

void Uplink::restore() {
    if (m_netns.empty())
        return;
    if (auto r = load_nft(m_netns, "table ip bulkhead_uplink\ndelete table ip bulkhead_uplink\n");
        !r)
        LOG_WARN(log, "removing the uplink NAT table", {"error", r.error().message()});
    if (m_forward_before == "0")
        if (auto r = disable_forwarding(m_netns); !r)
            LOG_WARN(log, "restoring the uplink's ip_forward", {"error", r.error().message()});
    m_netns.clear();
}

} // namespace bulkhead::dom0::net
