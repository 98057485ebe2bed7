// GuiDaemon: domains added and removed at run time, and dom0's control stream that does it.
#include "clipboard_policy.h"

#include <bulkhead/base/log.h>
#include <bulkhead/base/sys/fd.h>
#include <bulkhead/base/text.h>
#include <bulkhead/dom0/store/domain_record.h>
#include <bulkhead/gui/daemon/gui_daemon.h>

#include <algorithm>
#include <cctype>

namespace bulkhead::gui::daemon {

namespace {

Logger const log{"guid"};

constexpr size_t max_control_line = 4096;

bool valid_name(std::string_view n) {
    return !n.empty() && n.size() <= 64 && std::all_of(n.begin(), n.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '_' || c == '-' || c == '.';
    });
}

std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ')
            ++i;
        size_t j = line.find(' ', i);
        if (j == std::string_view::npos)
            j = line.size();
        if (j > i)
            out.push_back(line.substr(i, j - i));
        i = j;
    }
    return out;
}

} // namespace

Result<ControlCommand> parse_control_line(std::string_view line) {
    auto w = words(line);
    if (w.size() == 2 && w[0] == "remove" && valid_name(w[1]))
        return ControlCommand{ControlCommand::Kind::Remove, {std::string(w[1]), {}, {}}};
    if (w.size() >= 4 && w.size() <= 7 && w[0] == "add" && valid_name(w[1]) &&
        w[3].starts_with('/')) {
        auto label = dom0::find_label(w[2]);
        if (!label)
            return unexpected(Errc::Invalid, "gui control: unknown label");
        ControlCommand c{
            ControlCommand::Kind::Add,
            {std::string(w[1]), {std::string(label->name), label->color}, std::string(w[3])}};
        bool typed = false, tagged = false;
        for (size_t i = 4; i < w.size(); ++i) {
            if (w[i].starts_with("type=") && !typed) {
                auto t = policy::parse_domain_type(w[i].substr(5));
                if (!t)
                    return unexpected(Errc::Invalid, "gui control: unknown domain type");
                c.domain.type = *t;
                typed = true;
            } else if (w[i].starts_with("tags=") && !tagged) {
                auto list = w[i].substr(5);
                for (auto const& tag :
                     list.empty() ? std::vector<std::string>{} : text::split(list, ',')) {
                    if (!valid_name(tag))
                        return unexpected(Errc::Invalid, "gui control: bad tag");
                    c.domain.tags.push_back(tag);
                }
                tagged = true;
            } else if (w[i].starts_with("xen=") && !c.domain.xen_domid) {
                auto id = text::parse_u64(w[i].substr(4));
                // DOMID_FIRST_RESERVED is 0x7ff0; 0 is dom0 itself.
                if (!id || *id == 0 || *id >= 0x7ff0)
                    return unexpected(Errc::Invalid, "gui control: bad xen domain id");
                c.domain.xen_domid = uint32_t(*id);
            } else {
                return unexpected(Errc::Invalid, "gui control: unknown add parameter");
            }
        }
        return c;
    }
    return unexpected(Errc::Invalid,
                      "gui control: not 'add NAME LABEL /SOCKET [type=T] [tags=A,B] [xen=ID]' or "
                      "'remove NAME'");
}

Result<void> GuiDaemon::add_domain(GuiDomain const& domain) {
    auto r = listen(domain);
    if (r)
        LOG_INFO(log, "domain added", {"domain", domain.name}, {"socket", domain.socket});
    return r;
}

void GuiDaemon::remove_domain(std::string const& name) {
    // The socket first: no new connection while the session ends, and by the time its windows
    // are gone from dom0's screen the socket is gone too.
    if (auto it = m_listeners.find(name); it != m_listeners.end()) {
        m_loop->unwatch(it->second.fd.get());
        (void)sys::unlink(it->second.socket);
        m_listeners.erase(it);
    }
    end_session(name, "domain removed", BrokeRules::No);
    m_clipboard_policy->forget(name);
    m_desktop.remove_domain(name);
    m_dirty = true;
    frame();
    LOG_INFO(log, "domain removed", {"domain", name});
}

Result<void> GuiDaemon::watch_control(UniqueFd fd) {
    TRY(sys::set_nonblocking(fd.get()));
    m_control = std::move(fd);
    return m_loop->watch(m_control.get(), EventLoop::Readable, [this](uint32_t) { on_control(); });
}

void GuiDaemon::on_control() {
    char buf[1024];
    auto n = sys::read(m_control.get(), std::as_writable_bytes(std::span(buf)));
    if (n && *n == 0) {
        LOG_INFO(log, "control stream closed: stopping", {"fd", m_control.get()});
        return stop();
    }
    if (!n) {
        if (n.error().sys_errno() == EAGAIN)
            return;
        LOG_ERROR(log, "control stream failed: stopping", {"error", n.error().message()});
        return stop();
    }
    m_control_buf.append(buf, *n);
    for (size_t nl; (nl = m_control_buf.find('\n')) != std::string::npos;) {
        std::string line = m_control_buf.substr(0, nl);
        m_control_buf.erase(0, nl + 1);
        auto cmd = parse_control_line(line);
        if (!cmd) {
            LOG_WARN(log, "control line refused", {"line", line}, {"error", cmd.error().message()});
            continue;
        }
        if (cmd->kind == ControlCommand::Kind::Remove) {
            remove_domain(cmd->domain.name);
        } else if (auto r = add_domain(cmd->domain); !r) {
            LOG_WARN(log, "domain not added", {"domain", cmd->domain.name},
                     {"error", r.error().message()});
        }
    }
    if (m_control_buf.size() > max_control_line) {
        LOG_WARN(log, "control line too long: dropped", {"bytes", m_control_buf.size()});
        m_control_buf.clear();
    }
}

} // namespace bulkhead::gui::daemon
