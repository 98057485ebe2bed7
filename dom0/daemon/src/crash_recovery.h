// What a bulkheadd that died without stopping (SIGKILL, a crash) left on its root: its pid
// file, and domains still running unmanaged with their volumes. Called once by
// Daemon::create before anything else touches the root. Trusts dom0's own files only.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/dom0/domains/layout.h>

namespace bulkhead::dom0 {

// No pid file: nothing to do. A live bulkheadd of this root: Errc::Busy (two daemons would
// run the same domains twice). A dead one: every domain it left is killed (sandbox: its
// cgroup), reported in the log (the store keeps them Halted), and the pid file removed.
Result<void> recover_previous_daemon(Layout const& layout);

} // namespace bulkhead::dom0
