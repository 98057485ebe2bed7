// AskAgent: who answers a qrexec policy "ask" (which target, or deny). Called by the daemon
// on a broker worker thread. The answerer runs in dom0 only: nothing from the asking guest
// reaches it except names dom0 already validated (source = the channel's domain, service
// and argument checked by the qrexec validator, targets from the policy and the store), so a
// guest can never answer its own question; an answer counts only if it is an offered target.
#pragma once

#include <bulkhead/base/result.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::dom0 {

struct AskTarget {
    std::string name;   // a domain, or @dispvm:TEMPLATE
    std::string label;  // red orange yellow green gray blue purple black
    uint32_t color = 0; // 0xRRGGBB of the label
};

struct AskQuestion {
    std::string source;                        // the calling domain
    std::string service;                       // e.g. qubes.Filecopy
    std::string argument;                      // without '+'; empty for none
    std::vector<AskTarget> targets;            // what the policy offers, nothing else
    std::optional<std::string> default_target; // one of targets, or none
};

class AskAgent {
public:
    virtual ~AskAgent() = default;
    // The chosen target (one of q.targets), or nullopt for deny / no answer within timeout.
    // Blocking; callable from several threads at once.
    virtual Result<std::optional<std::string>> ask(AskQuestion const& q,
                                                   std::chrono::milliseconds timeout) = 0;
    // Ends every pending and later ask as deny (daemon shutdown). Thread-safe.
    virtual void cancel_all() {}
};

// The question as one JSON object:
// {"source":S,"service":S,"argument":S,"default_target":S|null,
//  "targets":[{"name":S,"label":S,"color":"#rrggbb"},...]}
std::string to_json(AskQuestion const& q);
// The reverse (for the dialog); rejects anything else, and a default that is not offered.
Result<AskQuestion> question_from_json(std::string_view text);

// An answerer's raw output → the target it names: one line (a trailing newline allowed)
// exactly equal to an offered target; anything else (empty, garbage, not offered) = deny.
std::optional<std::string> accept_answer(AskQuestion const& q, std::string_view answer);

} // namespace bulkhead::dom0
