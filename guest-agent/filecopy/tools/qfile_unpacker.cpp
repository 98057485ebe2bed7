// qfile-unpacker: the qubes.Filecopy service program, as Qubes' qfile-unpacker. Reads the
// stream on stdin, writes it to ~/QubesIncoming/$QREXEC_REMOTE_DOMAIN, replies on stdout.
// The agent sets QREXEC_REMOTE_DOMAIN from the call's identity (never from the payload); it is
// checked as a domain name. Whose home: as root, the default user "user" (from /etc/passwd,
// as Qubes); otherwise the caller's own $HOME. Privileges are dropped to the destination's
// owner (no root, no new privileges) before a byte of the stream is parsed.
// Caps: 2 GiB / 2,048 files unless /etc/bulkhead/filecopy.conf or
// /rw/config/bulkhead-filecopy.conf say otherwise (see load_unpack_options).
// Exit 0 when the transfer succeeded, 1 otherwise (the reply says why).
#include <bulkhead/agent/passwd.h>
#include <bulkhead/filecopy/unpack.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace {

int die(std::string const& what) {
    std::fprintf(stderr, "qfile-unpacker: %s\n", what.c_str());
    return 1;
}

} // namespace

int main() {
    using namespace bulkhead;
    char const* remote = std::getenv("QREXEC_REMOTE_DOMAIN");
    if (!remote || !filecopy::valid_domain_name(remote))
        return die("QREXEC_REMOTE_DOMAIN is missing or not a domain name");
    std::string home;
    std::optional<std::pair<uid_t, gid_t>> owner;
    if (::geteuid() == 0) {
        auto user = agent::lookup_user("user");
        if (!user || !*user)
            return die("the default user \"user\" does not exist");
        home = (*user)->home;
        owner = std::pair((*user)->uid, (*user)->gid);
    } else {
        char const* h = std::getenv("HOME");
        if (!h || h[0] != '/')
            return die("HOME is not set to an absolute path");
        home = h;
    }
    auto dest = filecopy::open_incoming_dir(home, remote, owner);
    if (!dest)
        return die("opening " + home + "/QubesIncoming/" + remote + ": " + dest.error().message());
    if (auto dropped = filecopy::drop_privileges_to_owner(dest->get()); !dropped)
        return die("dropping privileges: " + dropped.error().message());
    // The caps this domain chose (template default, then its own persistent setting).
    auto options = filecopy::load_unpack_options(
        {"/etc/bulkhead/filecopy.conf", "/rw/config/bulkhead-filecopy.conf"});
    if (!options)
        return die("filecopy configuration: " + options.error().message());
    auto report = filecopy::unpack(0, 1, dest->get(), *options);
    return report.error_code == 0 && report.replied ? 0 : 1;
}
