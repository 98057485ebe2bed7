#include <bulkhead/base/error.h>

#include <cstring>

namespace bulkhead {

std::string_view errc_name(Errc code) {
    switch (code) {
    case Errc::System:
        return "system";
    case Errc::NotFound:
        return "not-found";
    case Errc::Exists:
        return "exists";
    case Errc::Invalid:
        return "invalid";
    case Errc::Denied:
        return "denied";
    case Errc::Protocol:
        return "protocol";
    case Errc::Closed:
        return "closed";
    case Errc::Timeout:
        return "timeout";
    case Errc::Busy:
        return "busy";
    case Errc::Limit:
        return "limit";
    case Errc::Unsupported:
        return "unsupported";
    case Errc::Internal:
        return "internal";
    }
    return "unknown";
}

Error Error::from_errno(std::string_view call, int err) {
    Errc code = Errc::System;
    if (err == ENOENT)
        code = Errc::NotFound;
    else if (err == EEXIST)
        code = Errc::Exists;
    else if (err == EACCES || err == EPERM)
        code = Errc::Denied;
    else if (err == ETIMEDOUT)
        code = Errc::Timeout;
    else if (err == EPIPE || err == ECONNRESET)
        code = Errc::Closed;
    return Error(code, std::string(call), err);
}

std::string Error::message() const {
    if (m_errno == 0)
        return m_context;
    return m_context + ": " + std::strerror(m_errno);
}

} // namespace bulkhead
