// `bulkhead-xen-init --net`: the network half of a Bulkhead domain on Xen, which PID 1 starts
// (as root, for the domain's lifetime; one binary with PID 1, to keep the guest's RAM small). It
// follows dom0's keys in xenstore (the contract is in
// dom0/hypervisor/backends/xen/include/bulkhead/dom0/hypervisor/xen/xen_plan.h) and does in
// the guest what the sandbox backend does from dom0 with nsenter:
//  - as a client: once netfront's eth0 exists, it gets bulkhead/net/config's address/32, the
//    gateway on the link and the default route through it (again whenever either changes);
//  - as a netvm (a driver domain): each vif<domid>.<n> netback makes for a client gets the
//    gateway/32 and a /32 route to the client from bulkhead/net/clients/<domid>, forwarding
//    is on, and then hotplug-status=connected tells netback to connect (what Xen's vif
//    hotplug script does in a dom0 backend);
//  - as a netvm: a vif dom0 takes away (online=0) has its backend directory removed once
//    netback closed it, which is what dom0's libxl waits for;
//  - as a netvm: each ruleset dom0 sends (bulkhead/firewall/current) is loaded with
//    `nft -f` (one transaction: on failure the old rules stay) and answered in
//    data/bulkhead-firewall, "GEN ok" or "GEN error TEXT".
// Addresses and names come from dom0's keys only; commands run without a shell.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "xen_net.h"
#include "xs_keys.h"

namespace {

void say(std::string const& s) {
    std::fprintf(stderr, "bulkhead-xen-init --net: %s\n", s.c_str());
}

// The template's iproute2 `ip`, else its busybox's.
std::vector<std::string> ip_command() {
    for (auto const* p : {"/sbin/ip", "/usr/sbin/ip", "/bin/ip", "/usr/bin/ip"})
        if (::access(p, X_OK) == 0)
            return {p};
    return {"/bin/busybox", "ip"};
}

// Set when the connection to xenstored failed (not a missing key): main() opens a new one.
bool g_broken = false;

bool read_key(xs_handle* xs, std::string const& key, std::string& out) {
    if (bulkhead::xs::read_key(xs, key, out))
        return true;
    if (errno != ENOENT && errno != EACCES && errno != EPERM && errno != EINVAL)
        g_broken = true;
    return false;
}

using bulkhead::xs::list_dir;

std::string read_file(std::string const& path) {
    std::string out;
    if (FILE* f = std::fopen(path.c_str(), "r")) {
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
            out.append(buf, n);
        std::fclose(f);
    }
    return out;
}

// The link's index: a device removed and made again under the same name is a new one.
std::string ifindex(std::string const& dev) {
    auto v = read_file("/sys/class/net/" + dev + "/ifindex");
    while (!v.empty() && (v.back() == '\n' || v.back() == ' '))
        v.pop_back();
    return v;
}

// Runs argv (no shell), stdin from `input`; its stderr (first 200 bytes) in *err. Exit status.
int run(std::vector<std::string> const& argv, std::string* err = nullptr) {
    int errp[2];
    if (::pipe2(errp, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = ::fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        ::dup2(errp[1], 2);
        int null = ::open("/dev/null", O_RDWR);
        if (null >= 0) {
            ::dup2(null, 0);
            ::dup2(null, 1);
        }
        std::vector<char*> a;
        for (auto const& s : argv)
            a.push_back(const_cast<char*>(s.c_str()));
        a.push_back(nullptr);
        char const* env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", nullptr};
        ::execve(a[0], a.data(), const_cast<char**>(env));
        std::fprintf(stderr, "exec %s: %s", a[0], std::strerror(errno));
        std::_Exit(127);
    }
    ::close(errp[1]);
    std::string e;
    char buf[512];
    ssize_t n;
    while ((n = ::read(errp[0], buf, sizeof buf)) > 0)
        if (e.size() < 4096)
            e.append(buf, size_t(n));
    ::close(errp[0]);
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (err)
        *err = e.substr(0, 200);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

bool ip(std::vector<std::string> args, bool quiet_fail = false) {
    static auto const prefix = ip_command();
    args.insert(args.begin(), prefix.begin(), prefix.end());
    std::string err;
    int rc = run(args, &err);
    if (rc != 0 && !quiet_fail) {
        std::string line;
        for (auto const& a : args)
            line += a + " ";
        say(line + "failed: " + err);
    }
    return rc == 0;
}

bool split_config(std::string const& v, std::string& address, std::string& gateway) {
    auto sp = v.find(' ');
    if (sp == std::string::npos)
        return false;
    address = v.substr(0, sp);
    gateway = v.substr(sp + 1);
    auto good = [](std::string const& s) {
        return !s.empty() && s.size() <= 15 &&
               s.find_first_not_of("0123456789.") == std::string::npos;
    };
    return good(address) && good(gateway);
}

std::string find_nft() {
    for (auto const* p : {"/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft", "/bin/nft"})
        if (::access(p, X_OK) == 0)
            return p;
    return {};
}

struct State {
    std::string client_done;                 // config + eth0's ifindex, once configured
    std::map<std::string, std::string> vifs; // vif -> config + ifindex, once configured
    std::string firewall_gen;                // the last generation answered
};

// Returns true when something is expected but not there yet (poll again soon).
bool reconcile_client(xs_handle* xs, State& st) {
    std::string cfg, address, gateway;
    if (!read_key(xs, "bulkhead/net/config", cfg) || !split_config(cfg, address, gateway)) {
        st.client_done.clear();
        return false;
    }
    auto index = ifindex("eth0");
    if (index.empty())
        return true; // netfront has not made eth0 yet
    if (st.client_done == cfg + "@" + index)
        return false;
    ip({"addr", "flush", "dev", "eth0"}, true);
    bool ok = ip({"link", "set", "dev", "eth0", "up"}) &&
              ip({"addr", "add", address + "/32", "dev", "eth0"}) &&
              ip({"route", "replace", gateway + "/32", "dev", "eth0", "scope", "link"}) &&
              ip({"route", "replace", "default", "via", gateway, "dev", "eth0"});
    if (!ok)
        return true;
    st.client_done = cfg + "@" + index;
    say("eth0 " + address + " via " + gateway);
    return false;
}

bool reconcile_netvm(xs_handle* xs, State& st) {
    bool pending = false;
    std::map<std::string, std::string> seen;
    for (auto const& front : list_dir(xs, "backend/vif")) {
        if (front.empty() || front.find_first_not_of("0123456789") != std::string::npos)
            continue;
        for (auto const& dev : list_dir(xs, "backend/vif/" + front)) {
            if (dev.empty() || dev.find_first_not_of("0123456789") != std::string::npos)
                continue;
            auto const dir = "backend/vif/" + front + "/" + dev;
            auto const vif = "vif" + front + "." + dev;
            // dom0 takes a device away (online 0); once netback closed it, the backend's
            // directory goes, which makes netback let go of it and is what dom0 waits for
            // (what xl devd does in a Xen driver domain).
            std::string online, state;
            if (read_key(xs, dir + "/online", online) && online == "0" &&
                read_key(xs, dir + "/state", state) && state == "6") {
                xs_rm(xs, XBT_NULL, dir.c_str());
                if (list_dir(xs, "backend/vif/" + front).empty())
                    xs_rm(xs, XBT_NULL, ("backend/vif/" + front).c_str());
                say(vif + " removed");
                continue;
            }
            if (online == "0") {
                pending = true; // closing: look again soon
                continue;
            }
            std::string cfg, address, gateway;
            if (!read_key(xs, "bulkhead/net/clients/" + front, cfg) ||
                !split_config(cfg, address, gateway)) {
                pending = true; // dom0 writes it before it adds the device
                continue;
            }
            auto index = ifindex(vif);
            if (index.empty()) {
                pending = true; // netback has not made it yet
                continue;
            }
            auto const key = cfg + "@" + index;
            seen[vif] = key;
            if (st.vifs[vif] == key)
                continue;
            if (FILE* f = std::fopen("/proc/sys/net/ipv4/ip_forward", "w")) {
                std::fputs("1\n", f);
                std::fclose(f);
            }
            bool ok = ip({"link", "set", "dev", vif, "up"}) &&
                      (ip({"addr", "add", gateway + "/32", "dev", vif}, true) || true) &&
                      ip({"route", "replace", address + "/32", "dev", vif, "scope", "link"});
            if (!ok) {
                pending = true;
                seen.erase(vif);
                continue;
            }
            std::string connected = "connected";
            xs_write(xs, XBT_NULL, (dir + "/hotplug-status").c_str(), connected.data(),
                     unsigned(connected.size()));
            say(vif + " " + gateway + " -> " + address);
        }
    }
    st.vifs = std::move(seen);
    return pending;
}

void reconcile_firewall(xs_handle* xs, State& st) {
    std::string cur;
    if (!read_key(xs, "bulkhead/firewall/current", cur))
        return;
    auto sp = cur.find(' ');
    if (sp == std::string::npos)
        return;
    auto gen = cur.substr(0, sp);
    if (gen == st.firewall_gen || gen.find_first_not_of("0123456789") != std::string::npos)
        return;
    long chunks = std::strtol(cur.c_str() + sp + 1, nullptr, 10);
    std::string text;
    bool complete = chunks >= 0 && chunks < 100000;
    for (long i = 0; complete && i < chunks; ++i) {
        std::string part;
        complete = read_key(xs, "bulkhead/firewall/" + gen + "/" + std::to_string(i), part);
        text += part;
    }
    std::string answer;
    if (!complete) {
        answer = gen + " error incomplete ruleset in xenstore";
    } else if (auto nft = find_nft(); nft.empty()) {
        answer = gen + " error no nft in this netvm's template";
    } else {
        std::string const path = "/run/bulkhead-firewall.nft";
        FILE* f = std::fopen(path.c_str(), "w");
        bool written = f && std::fwrite(text.data(), 1, text.size(), f) == text.size();
        if (f)
            written = (std::fclose(f) == 0) && written;
        std::string err;
        if (!written)
            answer = gen + " error cannot write " + path;
        else if (run({nft, "-f", path}, &err) == 0)
            answer = gen + " ok";
        else
            answer = gen + " error " + err;
    }
    for (auto& c : answer)
        if (c == '\n' || c == '\t')
            c = ' ';
    xs_write(xs, XBT_NULL, "data/bulkhead-firewall", answer.data(), unsigned(answer.size()));
    st.firewall_gen = gen;
    say("ruleset " + answer);
}

} // namespace

int run_network() {
    xs_handle* xs = xs_open(0);
    if (!xs) {
        say(std::string("xs_open: ") + std::strerror(errno));
        return 1;
    }
    say("started");
    State st;
    for (;;) {
        bool pending = reconcile_client(xs, st);
        pending = reconcile_netvm(xs, st) || pending;
        reconcile_firewall(xs, st);
        // Polled, not watched: libxenstore's watch thread closes the connection for good on
        // the first read error, after which nothing here could ever work again. A few reads
        // a second cost nothing; a change takes effect within one period.
        ::usleep(pending ? 200 * 1000 : 500 * 1000);
        if (g_broken) {
            say(std::string("xenstore connection lost (") + std::strerror(errno) + "): reopening");
            xs_close(xs);
            while (!(xs = xs_open(0)))
                ::sleep(1);
            g_broken = false;
        }
    }
}
