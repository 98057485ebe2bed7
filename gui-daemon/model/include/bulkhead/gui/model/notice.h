// What the GUI daemon tells the user (model Notify actions), as text: one sentence for a
// notification, and the one-line record the daemon leaves for dom0's tray
// (bulkhead-domains watches it; see gui-daemon/README.md). Every field is dom0 data: domain
// names from the store, byte counts the daemon measured.
//   record: "<kind> <source> <target|-> <bytes> <seq>\n", kind one of copied pasted denied
//           too-large cut-off; seq counts the daemon's notices, so that two equal events in a
//           row are still two changes of the file.
#pragma once

#include <bulkhead/gui/model/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bulkhead::gui::model {

// "Copied 1,234 bytes from work to the global clipboard", ...
std::string notice_text(Notify const& n);

std::string format_notice_record(Notify const& n, uint64_t seq);
// nullopt for anything but a well-formed record (kind known, names valid, bytes a number).
std::optional<Notify> parse_notice_record(std::string_view line);

} // namespace bulkhead::gui::model
