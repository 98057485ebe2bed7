#include <bulkhead/dom0/api/request_decoder.h>

#include <bulkhead/base/text.h>

namespace bulkhead::dom0::api {

namespace {
constexpr size_t kMaxString = 4096;
constexpr int kMaxMapEntries = 64;

// Every string field of every message in the request, for the common checks.
bool strings_ok(google::protobuf::Message const& m) {
    auto const* desc = m.GetDescriptor();
    auto const* refl = m.GetReflection();
    for (int i = 0; i < desc->field_count(); ++i) {
        auto const* f = desc->field(i);
        if (f->is_map()) {
            if (refl->FieldSize(m, f) > kMaxMapEntries)
                return false;
        }
        if (f->is_repeated()) {
            int n = refl->FieldSize(m, f);
            for (int j = 0; j < n; ++j) {
                if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE &&
                    !strings_ok(refl->GetRepeatedMessage(m, f, j)))
                    return false;
                if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
                    auto s = refl->GetRepeatedString(m, f, j);
                    if (s.size() > kMaxString || !text::is_valid_utf8(s))
                        return false;
                }
            }
            continue;
        }
        if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
            if (refl->HasField(m, f) && !strings_ok(refl->GetMessage(m, f)))
                return false;
        } else if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
            auto s = refl->GetString(m, f);
            if (s.size() > kMaxString || !text::is_valid_utf8(s))
                return false;
        }
    }
    return true;
}
} // namespace

Result<admin::Request> RequestDecoder::decode(Untrusted<std::string> const& untrusted_bytes) {
    auto const& bytes = untrusted_bytes.open(key());
    admin::Request req;
    if (!req.ParseFromString(bytes))
        return unexpected(Errc::Protocol, "malformed admin request");
    if (req.kind_case() == admin::Request::KIND_NOT_SET)
        return unexpected(Errc::Protocol, "admin request names no operation");
    if (!strings_ok(req))
        return unexpected(Errc::Protocol, "admin request has an over-long or non-UTF-8 field");
    return req;
}

} // namespace bulkhead::dom0::api
