#!/usr/bin/env python3
"""Writes the seed corpora of the qrexec fuzz targets into tests/fuzz/corpus/qrexec_*/.

Frames are laid out by hand from Qubes' qrexec.h structs (not with our encoder), so the
seeds also cross-check FrameWriter. Each per-message target gets valid frames, truncated
ones and oversized ones (lengths past the message's limit and near 4 GiB)."""
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus")


def hdr(t, n):
    return struct.pack("<II", t, n)


def frame(t, payload):
    return hdr(t, len(payload)) + payload


def field(s, n):
    b = s.encode()
    return b + b"\0" * (n - len(b))


def exec_params(dom, port, cmd):
    return struct.pack("<II", dom, port) + cmd.encode() + b"\0"


HELLO = lambda v: frame(0x300, struct.pack("<I", v))
EXEC = frame(0x200, exec_params(0, 513, "user:echo hi"))
EXEC_RPC = frame(0x200, exec_params(3, 514, "user:QUBESRPC qubes.Filecopy+ work"))
JUST = frame(0x201, exec_params(7, 600, "root:nogui:true"))
CONNECT = frame(0x202, struct.pack("<II", 4, 514) + field("SOCKET7", 32))
REFUSED = frame(0x203, field("42", 32))
TRIGGER2 = frame(0x210, field("qubes.Filecopy", 64) + field("personal", 32) + field("1", 32))
TRIGGER3 = frame(0x212, field("@default", 64) + field("SOCKET12", 32) + b"qubes.Filecopy+arg1\0")
TRIGGER4 = frame(0x213, field("", 64) + field("work", 64) + field("3", 32) + b"qubes.Foo\0")
TRIGGER4_SRC = frame(0x213, field("vault", 64) + field("@dispvm:dvm", 64) + field("9", 32) + b"qubes.OpenInVM\0")
TERMINATED = frame(0x211, struct.pack("<II", 0, 515))
STDIN = frame(0x190, b"hello\n")
STDOUT = frame(0x191, bytes(range(256)))
STDERR = frame(0x192, b"oops")
EOF_IN = frame(0x190, b"")
BIG = frame(0x191, b"x" * 65536)
EXIT = frame(0x193, struct.pack("<I", 127))

PER_TYPE = {
    "hello": [HELLO(2), HELLO(3), HELLO(4), HELLO(1), HELLO(0xFFFFFFFF)],
    "exec": [EXEC, EXEC_RPC, JUST, frame(0x200, exec_params(0, 1, "u:" + "x" * 65532))],
    "service_connect": [CONNECT],
    "service_refused": [REFUSED],
    "trigger_service": [TRIGGER2],
    "trigger_service3": [TRIGGER3, frame(0x212, field("work", 64) + field("1", 32) + b"a\0")],
    "trigger_service4": [TRIGGER4, TRIGGER4_SRC],
    "connection_terminated": [TERMINATED],
    "data": [STDIN, STDOUT, STDERR, EOF_IN, BIG, frame(0x190, b"y" * 4096)],
    "exit_code": [EXIT, frame(0x193, struct.pack("<I", 0)), frame(0x193, b"\xff\xff\xff\xff")],
}
OVERSIZED_LENS = [65536 + 1, 65543, 0x7FFFFFFF, 0x80000000, 0xFFFFFFF8, 0xFFFFFFFF]


def variants(f):
    """The frame, truncated ones, and oversized ones."""
    out = {"valid": f, "trunc_payload": f[:-1], "trunc_header": f[:5], "header_only": f[:8]}
    t = struct.unpack("<I", f[:4])[0]
    for n in OVERSIZED_LENS:
        out["len_%x" % n] = hdr(t, n) + f[8:]
    for n in (0, 4, 7):  # shorter than most fixed parts (exec_params, idents)
        out["short_%d" % n] = hdr(t, n) + f[8:8 + n]
    out["len_plus1"] = hdr(t, len(f) - 8 + 1) + f[8:] + b"\0"
    out["trailing"] = f + b"\0"
    return out


def write(target, name, data):
    d = os.path.join(ROOT, "qrexec_" + target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as fh:
        fh.write(data)


def main():
    # Regenerates the seeds; crash regressions (regress_*) found by fuzzing are kept.
    for d in os.listdir(ROOT) if os.path.isdir(ROOT) else []:
        if d.startswith("qrexec_"):
            for f in os.listdir(os.path.join(ROOT, d)):
                if not f.startswith("regress_"):
                    os.remove(os.path.join(ROOT, d, f))
    for target, frames in PER_TYPE.items():
        for i, f in enumerate(frames):
            vs = variants(f) if len(f) < 1024 or i == 0 else {"valid": f}
            for k, v in vs.items():
                write(target, "%d_%s" % (i, k), v)

    # qrexec_header: [expect][version][cap] + 8 header bytes (cap odd = max_frame).
    expect = {0x300: 1, 0x200: 0, 0x201: 0, 0x202: 0, 0x203: 0, 0x210: 1, 0x211: 1,
              0x212: 1, 0x213: 1, 0x190: 2, 0x191: 2, 0x192: 2, 0x193: 2}
    for f in [HELLO(3), EXEC, JUST, CONNECT, REFUSED, TRIGGER2, TRIGGER3, TRIGGER4, TERMINATED,
              STDIN, BIG, EXIT]:
        t = struct.unpack("<I", f[:4])[0]
        version = 0 if t == 0x300 else (4 if t == 0x213 else 3)
        write("header", "%x_valid" % t, bytes([expect[t], version, 1]) + f[:8])
        write("header", "%x_huge" % t, bytes([expect[t], version, 1]) + hdr(t, 0xFFFFFFFF))
        write("header", "%x_smallcap" % t, bytes([expect[t], version, 64]) + f[:8])
        write("header", "%x_wrongchan" % t, bytes([(expect[t] + 1) % 3, version, 1]) + f[:8])
    write("header", "unknown", bytes([0, 3, 1]) + hdr(0x204, 0))
    write("header", "short", bytes([0, 3, 1]) + hdr(0x200, 9)[:7])

    # qrexec_frame_reader: [mode][n][n chunk sizes] + stream; mode%3 = channel, (mode/3)&1 = 256 B cap.
    streams = {
        "daemon": (0, HELLO(3) + EXEC + JUST + CONNECT + REFUSED + EXEC_RPC),
        "daemon_v2": (0, HELLO(2) + EXEC + REFUSED),
        "agent": (1, HELLO(3) + TRIGGER3 + TRIGGER2 + TERMINATED),
        "agent_v4": (1, HELLO(4) + TRIGGER3 + TRIGGER4),
        "data": (2, HELLO(3) + STDIN + STDOUT + STDERR + EOF_IN + EXIT),
        "data_big": (2, HELLO(3) + BIG + BIG[:9000]),
        "data_v2": (2, HELLO(2) + frame(0x191, b"z" * 4096) + EXIT),
        "no_hello": (0, EXEC),
        "hello_twice": (2, HELLO(3) + HELLO(3)),
        "hello_v1": (1, HELLO(1)),
        "huge_len": (2, HELLO(3) + hdr(0x191, 0xFFFFFFFF) + b"abc"),
        "truncated": (0, HELLO(3) + EXEC[:-3]),
        # Shorter than the fixed part (exec_params: the v1 over-read), then a valid frame.
        "short_exec": (0, HELLO(3) + hdr(0x200, 4) + b"\0" * 4 + EXEC),
        "short_trigger3": (1, HELLO(3) + hdr(0x212, 96) + b"\0" * 96),
    }
    chunkings = {"whole": [], "bytes": [1], "mixed": [1, 7, 100, 3], "big": [255, 200]}
    for name, (mode, s) in streams.items():
        for cname, sizes in chunkings.items():
            if len(s) > 4096 and sizes != [255, 200]:
                continue  # keep the corpus small: one chunking of the big streams
            write("frame_reader", "%s_%s" % (name, cname), bytes([mode, len(sizes)] + sizes) + s)
        write("frame_reader", "%s_smallcap" % name, bytes([mode + 3, 2, 5, 50]) + s)


if __name__ == "__main__":
    main()
