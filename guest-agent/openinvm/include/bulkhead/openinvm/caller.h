// The caller side of qubes.OpenInVM (qopen-in-vm) and qubes.OpenURL: used by
// qvm-open-in-vm / qvm-open-in-dvm. Sends a local file, takes back the edited copy (bytes
// from another domain: written only to a temp file beside the original, capped) and
// replaces the original only when the call ended cleanly (remote exit code 0): write temp,
// fsync, rename over the original. Never follows a symlink; a cut call keeps the original.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/unique_fd.h>
#include <bulkhead/openinvm/stream.h>

#include <functional>
#include <string>

namespace bulkhead::openinvm {

// One qrexec call's data streams and its end: finish() closes nothing the caller still
// holds, waits for the call and returns the remote exit code (255: the call broke).
struct Transport {
    UniqueFd to_remote;
    UniqueFd from_remote;
    std::function<Result<int>()> finish;
};

// Starts `qrexec-client-vm TARGET SERVICE` with pipes as a Transport. The client is
// BULKHEAD_QREXEC_CLIENT_VM if set, else /usr/lib/bulkhead/qrexec-client-vm if present,
// else qrexec-client-vm on PATH.
Result<Transport> spawn_qrexec_client(std::string const& target, std::string const& service);

enum class ViewOnly { No, Yes };
enum class Outcome { Unchanged, Replaced, Viewed };

// qubes.OpenInVM from the caller side. Errors leave the original as it was.
Result<Outcome> open_file_in_vm(std::string const& path, Transport transport, ViewOnly view,
                                uint64_t max_bytes = kDefaultMaxFileBytes);

// qubes.OpenURL from the caller side (the URL is validated first); returns when the call ends.
Result<void> open_url_in_vm(std::string const& url, Transport transport);

} // namespace bulkhead::openinvm
