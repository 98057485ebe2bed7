// The daemon's notices: user-facing text and the one-line record the tray reads.
#include <bulkhead/gui/model/notice.h>

#include <catch2/catch.hpp>

using namespace bulkhead::gui::model;

TEST_CASE("notice records round-trip; anything else is refused", "[gui]") {
    Notify copied{NotifyKind::ClipboardCopied, "work", "", 64000};
    auto line = format_notice_record(copied, 7);
    CHECK(line == "copied work - 64000 7\n");
    auto back = parse_notice_record(line);
    REQUIRE(back.has_value());
    CHECK(back->kind == NotifyKind::ClipboardCopied);
    CHECK(back->source == "work");
    CHECK(back->target.empty());
    CHECK(back->bytes == 64000);

    Notify pasted{NotifyKind::ClipboardPasted, "work", "personal", 12};
    auto p = parse_notice_record(format_notice_record(pasted, 8));
    REQUIRE(p.has_value());
    CHECK(p->target == "personal");
    CHECK(p->kind == NotifyKind::ClipboardPasted);

    for (char const* bad : {"", "copied work - 1", "copied work - 1 2 3", "stolen work - 1 2",
                            "copied ../x - 1 2", "copied work - -1 2", "copied work - 1x 2",
                            "pasted work per/sonal 1 2", "copied work - 1 two"}) {
        INFO(bad);
        CHECK_FALSE(parse_notice_record(bad).has_value());
    }
}

TEST_CASE("notice texts name the domains and the size", "[gui]") {
    CHECK(notice_text({NotifyKind::ClipboardCopied, "work", "", 1234}) ==
          "Copied 1,234 bytes from work to the global clipboard");
    CHECK(notice_text({NotifyKind::ClipboardPasted, "work", "personal", 1}) ==
          "Pasted 1 byte from work into personal; the global clipboard is now empty");
    CHECK(notice_text({NotifyKind::ClipboardDenied, "work", "vault", 0}) ==
          "Policy denied pasting work's clipboard into vault");
    CHECK(notice_text({NotifyKind::ClipboardTooLarge, "work", "", 1000000}) ==
          "work's clipboard (1,000,000 bytes) is over the size limit; nothing was copied");
}
