// 100 MiB of process output through a qrexec data session (executor → caller) over the socket
// vchan, against the same bytes through one plain pipe (the baseline, same binary). The
// session counter `x_pipe` is session time / pipe time.
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/rpc/session/session.h>
#include <bulkhead/rpc/socket_vchan.h>

#include <benchmark/benchmark.h>

#include <chrono>
#include <future>
#include <thread>
#include <vector>

using namespace bulkhead;
using namespace bulkhead::rpc;
using namespace std::chrono_literals;

namespace {

constexpr size_t total = 100u << 20;
constexpr size_t block = 1u << 20;

// Writes `total` bytes into fd from a thread, then closes it.
std::thread produce(UniqueFd fd) {
    return std::thread([fd = std::move(fd)]() mutable {
        std::vector<std::byte> buf(block, std::byte{'x'});
        for (size_t sent = 0; sent < total; sent += block)
            (void)sys::write_all(fd.get(), buf);
    });
}

// Reads fd to EOF; returns the byte count.
std::future<size_t> consume(UniqueFd fd) {
    return std::async(std::launch::async, [fd = std::move(fd)]() mutable {
        std::vector<std::byte> buf(block);
        size_t n = 0;
        for (;;) {
            auto r = sys::read(fd.get(), buf);
            if (!r || *r == 0)
                return n;
            n += *r;
        }
    });
}

double pipe_seconds() {
    auto [r, w] = sys::pipe(O_CLOEXEC).value();
    auto start = std::chrono::steady_clock::now();
    auto reader = consume(std::move(r));
    auto writer = produce(std::move(w));
    size_t got = reader.get();
    writer.join();
    if (got != total)
        std::abort();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void BM_PipeBaseline(benchmark::State& state) {
    for (auto _ : state)
        state.SetIterationTime(pipe_seconds());
    state.SetBytesProcessed(int64_t(state.iterations() * total));
}

void BM_SessionSocketVchan(benchmark::State& state) {
    auto dir = sys::make_temp_dir("/tmp/bh-bench-").value();
    SocketTransport dom0(dir, 0), guest(dir, 5);
    double session_total = 0, pipe_total = 0;
    for (auto _ : state) {
        auto listener = dom0.listen(5, 513).value();
        auto exec_ch = guest.connect(0, 513, 5s).value();
        auto caller_ch = accept_wait(*listener, 5s).value();
        auto [src_r, src_w] = sys::pipe(O_CLOEXEC).value();
        auto [dst_r, dst_w] = sys::pipe(O_CLOEXEC).value();
        auto start = std::chrono::steady_clock::now();
        auto reader = consume(std::move(dst_r));
        auto writer = produce(std::move(src_w));
        auto executor = std::async(std::launch::async, [&, fd = std::move(src_r)]() mutable {
            session::ExecutorIo io;
            io.stdout_fd = std::move(fd);
            return session::run_executor(*exec_ch, std::move(io));
        });
        session::CallerIo io;
        io.stdout_fd = std::move(dst_w);
        auto code = session::run_caller(*caller_ch, std::move(io));
        size_t got = reader.get();
        writer.join();
        if (!code || !executor.get() || got != total)
            state.SkipWithError("session failed");
        double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        state.SetIterationTime(t);
        session_total += t;
        pipe_total += pipe_seconds();
    }
    state.SetBytesProcessed(int64_t(state.iterations() * total));
    state.counters["x_pipe"] = session_total / pipe_total;
    (void)sys::remove_tree(dir);
}

} // namespace

BENCHMARK(BM_PipeBaseline)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK(BM_SessionSocketVchan)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(5);

BENCHMARK_MAIN();
