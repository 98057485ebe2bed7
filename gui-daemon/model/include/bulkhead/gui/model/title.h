// dom0's title for a guest window: "[domain] title". The guest's part cannot look like dom0's
// (or another domain's) prefix: leading bracketed tags, in ASCII or look-alike brackets, are
// dropped. Called by Desktop on SET_TITLE; the title was already sanitized by the validator.
#pragma once

#include <string>
#include <string_view>

namespace bulkhead::gui::model {

// Removes leading whitespace and leading "[...]"-like groups from a sanitized guest title.
std::string strip_title_spoofing(std::string_view guest_title);

// "[domain] title" ("[domain]" when the guest's part is empty).
std::string dom0_title(std::string_view domain, std::string_view guest_title);

} // namespace bulkhead::gui::model
