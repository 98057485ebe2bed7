// RequestDecoder: the one place admin request bytes from a client are opened. Parses the
// protobuf and checks shape (a request kind is set, strings are short UTF-8, maps small)
// before any dispatch. Called by ApiServer for every frame; fuzzed by tests/fuzz/admin_api.
#pragma once

#include <bulkhead/base/result.h>
#include <bulkhead/base/untrusted.h>

#include <rpc/wire/admin/admin.pb.h>

#include <string>

namespace bulkhead::dom0::api {

class RequestDecoder : public Validator {
public:
    // Errc::Protocol for bytes that are not a well-formed request.
    static Result<admin::Request> decode(Untrusted<std::string> const& untrusted_bytes);
};

} // namespace bulkhead::dom0::api
