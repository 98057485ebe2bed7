// Pump: one direction of a relay between two Channels (what was read from `from` and not yet
// written to `to`), moved without blocking. Used where dom0 joins a libxenvchan channel to a
// local socket: qrexec's dom0 calls (XenPlumbing) and the GUI (bulkheadd's GUI relay). The
// bytes are passed on as they are: whoever reads them at the far end validates them.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/rpc/channel.h>

#include <array>
#include <cstddef>

namespace bulkhead::rpc {

struct Pump {
    std::array<std::byte, 65536> buf;
    size_t begin = 0, end = 0;
    bool eof = false; // `from` ended; once drained, `to` is told

    // Moves what it can now: true if anything moved (or `from` ended). Errors end the relay.
    Result<bool> step(Channel& from, Channel& to) {
        bool moved = false;
        for (;;) {
            if (begin < end) {
                auto n = TRY(to.write(std::span(buf.data() + begin, end - begin)));
                if (n == 0)
                    return moved;
                begin += n;
                moved = true;
                continue;
            }
            if (eof)
                return moved;
            begin = end = 0;
            auto n = from.read(buf);
            if (!n) {
                if (n.error().code() == Errc::Closed) {
                    eof = true;
                    return true;
                }
                return std::move(n).error();
            }
            if (*n == 0)
                return moved;
            end = *n;
            moved = true;
        }
    }
    bool drained() const { return eof && begin == end; }
    bool pending() const { return begin < end; }
};

} // namespace bulkhead::rpc
