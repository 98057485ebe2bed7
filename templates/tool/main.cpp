// bulkhead-template: builds and stacks sandbox template layers (see ../README.md).
#include <bulkhead/templates/template_store.h>

#include <cstdio>
#include <string>
#include <vector>

using bulkhead::templates::TemplateStore;

namespace {
int usage() {
    std::fprintf(stderr, "usage: bulkhead-template STORE busybox TEMPLATE [BUSYBOX]\n"
                         "       bulkhead-template STORE add-layer TEMPLATE LAYER SOURCE_DIR\n"
                         "       bulkhead-template STORE layers TEMPLATE\n");
    return 2;
}

int report(bulkhead::Result<void> const& r) {
    if (r)
        return 0;
    std::fprintf(stderr, "bulkhead-template: %s\n", r.error().message().c_str());
    return 1;
}
} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> a(argv + 1, argv + argc);
    if (a.size() < 3)
        return usage();
    TemplateStore store(a[0]);
    if (a[1] == "busybox" && (a.size() == 3 || a.size() == 4))
        return report(store.create_busybox(a[2], a.size() == 4 ? a[3] : "/bin/busybox"));
    if (a[1] == "add-layer" && a.size() == 5)
        return report(store.add_layer(a[2], a[3], a[4]));
    if (a[1] == "layers" && a.size() == 3) {
        auto layers = store.layers(a[2]);
        if (!layers)
            return report(layers.error());
        for (auto const& l : *layers)
            std::printf("%s\n", l.c_str());
        return 0;
    }
    return usage();
}
