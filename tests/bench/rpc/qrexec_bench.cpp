// qrexec over the socket vchan vs. the same bytes over a plain socketpair (the baseline):
//   RoundTrip: one 64-byte MSG_DATA_STDIN frame out, echoed back as MSG_DATA_STDOUT.
//   Bulk:      64 MiB as 64 KiB MSG_DATA_STDOUT frames, one way.
// Variants: Socketpair_Raw (blocking read/write of the encoded bytes, no codec),
// Vchan_Raw (SocketChannel, non-blocking + poll, no codec), Vchan_Codec (SocketChannel +
// FrameWriter + FrameReader/QrexecValidator, as the broker and agent use them).
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/sys/socket.h>
#include <bulkhead/rpc/qrexec/frame_reader.h>
#include <bulkhead/rpc/qrexec/frame_writer.h>
#include <bulkhead/rpc/socket_vchan.h>

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <semaphore>
#include <thread>
#include <unistd.h>

using namespace bulkhead;
using namespace bulkhead::rpc;
using namespace bulkhead::rpc::qrexec;
using namespace std::chrono_literals;

namespace {

constexpr size_t small_payload = 64;
constexpr size_t bulk_total = 64u << 20;
constexpr size_t bulk_chunk = 64u << 10;

template <typename T>
T must(Result<T> r, char const* what) {
    if (!r) {
        std::fprintf(stderr, "bench: %s: %s\n", what, r.error().message().c_str());
        std::abort();
    }
    return std::move(r).value();
}
void must(Result<void> r, char const* what) {
    if (!r) {
        std::fprintf(stderr, "bench: %s: %s\n", what, r.error().message().c_str());
        std::abort();
    }
}

// A connected socket vchan pair (dom0 = server, domain 5 = client) in a temp dir.
struct VchanPair {
    std::string dir = must(sys::make_temp_dir("/tmp/bulkhead-bench-vchan-"), "temp dir");
    std::unique_ptr<Channel> server;
    std::unique_ptr<Channel> client;
    VchanPair() {
        SocketTransport dom0(dir, 0);
        SocketTransport guest(dir, 5);
        auto listener = must(dom0.listen(5, 513), "listen");
        std::thread t([&] { client = must(guest.connect(0, 513, 5s), "connect"); });
        server = must(accept_wait(*listener, 5s), "accept");
        t.join();
    }
    ~VchanPair() { (void)sys::remove_tree(dir); }
};

// Both ends send HELLO and read the other's, as every qrexec vchan starts.
void handshake(Channel& ch, FrameReader& reader) {
    FrameWriter w;
    must(w.push(Hello{}), "hello");
    must(w.flush_all(ch, 5s), "send hello");
    for (;;) {
        auto m = must(reader.next(ch), "read hello");
        if (m)
            return;
        must(wait_ready(ch, WantWrite::No, 5s), "wait hello");
    }
}

// The next message from ch, waiting for it.
ValidatedMessage next_message(Channel& ch, FrameReader& reader) {
    for (;;) {
        auto m = must(reader.next(ch), "read frame");
        if (m)
            return std::move(*m);
        must(wait_ready(ch, WantWrite::No, 5s), "wait frame");
    }
}

void read_exact_fd(int fd, std::byte* p, size_t n) {
    while (n > 0) {
        ssize_t got = ::read(fd, p, n);
        if (got <= 0)
            std::abort();
        p += got;
        n -= size_t(got);
    }
}
void write_all_fd(int fd, std::byte const* p, size_t n) {
    while (n > 0) {
        ssize_t put = ::write(fd, p, n);
        if (put <= 0)
            std::abort();
        p += put;
        n -= size_t(put);
    }
}

std::vector<std::byte> small_frame() {
    return must(FrameWriter::encode(DataChunk{
                    Stream::Stdin, std::vector<std::byte>(small_payload, std::byte{'x'})}),
                "encode");
}

// ---- round trip ------------------------------------------------------------------------

void BM_RoundTrip_Socketpair_Raw(benchmark::State& state) {
    auto [a, b] = must(sys::socketpair(), "socketpair");
    auto frame = small_frame();
    std::thread echo([fd = b.get(), n = frame.size()] {
        std::vector<std::byte> buf(n);
        for (;;) {
            ssize_t got = ::read(fd, buf.data(), n);
            if (got <= 0)
                return;
            read_exact_fd(fd, buf.data() + got, n - size_t(got));
            write_all_fd(fd, buf.data(), n);
        }
    });
    std::vector<std::byte> back(frame.size());
    for (auto _ : state) {
        write_all_fd(a.get(), frame.data(), frame.size());
        read_exact_fd(a.get(), back.data(), back.size());
    }
    must(sys::shutdown_both(a.get()), "shutdown");
    echo.join();
    state.SetBytesProcessed(int64_t(state.iterations() * frame.size() * 2));
}

void BM_RoundTrip_Vchan_Raw(benchmark::State& state) {
    VchanPair p;
    auto frame = small_frame();
    std::thread echo([&] {
        std::vector<std::byte> buf(frame.size());
        for (;;) {
            if (!read_exact(*p.server, buf, 60s))
                return;
            if (!write_all(*p.server, buf, 60s))
                return;
        }
    });
    std::vector<std::byte> back(frame.size());
    for (auto _ : state) {
        must(write_all(*p.client, frame, 5s), "write");
        must(read_exact(*p.client, back, 5s), "read");
    }
    p.client.reset();
    echo.join();
    state.SetBytesProcessed(int64_t(state.iterations() * frame.size() * 2));
}

void BM_RoundTrip_Vchan_Codec(benchmark::State& state) {
    VchanPair p;
    std::thread echo([&] {
        FrameReader reader(Expect::Data);
        handshake(*p.server, reader);
        FrameWriter w;
        for (;;) {
            auto m = reader.next(*p.server);
            if (!m)
                return; // client closed
            if (!*m) {
                (void)wait_ready(*p.server, WantWrite::No, 60s);
                continue;
            }
            auto& d = std::get<DataChunk>((*m)->message);
            d.stream = Stream::Stdout;
            must(w.push(d), "push echo");
            must(w.flush_all(*p.server, 5s), "flush echo");
        }
    });
    FrameReader reader(Expect::Data);
    handshake(*p.client, reader);
    FrameWriter w;
    std::vector<std::byte> payload(small_payload, std::byte{'x'});
    for (auto _ : state) {
        w.push_data(Stream::Stdin, payload);
        must(w.flush_all(*p.client, 5s), "flush");
        auto m = next_message(*p.client, reader);
        benchmark::DoNotOptimize(m);
    }
    p.client.reset();
    echo.join();
    state.SetBytesProcessed(int64_t(state.iterations() * (small_payload + header_size) * 2));
}

// ---- bulk ------------------------------------------------------------------------------

// A sender thread that sends bulk_total bytes each time it is released.
class BulkSender {
public:
    template <typename Send>
    explicit BulkSender(Send send)
        : m_thread([this, send] {
            for (;;) {
                m_go.acquire();
                if (m_stop)
                    return;
                send();
            }
        }) {}
    void go() { m_go.release(); }
    void stop() {
        m_stop = true;
        m_go.release();
        m_thread.join();
    }

private:
    std::binary_semaphore m_go{0};
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

void BM_Bulk_Socketpair_Raw(benchmark::State& state) {
    auto [a, b] = must(sys::socketpair(), "socketpair");
    // The same bytes as the codec variant: a header per 64 KiB chunk.
    std::vector<std::byte> chunk(header_size + bulk_chunk, std::byte{'y'});
    size_t const per_run = (bulk_total / bulk_chunk) * chunk.size();
    BulkSender sender([fd = a.get(), &chunk] {
        for (size_t i = 0; i < bulk_total / bulk_chunk; ++i)
            write_all_fd(fd, chunk.data(), chunk.size());
    });
    std::vector<std::byte> buf(chunk.size());
    for (auto _ : state) {
        sender.go();
        size_t got = 0;
        while (got < per_run) {
            ssize_t n = ::read(b.get(), buf.data(), buf.size());
            if (n <= 0)
                std::abort();
            got += size_t(n);
        }
    }
    sender.stop();
    state.SetBytesProcessed(int64_t(state.iterations() * bulk_total));
}

void BM_Bulk_Vchan_Raw(benchmark::State& state) {
    VchanPair p;
    std::vector<std::byte> chunk(header_size + bulk_chunk, std::byte{'y'});
    size_t const per_run = (bulk_total / bulk_chunk) * chunk.size();
    BulkSender sender([&] {
        for (size_t i = 0; i < bulk_total / bulk_chunk; ++i)
            must(write_all(*p.client, chunk, 5s), "write");
    });
    std::vector<std::byte> buf(chunk.size());
    for (auto _ : state) {
        sender.go();
        size_t got = 0;
        while (got < per_run) {
            size_t n = must(p.server->read(buf), "read");
            if (n == 0)
                must(wait_ready(*p.server, WantWrite::No, 5s), "wait");
            got += n;
        }
    }
    sender.stop();
    state.SetBytesProcessed(int64_t(state.iterations() * bulk_total));
}

void BM_Bulk_Vchan_Codec(benchmark::State& state) {
    VchanPair p;
    FrameReader reader(Expect::Data);
    std::thread hs([&] {
        FrameReader r(Expect::Data);
        handshake(*p.client, r);
    });
    handshake(*p.server, reader);
    hs.join();
    std::vector<std::byte> data(bulk_chunk, std::byte{'y'});
    BulkSender sender([&] {
        FrameWriter w;
        for (size_t i = 0; i < bulk_total / bulk_chunk; ++i) {
            w.push_data(Stream::Stdout, data);
            must(w.flush_all(*p.client, 5s), "flush");
        }
    });
    for (auto _ : state) {
        sender.go();
        size_t got = 0;
        while (got < bulk_total) {
            auto m = next_message(*p.server, reader);
            got += std::get<DataChunk>(m.message).bytes.size();
        }
    }
    sender.stop();
    state.SetBytesProcessed(int64_t(state.iterations() * bulk_total));
}

} // namespace

BENCHMARK(BM_RoundTrip_Socketpair_Raw)->UseRealTime();
BENCHMARK(BM_RoundTrip_Vchan_Raw)->UseRealTime();
BENCHMARK(BM_RoundTrip_Vchan_Codec)->UseRealTime();
BENCHMARK(BM_Bulk_Socketpair_Raw)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Bulk_Vchan_Raw)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Bulk_Vchan_Codec)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
