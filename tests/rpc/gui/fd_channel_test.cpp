// GuiSocketChannel: a ShmRegion's memfd travels with its frame over a unix socket and comes out
// of take_fd() in order; descriptors a guest sends beyond the cap break the channel; EOF and
// EAGAIN as every Channel.
#include "gui_test_util.h"

#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/rpc/gui/fd_channel.h>
#include <bulkhead/rpc/gui/frame_reader.h>

#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <sys/stat.h>

using namespace bulkhead;
using namespace bulkhead::rpc::gui;
using namespace gui_test;

namespace {

struct Pair {
    Pair() {
        auto p = sys::socketpair(SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK);
        REQUIRE(p);
        guest = std::make_unique<GuiSocketChannel>(std::move(p->first), 0, 6000);
        dom0 = std::make_unique<GuiSocketChannel>(std::move(p->second), 1, 6000);
    }
    std::unique_ptr<GuiSocketChannel> guest, dom0;
};

ino_t inode(int fd) {
    auto st = sys::fstat(fd);
    REQUIRE(st);
    return st->st_ino;
}

UniqueFd memfd() {
    auto fd = sys::memfd_create("test", MFD_CLOEXEC);
    REQUIRE(fd);
    return std::move(*fd);
}

} // namespace

TEST_CASE("gui fd channel: each ShmRegion's descriptor arrives with its frame, in order") {
    Pair p;
    auto a = memfd(), b = memfd();
    ShmRegion region{ShmKind::Memfd, 0, 4, 4, 16, format_xrgb8888, page_size};
    Bytes hello = encode(0, Hello{}), first = encode(7, region), second = encode(8, region);
    REQUIRE(p.guest->write(hello).value() == hello.size());
    REQUIRE(p.guest->write_with_fd(first, a.get()).value() == first.size());
    REQUIRE(p.guest->write_with_fd(second, b.get()).value() == second.size());

    GuiFrameReader reader(Direction::FromGuest);
    std::vector<std::pair<WindowId, ino_t>> got;
    for (;;) {
        auto m = reader.next(*p.dom0);
        REQUIRE(m);
        if (!*m)
            break;
        if (std::holds_alternative<ShmRegion>((*m)->message)) {
            auto fd = p.dom0->take_fd();
            REQUIRE(fd);
            got.emplace_back((*m)->window, inode(fd.get()));
        }
    }
    REQUIRE(got.size() == 2);
    CHECK(got[0] == std::pair{WindowId(7), inode(a.get())});
    CHECK(got[1] == std::pair{WindowId(8), inode(b.get())});
    CHECK(p.dom0->pending_fds() == 0);
    CHECK(!p.dom0->take_fd());
}

TEST_CASE("gui fd channel: descriptors beyond the cap break the channel") {
    Pair p;
    auto fd = memfd();
    Bytes one{std::byte{0}};
    for (int i = 0; i < 5; ++i)
        REQUIRE(p.guest->write_with_fd(one, fd.get()).value() == 1);
    std::byte buf[64];
    Result<size_t> r = size_t(0);
    for (int i = 0; i < 5 && r; ++i)
        r = p.dom0->read(buf);
    REQUIRE(!r);
    CHECK(r.error().code() == Errc::Limit);
}

TEST_CASE("gui fd channel: nothing to read is 0, a closed peer is Closed") {
    Pair p;
    std::byte buf[16];
    CHECK(p.dom0->read(buf).value() == 0);
    p.guest.reset();
    auto r = p.dom0->read(buf);
    REQUIRE(!r);
    CHECK(r.error().code() == Errc::Closed);
    CHECK(p.dom0->write(Bytes{std::byte{1}}).error().code() == Errc::Closed);
}
