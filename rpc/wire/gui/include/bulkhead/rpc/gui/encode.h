// encode(): one message to its wire frame (header + payload). Used by dom0's gui-daemon for
// its messages to guests, by the guest agent, and by tests and the fuzz targets' fixpoint
// check. Strings longer than their field are cut at a code point boundary (NUL-padded field).
#pragma once

#include <bulkhead/rpc/gui/messages.h>

#include <cstddef>
#include <vector>

namespace bulkhead::rpc::gui {

std::vector<std::byte> encode(WindowId window, Message const& message);
// Appends the frame to out (several messages in one buffer).
void encode_to(std::vector<std::byte>& out, WindowId window, Message const& message);

} // namespace bulkhead::rpc::gui
