// The service side of qubes.OpenInVM (vm-file-editor) and qubes.OpenURL, run by the agent
// from /etc/qubes-rpc with stdin/stdout connected to the caller. Everything read from
// in_fd is untrusted; the name and URL pass the validators in validate.h.
//
// qubes.OpenInVM wire (Qubes' qopen-in-vm / vm-file-editor):
//   caller → service: 256-byte name field (NUL-padded basename, "view-only-" in front for
//                     a view-only open: the file is made read-only), then the file until EOF.
//   service → caller: nothing if the file is unchanged when the viewer exits, else the
//                     whole edited file, then EOF. (So an edit to an empty file cannot be
//                     sent back: the wire has no way to say it.)
// qubes.OpenURL wire: caller → service: the URL and "\n", then EOF; nothing comes back.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/openinvm/stream.h>

#include <string>
#include <vector>

namespace bulkhead::openinvm {

struct ServiceOptions {
    std::vector<std::string> opener; // argv prefix (resolve_opener)
    std::string tmp_root = "/tmp";   // the private directory is made under it (mode 0700)
    uint64_t max_bytes = kDefaultMaxFileBytes;
    int log_fd = 2; // the viewer's stdout/stderr and our messages; never out_fd
};

enum class Change { Unchanged, SentBack };

// Receives the file into a fresh private directory, runs the viewer on it and waits, sends
// the file back if its content changed, and removes the directory. out_fd is left open.
Result<Change> serve_open_in_vm(int in_fd, int out_fd, ServiceOptions const& opts);

// Reads and validates one URL, opens it and waits; returns the opener's exit code.
Result<int> serve_open_url(int in_fd, ServiceOptions const& opts);

} // namespace bulkhead::openinvm
