// Fuzz target: one admin API frame body through ApiServer::handle_bytes (decode, validate,
// dispatch to a real Store in a temp root and a stub Lifecycle, extension for 100-199).
// Store state carries over between inputs, as it would across a client's requests.
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/dom0/api/api_server.h>
#include <bulkhead/dom0/api/lifecycle.h>
#include <bulkhead/dom0/store/store.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

using namespace bulkhead;
using namespace bulkhead::dom0;

namespace {
class StubLifecycle : public Lifecycle {
public:
    Result<void> start(std::string const&) override { return {}; }
    Result<void> shutdown(std::string const&, bool, std::chrono::seconds) override { return {}; }
    Result<void> kill(std::string const&) override { return {}; }
    Result<void> pause(std::string const&) override { return {}; }
    Result<void> unpause(std::string const&) override {
        return unexpected(Errc::Busy, "not paused");
    }
    std::string power_state(std::string const& name) override {
        return name == "dom0" ? "Running" : "Halted";
    }
    Result<void> before_remove(std::string const&) override { return {}; }
};

struct World {
    std::string root;
    std::unique_ptr<Store> store;
    StubLifecycle life;
    std::unique_ptr<ApiServer> server;
};

World* g_world = nullptr;

void cleanup() {
    if (g_world)
        (void)sys::remove_tree(g_world->root);
}

World& world() {
    if (g_world)
        return *g_world;
    auto* w = new World;
    auto root = sys::make_temp_dir("/tmp/bh-fuzz-admin");
    if (!root)
        std::abort();
    w->root = *root;
    auto store = Store::open(w->root);
    if (!store)
        std::abort();
    w->store = std::move(*store);
    (void)w->store->create({"fedora", Klass::TemplateVM, "black", {}});
    (void)w->store->create({"sys-net", Klass::StandaloneVM, "red", {{"provides_network", "1"}}});
    (void)w->store->create({"work", Klass::AppVM, "blue", {{"template", "fedora"}}});
    w->server = std::make_unique<ApiServer>(*w->store, w->life);
    w->server->set_extension([](admin::Request const& req, PeerCred) -> Result<ExtensionReply> {
        if (req.ByteSizeLong() % 2)
            return unexpected(Errc::Invalid, "odd");
        ExtensionReply r;
        r.response.mutable_ok()->set_value("ext");
        r.after_close = [] {};
        return r;
    });
    g_world = w;
    std::atexit(cleanup);
    return *w;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
    auto& w = world();
    std::string bytes(reinterpret_cast<char const*>(data), size);
    auto out = w.server->handle_bytes(std::move(bytes), {1, 0, 0});
    admin::Response r;
    if (!r.ParseFromString(out) || r.result_case() == admin::Response::RESULT_NOT_SET)
        std::abort(); // handle_bytes always answers with a well-formed response
    return 0;
}
