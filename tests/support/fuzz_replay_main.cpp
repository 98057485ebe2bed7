// Replays a fuzz target's committed corpus (every file under the given directories)
// through LLVMFuzzerTestOneInput, so normal builds (and ASan builds) exercise each
// target's entry point without libFuzzer. Exit 0 when every input ran.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
    size_t count = 0;
    for (int i = 1; i < argc; ++i) {
        std::error_code ec;
        std::filesystem::path root(argv[i]);
        if (!std::filesystem::exists(root, ec)) {
            std::fprintf(stderr, "fuzz replay: corpus %s does not exist\n", argv[i]);
            return 2;
        }
        for (auto const& entry : std::filesystem::recursive_directory_iterator(root)) {
            if (!entry.is_regular_file())
                continue;
            std::ifstream in(entry.path(), std::ios::binary);
            std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
            LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
            ++count;
        }
    }
    if (count == 0) {
        std::fprintf(stderr, "fuzz replay: empty corpus\n");
        return 2;
    }
    std::printf("fuzz replay: %zu inputs ran\n", count);
    return 0;
}
