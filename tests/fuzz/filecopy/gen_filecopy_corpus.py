#!/usr/bin/env python3
"""Writes the seed corpora for the filecopy fuzz targets (tests/fuzz/corpus/filecopy_*)."""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "corpus")
S_IFREG, S_IFDIR, S_IFLNK = 0o100000, 0o040000, 0o120000


def hdr(name, mode, filelen, t=1700000000):
    n = name.encode() + b"\0" if isinstance(name, str) else name
    return struct.pack("<IIQIIII", len(n), mode, filelen, t, 1, t, 2) + n


def entry(name, mode, data=b""):
    return hdr(name, mode, len(data)) + data


END = b"\0" * 32


def streams():
    d = S_IFDIR | 0o755
    f = S_IFREG | 0o644
    l = S_IFLNK | 0o777
    yield "01-one-file", entry("a.txt", f, b"hello") + END
    yield "02-tree", (entry("dir", d) + entry("dir/sub", d) + entry("dir/sub/f", f, b"x" * 100)
                      + entry("dir/sub", d) + entry("dir/empty", f) + entry("dir/link", l, b"sub/f")
                      + entry("dir/up", l, b"../dir") + entry("dir", d) + END)
    yield "03-empty", END
    yield "04-dotdot", entry("../evil", f, b"x") + END
    yield "05-absolute", entry("/etc/evil", f, b"x") + END
    yield "06-symlink-escape", entry("l", l, b"../../etc") + END
    yield "07-through-planted-link", entry("escape/x", f, b"x") + END
    yield "08-cut-mid-file", entry("big", f, b"y" * 1000)[:-500]
    yield "09-fifo", hdr("p", 0o010644, 0) + END
    yield "10-bad-utf8", entry(b"\xff\xfe\0", f) + END
    yield "11-control", entry("a\nb", f) + END
    yield "12-existing", entry("a", f, b"1") + entry("a", f, b"2") + END
    yield "13-dir-then-file", entry("d", d) + entry("d/f", f, b"z") + entry("d", S_IFDIR | 0o500) + END
    yield "14-double-slash", entry("a//b", f) + END
    yield "15-nsec", struct.pack("<IIQIIII", 2, f, 0, 0, 1000000000, 0, 0) + b"a\0" + END
    yield "16-no-nul", struct.pack("<IIQIIII", 1, f, 0, 0, 0, 0, 0) + b"a" + END


def replies():
    yield "01-ok", struct.pack("<IIQ", 0, 0, 0x1234) + struct.pack("<I", 5) + b"dir/f"
    yield "02-eexist", struct.pack("<IIQ", 17, 0, 0) + struct.pack("<I", 3) + b"a\x1b\""
    yield "03-bare", struct.pack("<IIQ", 31415926, 0, 0)
    yield "04-huge-len", struct.pack("<IIQ", 5, 0, 0) + struct.pack("<I", 0xFFFFFFFF) + b"x"


def write(target, items):
    out = os.path.join(CORPUS, target)
    os.makedirs(out, exist_ok=True)
    for name, data in items:
        with open(os.path.join(out, name), "wb") as fh:
            fh.write(data)


if __name__ == "__main__":
    write("filecopy_stream", streams())
    write("filecopy_unpack", streams())
    write("filecopy_reply", replies())
    sys.exit(0)
