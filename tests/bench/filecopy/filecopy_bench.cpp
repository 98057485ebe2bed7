// qubes.Filecopy throughput: pack → pipe → unpack (two threads, real pipes, the reply back
// through a second pipe) of 100 MiB, as one file and as 1,000 files of 100 KiB, beside
// `cp -r` of the same tree into the same filesystem. Each variant with and without a final
// syncfs (the unpacker syncs before replying, as Qubes; cp -r does not unless asked).
// Source and destinations under $BULKHEAD_BENCH_DIR (default /var/tmp). Bytes/s is reported.
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/filecopy/pack.h>
#include <bulkhead/filecopy/unpack.h>

#include <benchmark/benchmark.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

using namespace bulkhead;

namespace {

constexpr size_t total_bytes = size_t(100) << 20;
constexpr int small_files = 1000;

void must(bool ok, char const* what) {
    if (!ok) {
        std::fprintf(stderr, "bench: %s failed\n", what);
        std::abort();
    }
}

std::string base_dir() {
    char const* d = std::getenv("BULKHEAD_BENCH_DIR");
    return d ? d : "/var/tmp";
}

void write_file(std::string const& path, size_t size, char fill) {
    auto fd = sys::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    must(fd.has_value(), "create source file");
    std::string chunk(1 << 20, fill);
    for (size_t left = size; left;) {
        size_t n = std::min(left, chunk.size());
        must(sys::write_all(fd->get(), std::string_view(chunk).substr(0, n)).has_value(), "write");
        left -= n;
    }
}

// The two source trees, made once per process.
struct Sources {
    std::string root = sys::make_temp_dir(base_dir() + "/bh-bench-filecopy-").value();
    std::string one = root + "/one";
    std::string many = root + "/many";
    Sources() {
        std::signal(SIGPIPE, SIG_IGN);
        must(sys::mkdir(one).has_value() && sys::mkdir(many).has_value(), "mkdir");
        write_file(one + "/big.bin", total_bytes, 'b');
        for (int i = 0; i < small_files; ++i)
            write_file(many + "/f" + std::to_string(i), total_bytes / small_files,
                       char('a' + i % 26));
        ::sync();
    }
    ~Sources() { (void)sys::remove_tree(root); }
};

Sources& sources() {
    static Sources s;
    return s;
}

std::string fresh_dest(benchmark::State& state) {
    state.PauseTiming();
    static int n = 0;
    auto dest = sources().root + "/dest" + std::to_string(n++);
    (void)sys::remove_tree(dest);
    must(sys::mkdir(dest).has_value(), "mkdir dest");
    state.ResumeTiming();
    return dest;
}

void drop_dest(benchmark::State& state, std::string const& dest) {
    state.PauseTiming();
    (void)sys::remove_tree(dest);
    state.ResumeTiming();
}

void pack_unpack(benchmark::State& state, std::string const& src, bool sync) {
    for (auto _ : state) {
        auto dest = fresh_dest(state);
        auto dir = sys::open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC).value();
        auto stream = sys::pipe().value();
        auto reply = sys::pipe().value();
        filecopy::UnpackOptions opts;
        opts.max_files = 2 * small_files;
        opts.sync_before_reply = sync;
        filecopy::UnpackReport report;
        std::thread receiver([&] {
            report = filecopy::unpack(stream.first.get(), reply.second.get(), dir.get(), opts);
            stream.first.reset();
        });
        std::vector<std::string> paths = {src};
        auto sent = filecopy::pack(paths, stream.second.get(), reply.first.get());
        stream.second.reset();
        receiver.join();
        must(sent.has_value() && report.error_code == 0, "transfer");
        drop_dest(state, dest);
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(total_bytes));
}

void cp_r(benchmark::State& state, std::string const& src, bool sync) {
    for (auto _ : state) {
        auto dest = fresh_dest(state);
        std::string cp = "/bin/cp", r = "-r";
        char* argv[] = {cp.data(), r.data(), const_cast<char*>(src.c_str()), dest.data(), nullptr};
        pid_t pid;
        must(::posix_spawn(&pid, argv[0], nullptr, nullptr, argv, environ) == 0, "spawn cp");
        int status = 0;
        must(::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
             "cp -r");
        if (sync) {
            auto dir = sys::open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC).value();
            ::syncfs(dir.get());
        }
        drop_dest(state, dest);
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(total_bytes));
}

void BM_Filecopy_OneFile(benchmark::State& s) {
    pack_unpack(s, sources().one, false);
}
void BM_CpR_OneFile(benchmark::State& s) {
    cp_r(s, sources().one, false);
}
void BM_Filecopy_1000Files(benchmark::State& s) {
    pack_unpack(s, sources().many, false);
}
void BM_CpR_1000Files(benchmark::State& s) {
    cp_r(s, sources().many, false);
}
void BM_Filecopy_OneFile_Sync(benchmark::State& s) {
    pack_unpack(s, sources().one, true);
}
void BM_CpR_OneFile_Sync(benchmark::State& s) {
    cp_r(s, sources().one, true);
}
void BM_Filecopy_1000Files_Sync(benchmark::State& s) {
    pack_unpack(s, sources().many, true);
}
void BM_CpR_1000Files_Sync(benchmark::State& s) {
    cp_r(s, sources().many, true);
}

} // namespace

BENCHMARK(BM_Filecopy_OneFile)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_CpR_OneFile)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_Filecopy_1000Files)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_CpR_1000Files)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_Filecopy_OneFile_Sync)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_CpR_OneFile_Sync)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_Filecopy_1000Files_Sync)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_CpR_1000Files_Sync)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);

BENCHMARK_MAIN();
