#include "net_link.h"

#include <bulkhead/base/sys/proc.h>
#include <bulkhead/base/text.h>

#include <unistd.h>

namespace bulkhead::dom0::sandbox {

namespace {

// The tools by absolute path: bulkheadd's PATH may lack the sbin directories.
std::string tool(char const* name) {
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

Result<void> run_in(std::string const& netns, std::vector<std::string> argv,
                    std::string const& input, std::string const& what) {
    std::vector<std::string> full = {tool("nsenter"), "--net=" + netns, "--"};
    full.insert(full.end(), argv.begin(), argv.end());
    auto r = TRY_CTX(sys::run(full, input), what);
    if (r.status.code != 0)
        return unexpected(Errc::System, what + " failed (exit " + std::to_string(r.status.code) +
                                            "): " + text::escape(text::trim(r.err)));
    return ok();
}

} // namespace

Result<void> ip_batch(std::string const& netns, std::string const& commands) {
    return run_in(netns, {tool("ip"), "-batch", "-"}, commands, "ip in " + netns);
}

Result<void> load_nft(std::string const& netns, std::string const& script) {
    return run_in(netns, {tool("nft"), "-f", "-"}, script, "nft in " + netns);
}

Result<std::string> read_forwarding(std::string const& netns) {
    auto r = TRY_CTX(sys::run({tool("nsenter"), "--net=" + netns, "--", tool("sysctl"), "-n",
                               "net.ipv4.ip_forward"}),
                     "sysctl in " + netns);
    auto v = std::string(text::trim(r.out));
    if (r.status.code != 0 || (v != "0" && v != "1"))
        return unexpected(Errc::System, "sysctl in " + netns + ": cannot read net.ipv4.ip_forward");
    return v;
}

Result<void> disable_forwarding(std::string const& netns) {
    return run_in(netns, {tool("sysctl"), "-q", "-w", "net.ipv4.ip_forward=0"}, "",
                  "sysctl in " + netns);
}

Result<void> enable_forwarding(std::string const& netns) {
    return run_in(netns, {tool("sysctl"), "-q", "-w", "net.ipv4.ip_forward=1"}, "",
                  "sysctl in " + netns);
}

Result<void> unplug_veth(std::string const& domain_netns) {
    // `ip link del` of a missing device fails: list first (one process either way).
    auto r = TRY(sys::run({tool("nsenter"), "--net=" + domain_netns, "--", tool("ip"), "-o", "link",
                           "show", "dev", "eth0"}));
    if (r.status.code != 0)
        return ok(); // no eth0
    return ip_batch(domain_netns, "link del dev eth0\n");
}

Result<void> plug_veth(VethPlan const& p) {
    TRY(unplug_veth(p.domain_netns));
    // Both ends are made directly in their namespaces (one netlink request).
    auto made = TRY(sys::run({tool("ip"), "link", "add", p.vif, "netns", p.backend_netns, "type",
                              "veth", "peer", "name", "eth0", "netns", p.domain_netns}));
    if (made.status.code != 0)
        return unexpected(Errc::System,
                          "creating veth " + p.vif + ": " + text::escape(text::trim(made.err)));
    TRY(ip_batch(p.backend_netns, "link set dev " + p.vif + " up\n" + "addr add " + p.gateway +
                                      "/32 dev " + p.vif + "\n" + "route replace " + p.address +
                                      "/32 dev " + p.vif + " scope link\n"));
    TRY(ip_batch(p.domain_netns, "link set dev eth0 up\naddr add " + p.address +
                                     "/32 dev eth0\nroute replace " + p.gateway +
                                     "/32 dev eth0 scope link\nroute replace default via " +
                                     p.gateway + " dev eth0\n"));
    return ok();
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

} // namespace bulkhead::dom0::sandbox
