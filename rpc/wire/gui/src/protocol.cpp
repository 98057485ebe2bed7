#include <bulkhead/rpc/gui/messages.h>
#include <bulkhead/rpc/gui/protocol.h>

#include <iterator>

namespace bulkhead::rpc::gui {

std::string_view msg_type_name(MsgType type) {
    switch (type) {
    case MsgType::Hello:
        return "HELLO";
    case MsgType::Create:
        return "CREATE";
    case MsgType::Destroy:
        return "DESTROY";
    case MsgType::Map:
        return "MAP";
    case MsgType::Unmap:
        return "UNMAP";
    case MsgType::SetTitle:
        return "SET_TITLE";
    case MsgType::SetClass:
        return "SET_CLASS";
    case MsgType::SetHints:
        return "SET_HINTS";
    case MsgType::Damage:
        return "DAMAGE";
    case MsgType::SetCursor:
        return "SET_CURSOR";
    case MsgType::ShmRegion:
        return "SHM_REGION";
    case MsgType::GrantRefs:
        return "GRANT_REFS";
    case MsgType::Key:
        return "KEY";
    case MsgType::Button:
        return "BUTTON";
    case MsgType::Motion:
        return "MOTION";
    case MsgType::Crossing:
        return "CROSSING";
    case MsgType::Focus:
        return "FOCUS";
    case MsgType::CloseRequest:
        return "CLOSE_REQUEST";
    case MsgType::ClipboardRequest:
        return "CLIPBOARD_REQUEST";
    case MsgType::Configure:
        return "CONFIGURE";
    case MsgType::ClipboardData:
        return "CLIPBOARD_DATA";
    }
    return "UNKNOWN";
}

std::optional<MsgType> known_type(uint32_t t) {
    if (t == 0x001 || (t >= 0x101 && t <= 0x10b) || (t >= 0x201 && t <= 0x207) || t == 0x301 ||
        t == 0x302)
        return MsgType(t);
    return std::nullopt;
}

bool is_window_message(MsgType type) {
    return type != MsgType::Hello && type != MsgType::ClipboardData &&
           type != MsgType::ClipboardRequest;
}

MsgType message_type(Message const& m) {
    // The variant's alternatives in declaration order.
    static constexpr MsgType types[] = {
        MsgType::Hello,     MsgType::Create,        MsgType::Destroy,
        MsgType::Map,       MsgType::Unmap,         MsgType::SetTitle,
        MsgType::SetClass,  MsgType::SetHints,      MsgType::Damage,
        MsgType::SetCursor, MsgType::ShmRegion,     MsgType::Key,
        MsgType::Button,    MsgType::Motion,        MsgType::Crossing,
        MsgType::Focus,     MsgType::CloseRequest,  MsgType::ClipboardRequest,
        MsgType::Configure, MsgType::ClipboardData, MsgType::GrantRefs,
    };
    static_assert(std::size(types) == std::variant_size_v<Message>);
    return types[m.index()];
}

} // namespace bulkhead::rpc::gui
