// Fuzz target filecopy_stream: a whole Filecopy stream through FilecopyValidator exactly as the
// unpacker reads it (header, name, symlink target or skipped file data, until the end marker).
// Invariants: an accepted name passes check_name, is relative and has no '.', '..' or empty
// component; its header re-encodes to the same 32 bytes; a symlink target never climbs above
// the tree.
#include <bulkhead/rpc/filecopy/validator.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

using namespace bulkhead::rpc::filecopy;

namespace {

void check(bool ok, char const* what) {
    if (!ok) {
        std::fprintf(stderr, "filecopy fuzz invariant failed: %s\n", what);
        std::abort();
    }
}

bool has_bad_component(std::string_view s, bool allow_dotdot) {
    size_t start = 0;
    while (true) {
        auto slash = s.find('/', start);
        auto comp = s.substr(start, slash == s.npos ? s.npos : slash - start);
        if (comp.empty() || comp == "." || (comp == ".." && !allow_dotdot))
            return true;
        if (slash == s.npos)
            return false;
        start = slash + 1;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    std::span<std::byte const> in(reinterpret_cast<std::byte const*>(data), size);
    while (in.size() >= file_header_size) {
        auto raw = in.first(file_header_size);
        in = in.subspan(file_header_size);
        auto step = FilecopyValidator::header(UntrustedBytes(raw));
        if (!step)
            return 0;
        if (step->end)
            return 0;
        check(step->header.namelen >= 1 && step->header.namelen <= max_namelen, "namelen range");
        auto again = encode(step->header);
        check(std::equal(again.begin(), again.end(), raw.begin()), "header does not re-encode");
        if (in.size() < step->header.namelen)
            return 0;
        auto e =
            FilecopyValidator::entry(step->header, UntrustedBytes(in.first(step->header.namelen)));
        in = in.subspan(step->header.namelen);
        if (!e)
            return 0;
        check(!e->name.empty() && e->name.front() != '/', "absolute or empty name accepted");
        check(!has_bad_component(e->name, false), "bad component accepted");
        check(FilecopyValidator::check_name(e->name).has_value(), "entry and check_name disagree");
        check(e->name.size() + 1 == step->header.namelen, "name length");
        check((e->permissions & ~0777u) == 0, "permission bits beyond 0777");
        if (in.size() < e->size)
            return 0;
        auto payload = in.first(size_t(e->size));
        in = in.subspan(size_t(e->size));
        if (e->type == EntryType::Symlink) {
            auto t = FilecopyValidator::symlink_target(*e, UntrustedBytes(payload));
            if (!t)
                continue;
            check(!t->empty() && t->front() != '/', "absolute target accepted");
            check(!has_bad_component(*t, true), "bad target component accepted");
            // Climb: leading '..' only, fewer than the link's depth.
            size_t up = 0;
            std::string_view rest = *t;
            while (rest == ".." || rest.substr(0, 3) == "../") {
                ++up;
                rest = rest.size() > 2 ? rest.substr(3) : std::string_view();
            }
            check(up < e->depth(), "target climbs out of the tree");
            check(rest.find("/../") == rest.npos && rest.substr(0, 3) != "../" &&
                      !(rest.size() >= 3 && rest.substr(rest.size() - 3) == "/.."),
                  "'..' after a name accepted");
        }
    }
    return 0;
}
