// Error: what went wrong (a code), where (the call or step), and the system errno if any.
// Every module returns these inside Result<T>; nothing throws across a module boundary.
// Context strings may contain untrusted text: log them through base/log.h, which escapes.
#pragma once

#include <string>
#include <string_view>

namespace bulkhead {

enum class Errc {
    System,      // a libc/kernel call failed; errno() says why
    NotFound,    // a named thing does not exist
    Exists,      // it already exists
    Invalid,     // malformed or out-of-range input
    Denied,      // policy or permission refused it
    Protocol,    // a peer broke the wire protocol
    Closed,      // the peer went away / end of stream
    Timeout,     // a deadline passed
    Busy,        // in use / wrong state for this operation
    Limit,       // a size or count cap was hit
    Unsupported, // not possible on this machine or backend
    Internal,    // a bug: an invariant did not hold
};

std::string_view errc_name(Errc code);

class Error {
public:
    Error(Errc code, std::string context, int sys_errno = 0)
        : m_code(code)
        , m_errno(sys_errno)
        , m_context(std::move(context)) {}

    // For a failed libc call: Error::from_errno("open", errno).
    static Error from_errno(std::string_view call, int err);

    Errc code() const { return m_code; }
    int sys_errno() const { return m_errno; }
    std::string const& context() const { return m_context; }

    // Prepends what the caller was doing: "loading policy: open: No such file".
    Error& prefix(std::string_view what) {
        m_context = std::string(what) + ": " + m_context;
        return *this;
    }

    // "<context>" plus the errno text for system errors.
    std::string message() const;

private:
    Errc m_code;
    int m_errno;
    std::string m_context;
};

inline Error make_error(Errc code, std::string context) {
    return Error(code, std::move(context));
}

} // namespace bulkhead
