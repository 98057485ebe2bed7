// Text sanitizing for the GUI protocol: guest strings (titles, window classes) become valid
// UTF-8 without control or bidirectional-override characters, cut to a byte cap on a code
// point boundary. Called by GuiValidator; idempotent (sanitize(sanitize(s)) == sanitize(s)).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bulkhead::rpc::gui {

// Invalid UTF-8 (bad or overlong sequences, surrogates, > U+10FFFF) becomes U+FFFD per
// offending byte; C0/C1 controls, DEL, line/paragraph separators and the bidi controls
// (U+200E/F, U+202A..E, U+2066..9) are removed; the result is at most max_bytes long.
std::string sanitize_text(std::string_view untrusted, size_t max_bytes);

// True for the code points sanitize_text() removes.
bool is_removed_code_point(uint32_t cp);

} // namespace bulkhead::rpc::gui
