// The gui-agent's Outbox and SharedBuffer without an X server: frames leave in order, a
// ShmRegion's memfd arrives with its own frame even after short writes, a dom0 that stops
// reading makes push() fail at the cap, and buffers are sealed memfds of the announced size.
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/gui_agent/outbox.h>
#include <bulkhead/gui_agent/shared_buffer.h>
#include <bulkhead/rpc/gui/frame_reader.h>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/socket.h>

using namespace bulkhead;
using namespace bulkhead::gui_agent;
namespace rg = bulkhead::rpc::gui;

namespace {

struct Pair {
    Pair() {
        auto p = sys::socketpair(SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK);
        REQUIRE(p);
        guest = std::make_unique<rg::GuiSocketChannel>(std::move(p->first), 0, 6000);
        dom0 = std::make_unique<rg::GuiSocketChannel>(std::move(p->second), 1, 6000);
    }
    std::unique_ptr<rg::GuiSocketChannel> guest, dom0;
};

ino_t inode(int fd) {
    auto st = sys::fstat(fd);
    REQUIRE(st);
    return st->st_ino;
}

} // namespace

TEST_CASE("gui-agent outbox: frames in order, each memfd with its SHM_REGION, through small "
          "socket buffers") {
    Pair p;
    int small = 4096;
    REQUIRE(::setsockopt(p.guest->readiness_fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small) ==
            0);
    auto a = SharedBuffer::create(640, 480);
    auto b = SharedBuffer::create(20, 10);
    REQUIRE(a);
    REQUIRE(b);
    Outbox out;
    REQUIRE(out.push(0, rg::Hello{}));
    for (rg::WindowId id = 1; id <= 50; ++id)
        REQUIRE(out.push(id, rg::SetTitle{"window " + std::to_string(id)}));
    REQUIRE(out.push_with_fd(7, a->region(), UniqueFd(::dup(a->fd()))));
    REQUIRE(out.push(7, rg::Map{}));
    REQUIRE(out.push_with_fd(8, b->region(), UniqueFd(::dup(b->fd()))));
    REQUIRE(out.push(8, rg::Damage{{0, 0, 20, 10}}));

    rg::GuiFrameReader reader(rg::Direction::FromGuest);
    std::vector<std::pair<rg::WindowId, ino_t>> shm;
    size_t messages = 0;
    for (int round = 0; round < 1000 && messages < 55; ++round) {
        REQUIRE(out.flush(*p.guest));
        for (;;) {
            auto m = reader.next(*p.dom0);
            REQUIRE(m);
            if (!*m)
                break;
            ++messages;
            if (std::holds_alternative<rg::ShmRegion>((*m)->message)) {
                auto fd = p.dom0->take_fd();
                REQUIRE(fd);
                shm.emplace_back((*m)->window, inode(fd.get()));
            }
        }
    }
    CHECK(messages == 55);
    CHECK(out.empty());
    REQUIRE(shm.size() == 2);
    CHECK(shm[0] == std::pair{rg::WindowId(7), inode(a->fd())});
    CHECK(shm[1] == std::pair{rg::WindowId(8), inode(b->fd())});
}

TEST_CASE("gui-agent outbox: a dom0 that does not read makes push fail at the cap") {
    Pair p;
    Outbox out(64 * 1024);
    Result<void> r;
    int pushed = 0;
    while ((r = out.push(1, rg::SetTitle{"x"})) && pushed < 100000) {
        REQUIRE(out.flush(*p.guest));
        ++pushed;
    }
    REQUIRE(!r);
    CHECK(r.error().code() == Errc::Limit);
}

TEST_CASE("gui-agent shared buffer: a sealed memfd of the announced size") {
    auto b = SharedBuffer::create(33, 7);
    REQUIRE(b);
    auto const& r = b->region();
    CHECK(r.kind == rg::ShmKind::Memfd);
    CHECK(r.stride == 33 * 4);
    CHECK(r.size % rg::page_size == 0);
    CHECK(r.size >= uint64_t(r.stride) * 7);
    int seals = ::fcntl(b->fd(), F_GET_SEALS);
    CHECK((seals & F_SEAL_SHRINK));
    CHECK((seals & F_SEAL_GROW));
    CHECK((seals & F_SEAL_SEAL));
    CHECK(sys::fstat(b->fd())->st_size == off_t(r.size));
    b->row(6)[33 * 4 - 1] = std::byte{0x5a}; // the last byte of the last row is writable
    CHECK(!SharedBuffer::create(0, 7));
}
