#include "domain_launch.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/poll.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// Everything between clone() and execve() runs in the child with only raw syscalls and
// stack buffers: dom0 may be multi-threaded, so the child must not allocate.
namespace bulkhead::dom0::sandbox {

namespace {

struct Child {
    LaunchPlan const* plan;
    int go_fd;
    int err_fd;
    int ns_fd; // user namespace: "entered, map me"
    char const* const* argv;
    char const* const* env;
};

struct Path {
    char s[4096];
};

// Appends s to buf at n (bounded); no libc formatting: snprintf and strerror may take
// locks (locale, gettext) that another dom0 thread held at clone time.
size_t append(char* buf, size_t cap, size_t n, char const* s) {
    for (; s && *s && n + 1 < cap; ++s)
        buf[n++] = *s;
    return n;
}

// "step arg\0errno": the parent turns errno into text.
[[noreturn]] void fail(Child const& c, char const* step, char const* arg) {
    int e = errno;
    char buf[1200];
    size_t n = append(buf, sizeof buf, 0, step);
    n = append(buf, sizeof buf, n, " ");
    n = append(buf, sizeof buf, n, arg);
    char num[16];
    size_t k = sizeof num;
    num[--k] = '\0';
    unsigned v = e < 0 ? 0u : static_cast<unsigned>(e);
    do
        num[--k] = static_cast<char>('0' + v % 10);
    while ((v /= 10) && k > 0);
    buf[n++] = '\0';
    n = append(buf, sizeof buf, n, num + k);
    (void)!::write(c.err_fd, buf, n);
    ::_exit(127);
}

// glibc's setresuid() and friends are not plain syscalls in a multi-threaded process:
// they signal every other thread to switch too and wait on a futex for them. The clone
// child inherits the parent's thread list but not its threads, so it would wait forever.
// Raw syscalls change only this thread, which is all there is.
bool become_root() {
    return ::syscall(SYS_setgroups, 0, nullptr) == 0 && ::syscall(SYS_setresgid, 0, 0, 0) == 0 &&
           ::syscall(SYS_setresuid, 0, 0, 0) == 0;
}

// Concatenation, truncated at sizeof(Path) (paths come from dom0, far shorter).
Path join(char const* a, char const* b) {
    Path p;
    size_t n = 0;
    for (char const* src : {a, b})
        for (; *src && n + 1 < sizeof p.s; ++src)
            p.s[n++] = *src;
    p.s[n] = '\0';
    return p;
}

bool mkdir_p(char const* path) {
    Path p = join(path, "");
    for (char* q = p.s + 1; *q; ++q) {
        if (*q != '/')
            continue;
        *q = '\0';
        if (::mkdir(p.s, 0755) != 0 && errno != EEXIST)
            return false;
        *q = '/';
    }
    return ::mkdir(p.s, 0755) == 0 || errno == EEXIST;
}

void must_mkdir(Child const& c, char const* path) {
    if (!mkdir_p(path))
        fail(c, "mkdir", path);
}

void must_mount(Child const& c, char const* src, char const* dst, char const* type,
                unsigned long flags, char const* data) {
    if (::mount(src, dst, type, flags, data) != 0)
        fail(c, "mount", dst);
}

void bind_file(Child const& c, char const* src, char const* dst) {
    int fd = ::open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        fail(c, "create", dst);
    ::close(fd);
    must_mount(c, src, dst, nullptr, MS_BIND, nullptr);
}

void bind(Child const& c, LaunchBind const& b) {
    struct stat st;
    if (::stat(b.source.c_str(), &st) != 0)
        fail(c, "bind source", b.source.c_str());
    if (S_ISDIR(st.st_mode)) {
        must_mkdir(c, b.target.c_str());
        must_mount(c, b.source.c_str(), b.target.c_str(), nullptr, MS_BIND | MS_REC, nullptr);
    } else {
        Path parent = join(b.target.c_str(), "");
        if (char* slash = std::strrchr(parent.s, '/'); slash && slash != parent.s)
            *slash = '\0';
        must_mkdir(c, parent.s);
        bind_file(c, b.source.c_str(), b.target.c_str());
    }
    if (b.writable)
        return;
    struct statvfs vfs;
    unsigned long keep = 0; // a remount must keep the flags it may not clear (userns)
    if (::statvfs(b.target.c_str(), &vfs) == 0) {
        keep |= (vfs.f_flag & ST_NOSUID) ? MS_NOSUID : 0;
        keep |= (vfs.f_flag & ST_NODEV) ? MS_NODEV : 0;
        keep |= (vfs.f_flag & ST_NOEXEC) ? MS_NOEXEC : 0;
    }
    must_mount(c, nullptr, b.target.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | keep,
               nullptr);
}

void setup_dev(Child const& c, char const* root) {
    auto dev = join(root, "/dev");
    must_mkdir(c, dev.s);
    must_mount(c, "tmpfs", dev.s, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k");
    for (char const* name : {"null", "zero", "full", "random", "urandom", "tty"}) {
        auto host = join("/dev/", name);
        auto guest = join(dev.s, join("/", name).s);
        bind_file(c, host.s, guest.s);
    }
    auto pts = join(dev.s, "/pts");
    must_mkdir(c, pts.s);
    must_mount(c, "devpts", pts.s, "devpts", MS_NOSUID | MS_NOEXEC,
               "newinstance,ptmxmode=0666,mode=0620");
    auto shm = join(dev.s, "/shm");
    must_mkdir(c, shm.s);
    must_mount(c, "tmpfs", shm.s, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
    struct Link {
        char const* target;
        char const* name;
    };
    for (auto l : {Link{"pts/ptmx", "/ptmx"}, Link{"/proc/self/fd", "/fd"},
                   Link{"/proc/self/fd/0", "/stdin"}, Link{"/proc/self/fd/1", "/stdout"},
                   Link{"/proc/self/fd/2", "/stderr"}}) {
        if (::symlink(l.target, join(dev.s, l.name).s) != 0)
            fail(c, "symlink", l.name);
    }
}

void loopback_up() {
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return;
    struct ifreq ifr {};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP;
        (void)::ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    ::close(s);
}

// What guest root keeps (the rest leaves the bounding set): no SYS_ADMIN, no MKNOD (host
// disks), no DAC_READ_SEARCH (open_by_handle_at), no NET_ADMIN, no SYS_MODULE, ...
constexpr std::array kKeptCaps = {
    CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_FOWNER,           CAP_FSETID,     CAP_KILL,       CAP_SETGID,
    CAP_SETUID, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_AUDIT_WRITE};

void drop_capabilities(Child const& c) {
    uint64_t keep = 0;
    for (int cap : kKeptCaps)
        keep |= uint64_t{1} << cap;
    for (int cap = 0; cap < 64; ++cap)
        if (!(keep & (uint64_t{1} << cap)) && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 &&
            errno != EINVAL)
            fail(c, "PR_CAPBSET_DROP", nullptr);
    (void)::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    for (int i = 0; i < 2; ++i) {
        auto word = static_cast<uint32_t>(keep >> (32 * i));
        data[i].effective = data[i].permitted = data[i].inheritable = word;
    }
    if (::syscall(SYS_capset, &hdr, data) != 0)
        fail(c, "capset", nullptr);
}

void exec_init(Child const& c) {
    char const* prog = c.argv[0];
    auto argv = const_cast<char* const*>(c.argv);
    auto env = const_cast<char* const*>(c.env);
    if (std::strchr(prog, '/')) {
        ::execve(prog, argv, env);
        fail(c, "execve", prog);
    }
    for (char const* dir :
         {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
        auto path = join(dir, join("/", prog).s);
        ::execve(path.s, argv, env);
    }
    errno = ENOENT;
    fail(c, "execve", prog);
}

int child_main(void* arg) {
    auto const& c = *static_cast<Child const*>(arg);
    auto const& p = *c.plan;
    char go = 0;
    if (::read(c.go_fd, &go, 1) != 1)
        ::_exit(126); // dom0 gave up on this domain
    char const* root = p.root.c_str();
    must_mount(c, nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
    if (::sethostname(p.hostname.data(), p.hostname.size()) != 0)
        fail(c, "sethostname", p.hostname.c_str());
    for (auto const& layer : p.idmapped_layers) {
        int tree = static_cast<int>(
            ::open_tree(AT_FDCWD, layer.source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
        if (tree < 0)
            fail(c, "open_tree", layer.source.c_str());
        mount_attr attr{};
        attr.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV;
        attr.userns_fd = static_cast<uint64_t>(p.idmap_userns_fd);
        if (::mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
            fail(c, "idmap", layer.source.c_str());
        if (::move_mount(tree, "", AT_FDCWD, layer.target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
            fail(c, "move_mount", layer.target.c_str());
        ::close(tree);
    }
    must_mount(c, "overlay", root, "overlay", 0, p.overlay_options.c_str());

    auto rw = join(root, "/rw");
    auto home = join(root, "/home");
    must_mkdir(c, rw.s);
    must_mkdir(c, home.s);
    if (!p.private_dir.empty()) {
        must_mount(c, p.private_dir.c_str(), rw.s, nullptr, MS_BIND | MS_REC, nullptr);
        must_mount(c, join(rw.s, "/home").s, home.s, nullptr, MS_BIND | MS_REC, nullptr);
    } else if (p.user_namespace) { // disposable: guest root owns its volatile /rw, /home
        for (char const* dir : {rw.s, home.s})
            if (::lchown(dir, p.guest_root_id, p.guest_root_id) != 0)
                fail(c, "chown", dir);
    }
    auto proc = join(root, "/proc");
    must_mkdir(c, proc.s);
    must_mount(c, "proc", proc.s, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
    setup_dev(c, root);
    auto tmp = join(root, "/tmp");
    must_mkdir(c, tmp.s);
    must_mount(c, "tmpfs", tmp.s, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
    for (auto const& b : p.binds)
        bind(c, b);

    if (::chdir(root) != 0)
        fail(c, "chdir", root);
    if (::syscall(SYS_pivot_root, ".", ".") != 0)
        fail(c, "pivot_root", root);
    if (::umount2(".", MNT_DETACH) != 0)
        fail(c, "umount old root", nullptr);
    if (::chdir("/") != 0)
        fail(c, "chdir", "/");
    loopback_up();

    int null_fd = ::open("/dev/null", O_RDWR);
    if (null_fd < 0)
        fail(c, "open", "/dev/null");
    int out = p.console_fd >= 0 ? p.console_fd : null_fd;
    if (::dup2(null_fd, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0)
        fail(c, "dup2", nullptr);
    if (::syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
        fail(c, "close_range", nullptr);

    // The mounts above were made as host root (the mount namespace stays owned by the
    // initial user namespace, so the guest can't change them); only now does init enter
    // its user namespace, where dom0 maps guest 0..65535 to its host range.
    if (p.user_namespace) {
        if (::unshare(CLONE_NEWUSER) != 0)
            fail(c, "unshare", "user");
        if (::write(c.ns_fd, "u", 1) != 1 || ::read(c.go_fd, &go, 1) != 1)
            ::_exit(126);
        if (!become_root())
            fail(c, "setresuid", "0");
    }
    ::close(c.go_fd);
    ::close(c.ns_fd);
    sock_fprog prog{static_cast<unsigned short>(p.seccomp->size()),
                    const_cast<sock_filter*>(p.seccomp->data())};
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0)
        fail(c, "seccomp", nullptr);
    drop_capabilities(c);
    exec_init(c);
    return 127;
}

} // namespace

namespace {

constexpr std::chrono::seconds kLaunchTimeout{30};

// The child writes "step arg\0errno" (see fail()).
std::string describe_child_failure(std::string const& raw) {
    auto nul = raw.find('\0');
    if (nul == std::string::npos)
        return raw;
    int e = 0;
    for (char ch : raw.substr(nul + 1))
        if (ch >= '0' && ch <= '9' && e < 100000)
            e = e * 10 + (ch - '0');
    return raw.substr(0, nul) + ": " + std::strerror(e);
}

} // namespace

Result<ChildExit> wait_init(int pidfd, bool block) {
    siginfo_t si{};
    int flags = WEXITED | (block ? 0 : WNOHANG);
    while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &si, flags) != 0) {
        if (errno != EINTR)
            return Error::from_errno("waitid", errno);
    }
    ChildExit e;
    if (si.si_pid == 0)
        return e;
    e.exited = true;
    if (si.si_code == CLD_EXITED) {
        e.code = si.si_status;
    } else {
        e.signal = si.si_status;
        e.code = 128 + si.si_status;
    }
    return e;
}

Result<Launched> launch_domain(LaunchPlan const& plan,
                               std::function<Result<void>(pid_t)> const& before_start,
                               std::function<Result<void>(pid_t)> const& map_ids) {
    if (plan.argv.empty() || !plan.seccomp)
        return unexpected(Errc::Invalid, "launch: no init argv or seccomp program");
    std::vector<char const*> argv, env;
    for (auto const& a : plan.argv)
        argv.push_back(a.c_str());
    argv.push_back(nullptr);
    for (auto const& e : plan.env)
        env.push_back(e.c_str());
    env.push_back(nullptr);

    auto [go_r, go_w] = TRY(sys::pipe());
    auto [err_r, err_w] = TRY(sys::pipe());
    auto [ns_r, ns_w] = TRY(sys::pipe());
    Child child{&plan, go_r.get(), err_w.get(), ns_w.get(), argv.data(), env.data()};

    std::vector<char> stack(256 * 1024);
    int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC |
                CLONE_NEWCGROUP | CLONE_PIDFD | SIGCHLD;
    int pidfd = -1;
    pid_t pid = ::clone(child_main, stack.data() + stack.size(), flags, &child, &pidfd);
    if (pid < 0) {
        int e = errno;
        if (e == EPERM || e == EINVAL || e == ENOSPC || e == EUSERS)
            return Error(Errc::Unsupported,
                         "namespaces unavailable: clone(mnt,pid,net,uts,ipc,cgroup)", e);
        return Error::from_errno("clone", e);
    }
    Launched launched{pid, UniqueFd(pidfd)};
    go_r = UniqueFd();
    err_w = UniqueFd();
    ns_w = UniqueFd();

    auto abort_child = [&] {
        ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
        (void)wait_init(pidfd, true);
    };
    if (auto r = before_start(pid); !r) {
        abort_child();
        return std::move(r).error();
    }
    if (auto r = sys::write_all(go_w.get(), std::string_view("g")); !r) {
        abort_child();
        return std::move(r).error();
    }
    if (plan.user_namespace) {
        char entered = 0; // EOF: the child failed before; its message follows
        if (::read(ns_r.get(), &entered, 1) == 1) {
            auto r = map_ids(pid);
            if (r)
                r = sys::write_all(go_w.get(), std::string_view("m"));
            if (!r) {
                abort_child();
                return std::move(r).error();
            }
        }
    }
    go_w = UniqueFd();
    // The child's error pipe closes at execve (CLOEXEC) or carries its failure. Bounded:
    // a child stuck before execve must not hold the caller (and the backend) forever.
    std::string message;
    auto deadline = std::chrono::steady_clock::now() + kLaunchTimeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        auto ready =
            sys::poll_one(err_r.get(), POLLIN, std::max(left, std::chrono::milliseconds(0)));
        if (!ready || *ready == 0) {
            abort_child();
            return Error(Errc::Timeout, "starting domain init: no execve within " +
                                            std::to_string(kLaunchTimeout.count()) + " s");
        }
        char buf[1024];
        ssize_t n = ::read(err_r.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (message.size() < 4096)
            message.append(buf, static_cast<size_t>(n));
    }
    if (!message.empty()) {
        (void)wait_init(pidfd, true);
        return Error(Errc::System, "starting domain init: " + describe_child_failure(message));
    }
    return launched;
}

} // namespace bulkhead::dom0::sandbox

namespace bulkhead::dom0::sandbox {

namespace {
int probe_main(void* arg) {
    int go_fd = *static_cast<int*>(arg);
    char go = 0;
    if (::read(go_fd, &go, 1) != 1)
        ::_exit(2);
    ::_exit(become_root() && ::syscall(SYS_geteuid) == 0 ? 0 : 1);
}
} // namespace

Result<UniqueFd> make_mapped_userns(uint32_t host_base) {
    auto [go_r, go_w] = TRY(sys::pipe());
    int go_fd = go_r.get();
    std::vector<char> stack(64 * 1024);
    pid_t pid = ::clone(probe_main, stack.data() + stack.size(), CLONE_NEWUSER | SIGCHLD, &go_fd);
    if (pid < 0)
        return Error(Errc::Unsupported, "user namespaces unavailable: clone(user)", errno);
    go_r = UniqueFd();
    auto proc = "/proc/" + std::to_string(pid);
    auto map = "0 " + std::to_string(host_base) + " 65536\n";
    Result<UniqueFd> ns = unexpected(Errc::Internal, "no user namespace");
    Result<void> mapped = ok();
    for (auto file : {"/uid_map", "/gid_map"}) {
        auto fd = sys::open(proc + file, O_WRONLY | O_CLOEXEC);
        mapped = fd ? sys::write_all(fd->get(), map) : Result<void>(std::move(fd).error());
        if (!mapped)
            break;
    }
    if (mapped)
        ns = sys::open(proc + "/ns/user", O_RDONLY | O_CLOEXEC);
    (void)sys::write_all(go_w.get(), std::string_view("g")); // the child exits (it holds
    go_w = UniqueFd(); // a copy of go_w, so no EOF); the fd keeps its namespace
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!mapped)
        return std::move(mapped).error();
    return ns;
}

Result<void> probe_user_namespace(uint32_t host_base) {
    auto [go_r, go_w] = TRY(sys::pipe());
    int go_fd = go_r.get();
    std::vector<char> stack(64 * 1024);
    pid_t pid = ::clone(probe_main, stack.data() + stack.size(), CLONE_NEWUSER | SIGCHLD, &go_fd);
    if (pid < 0)
        return Error(Errc::Unsupported, "user namespaces unavailable: clone(user)", errno);
    go_r = UniqueFd();
    auto map = std::to_string(0) + " " + std::to_string(host_base) + " 65536\n";
    Result<void> mapped = ok();
    for (auto file : {"/uid_map", "/gid_map"}) {
        auto fd = sys::open("/proc/" + std::to_string(pid) + file, O_WRONLY | O_CLOEXEC);
        mapped = fd ? sys::write_all(fd->get(), map) : Result<void>(std::move(fd).error());
        if (!mapped)
            break;
    }
    if (mapped)
        mapped = sys::write_all(go_w.get(), std::string_view("g"));
    go_w = UniqueFd();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!mapped)
        return Error(Errc::Unsupported,
                     "user namespace id map refused: " + mapped.error().message());
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return unexpected(Errc::Unsupported, "user namespace: root in the mapped range refused");
    return ok();
}

} // namespace bulkhead::dom0::sandbox
