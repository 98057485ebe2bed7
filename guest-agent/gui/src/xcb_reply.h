// xcb replies owned (freed with std::free) and atoms interned: what every part of the gui-agent
// that talks to the domain's X server needs.
#pragma once

#include <xcb/xcb.h>

#include <cstdlib>
#include <memory>
#include <string_view>

namespace bulkhead::gui_agent {

template <typename T>
using Reply = std::unique_ptr<T, decltype(&std::free)>;

template <typename T>
Reply<T> reply(T* r) {
    return Reply<T>(r, &std::free);
}

// XCB_ATOM_NONE when the server does not answer.
inline xcb_atom_t intern(xcb_connection_t* c, std::string_view name) {
    auto r = reply(xcb_intern_atom_reply(
        c, xcb_intern_atom(c, 0, uint16_t(name.size()), name.data()), nullptr));
    return r ? r->atom : xcb_atom_t(XCB_ATOM_NONE);
}

} // namespace bulkhead::gui_agent
