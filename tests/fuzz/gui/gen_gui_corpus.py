#!/usr/bin/env python3
"""Writes the seed corpus of the gui_stream fuzz target into tests/fuzz/corpus/gui_stream/.

Frames are laid out by hand ({u32 type; u32 window; u32 len} + payload, little-endian), not
with our encoder. Byte 0 of each seed selects the direction (bit 0: 1 = dom0 to guest), whether
HELLO was already seen (bit 1) and tight limits (bit 2); see gui_stream.cpp."""
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus", "gui_stream")

GUEST, DAEMON, ESTABLISHED, TIGHT = 0, 1, 2, 4


def frame(t, window, payload=b""):
    return struct.pack("<III", t, window, len(payload)) + payload


def words(*w):
    return b"".join(struct.pack("<I", x & 0xFFFFFFFF) for x in w)


def field(s, n):
    b = s if isinstance(s, bytes) else s.encode()
    return b + b"\0" * (n - len(b))


HELLO = frame(0x001, 0, struct.pack("<HHI", 1, 0, 0))
CREATE = frame(0x101, 0x400001, words(10, 20, 640, 480, 0, 0))
CREATE_OR = frame(0x101, 0x400002, words(0, 0, 1920, 1080, 0, 1))
MAP = frame(0x103, 0x400001, words(0, 0))
CONFIGURE = frame(0x301, 0x400001, words(-5, 7, 800, 600, 0))
TITLE = frame(0x105, 0x400001, field("xterm — ~/work", 256))
TITLE_HOSTILE = frame(0x105, 0x400001, field(b"[dom0] \x1b[2J\xe2\x80\xae\xff\xc0\xaf" + b"A" * 200, 256))
CLASS = frame(0x106, 0x400001, field("XTerm", 64) + field("xterm", 64))
HINTS = frame(0x107, 0x400001, words(15, 100, 50, 800, 600, 6, 13, 4, 2))
DAMAGE = frame(0x108, 0x400001, words(0, 0, 640, 480))
CURSOR = frame(0x109, 0x400001, words(68))
SHM = frame(0x10A, 0x400001, words(1, 0, 640, 480, 2560, 1) + struct.pack("<Q", 2560 * 480))
SHM_GRANT = frame(0x10A, 0x400002, words(2, 1, 16, 16, 64, 1) + struct.pack("<Q", 4096))
GRANTS = frame(0x10B, 0x400002, words(77))
UNMAP = frame(0x104, 0x400001)
DESTROY = frame(0x102, 0x400001)
CLIP = frame(0x302, 0, b"secret text\n")
KEY = frame(0x201, 0x400001, words(1, 38, 5))
BUTTON = frame(0x202, 0x400001, words(1, 1, 30, 40, 0))
MOTION = frame(0x203, 0x400001, words(31, 41, 0x100))
CROSSING = frame(0x204, 0x400001, words(1, 0, 0, 0))
FOCUS = frame(0x205, 0x400001, words(1))
CLOSE = frame(0x206, 0x400001)
CLIPREQ = frame(0x207, 0)

seeds = {
    "guest_session": bytes([GUEST]) + HELLO + CREATE + CLASS + TITLE + HINTS + SHM + MAP + DAMAGE
    + CONFIGURE + CURSOR + CLIP + UNMAP + DESTROY,
    "guest_override_redirect": bytes([GUEST | ESTABLISHED]) + CREATE_OR + MAP + GRANTS + SHM_GRANT,
    # Xen: a full message of references, one short of whole, then a region of the wrong count.
    "guest_grant_refs": bytes([GUEST | ESTABLISHED]) + CREATE
    + frame(0x10B, 0x400001, words(*range(1024)))
    + frame(0x10B, 0x400001, words(1) + b"\0\0")
    + frame(0x10A, 0x400001, words(2, 3, 16, 16, 64, 1) + struct.pack("<Q", 4096)),
    "guest_hostile_title": bytes([GUEST | ESTABLISHED]) + TITLE_HOSTILE,
    "guest_huge_create": bytes([GUEST | ESTABLISHED]) + frame(0x101, 1, words(-(2**31), 2**31 - 1, 2**32 - 1, 2**32 - 1, 0x1FFFFFFF, 0)),
    "guest_huge_len": bytes([GUEST | ESTABLISHED]) + struct.pack("<III", 0x302, 0, 0xFFFFFFFF),
    "guest_clip_cap": bytes([GUEST | ESTABLISHED]) + frame(0x302, 0, b"x" * 64000),
    "guest_unknown": bytes([GUEST | ESTABLISHED]) + frame(0x10C, 1) + frame(0x208, 1),
    "guest_input_refused": bytes([GUEST | ESTABLISHED]) + KEY,
    "guest_damage_flood": bytes([GUEST | ESTABLISHED]) + DAMAGE * 64,
    # Every glyph the gui-agent sends for a named cursor (0 = default), then one past the font.
    "guest_cursors": bytes([GUEST | ESTABLISHED]) + CREATE
    + b"".join(frame(0x109, 0x400001, words(g)) for g in range(0, 154, 2))
    + frame(0x109, 0x400001, words(154)),
    "guest_cursor_odd": bytes([GUEST | ESTABLISHED]) + frame(0x109, 0x400001, words(69)),
    "guest_window_zero": bytes([GUEST | ESTABLISHED]) + frame(0x104, 0),
    "guest_tight": bytes([GUEST | ESTABLISHED | TIGHT]) + CREATE + TITLE + CLASS + DAMAGE + CLIP,
    "daemon_session": bytes([DAEMON]) + HELLO + CONFIGURE + FOCUS + KEY + BUTTON + MOTION
    + CROSSING + CLIPREQ + CLIP + CLOSE,
    "daemon_tight": bytes([DAEMON | ESTABLISHED | TIGHT]) + BUTTON + MOTION + CLIP,
    "hello_twice": bytes([GUEST]) + HELLO + HELLO,
    "empty": bytes([GUEST]),
}

os.makedirs(ROOT, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(ROOT, name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {ROOT}")

# gui_desktop: records of [op][...]: op%8 in 0..3 = a frame from work (even) / untrusted (odd),
# 4 = focus the window under (b0*4, b1*3), 5 = key (b0: bit0 release, bits 1.. state; b1 keycode;
# b2 keysym choice c/V/v/a), 6 = pointer (x, y, b2 < 64 motion else button), 7 = time passes.
DROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus", "gui_desktop")
W, U = 0, 1
def rec(op, data=b""):
    return bytes([op]) + data
CTRL_SHIFT_C = rec(5, bytes([(5 << 1), 0, 0]))   # state shift|control, keysym c
CTRL_SHIFT_V = rec(5, bytes([(5 << 1), 1, 1]))
desktop_seeds = {
    "open_focus_type": rec(W, CREATE) + rec(W, MAP) + rec(W, TITLE) + rec(4, bytes([10, 10]))
    + rec(5, bytes([0, 3, 3])) + rec(6, bytes([10, 10, 0])) + rec(7),
    "clipboard": rec(W, CREATE) + rec(W, MAP) + rec(4, bytes([10, 10])) + CTRL_SHIFT_C
    + rec(W, CLIP) + rec(U, frame(0x101, 9, words(400, 300, 100, 100, 0, 0))) + rec(U, frame(0x103, 9, words(0, 0)))
    + rec(4, bytes([110, 110])) + CTRL_SHIFT_V,
    "override_redirect": rec(U, frame(0x101, 1, words(0, 0, 800, 600, 0, 1))) + rec(U, frame(0x103, 1, words(0, 1)))
    + rec(U, frame(0x301, 1, words(700, 500, 800, 600, 1))),
    "window_flood": b"".join(rec(U, frame(0x101, i, words(0, 0, 10, 10, 0, 0))) for i in range(1, 12)),
    "damage_flood": rec(W, CREATE) + rec(W, MAP) + rec(W, DAMAGE) * 40 + rec(7) + rec(0x7F),
    "spoof_title": rec(U, frame(0x101, 1, words(0, 0, 10, 10, 0, 0))) + rec(U, frame(0x103, 1, words(0, 0)))
    + rec(U, TITLE_HOSTILE.replace(struct.pack("<I", 0x400001), struct.pack("<I", 1), 1)),
}
os.makedirs(DROOT, exist_ok=True)
for name, data in desktop_seeds.items():
    with open(os.path.join(DROOT, name), "wb") as f:
        f.write(data)
print(f"{len(desktop_seeds)} seeds in {DROOT}")

# gui_frame_reader: [flags][chunk] + stream (flags as gui_stream's byte 0; chunk 0 = all at once).
RROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus", "gui_frame_reader")
reader_seeds = {
    "guest_session_bytewise": bytes([GUEST, 1]) + seeds["guest_session"][1:],
    "guest_session_chunks7": bytes([GUEST, 7]) + seeds["guest_session"][1:],
    "guest_session_whole": bytes([GUEST, 0]) + seeds["guest_session"][1:],
    "daemon_session": bytes([DAEMON, 13]) + seeds["daemon_session"][1:],
    "before_hello": bytes([GUEST, 0]) + UNMAP,
    "major_2": bytes([GUEST, 0]) + frame(0x001, 0, struct.pack("<HHI", 2, 0, 0)),
    "clip_over_tight_cap": bytes([GUEST | TIGHT, 5]) + HELLO + frame(0x302, 0, b"y" * 17),
    "truncated": bytes([GUEST, 3]) + HELLO + CREATE[:-4],
}
os.makedirs(RROOT, exist_ok=True)
for name, data in reader_seeds.items():
    with open(os.path.join(RROOT, name), "wb") as f:
        f.write(data)
print(f"{len(reader_seeds)} seeds in {RROOT}")
