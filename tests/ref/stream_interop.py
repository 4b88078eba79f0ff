"""stream_interop.py: the reference side of the C/Python stream tests.

Run with Debian's /usr/bin/python3 (python3-msgpack, python3-numpy,
python3-msgpack-numpy 0.4.8):

  stream_interop.py write PATH   write the reference stream to PATH
  stream_interop.py check PATH   read PATH, one or more concatenated streams,
                                 and exit 1 unless each holds exactly the
                                 reference header meta, records and summary
  stream_interop.py seeds DIR    write small valid streams for the fuzz corpus

Arrays go through msgpack_numpy.encode and decode, exactly as a Python client
of usjepa would send and receive them. tests/unit/test_interop.c builds the
same values in C; the two must change together.
"""
import math
import os
import sys

import msgpack
import msgpack_numpy
import numpy as np

KIND = "interop"
META = {"source": "stream_interop", "count": 3, "scale": 0.5, "tags": ["a", "b"]}
SUMMARY = {"records": 3, "ok": True}

INF = math.inf
NAN = math.nan


def records():
    """The reference records, in field order."""
    dtypes = {
        "id": "dtypes",
        "b1": np.array([True, False, False, True], "|b1"),
        "u1": np.array([0, 1, 127, 128, 255], "|u1"),
        "i1": np.array([-128, -1, 0, 1, 127], "|i1"),
        "u2": np.array([0, 1, 32768, 65535], "<u2"),
        "i2": np.array([-32768, -1, 0, 32767], "<i2"),
        # zero, -0, normals, the largest half, subnormals (smallest, largest,
        # 2^-15), infinities and a quiet nan
        "f2": np.array([0.0, -0.0, 1.0, -2.5, 65504.0, 2.0**-24, 2.0**-14 - 2.0**-24,
                        2.0**-15, INF, -INF, NAN], "<f2"),
        "u4": np.array([0, 1, 2**31, 2**32 - 1], "<u4"),
        "i4": np.array([-2**31, -1, 0, 2**31 - 1], "<i4"),
        # zero, the largest float, the smallest normal and subnormal
        "f4": np.array([0.0, -1.5, 3.4028234663852886e38, 2.0**-126, 2.0**-149, 1e10,
                        INF, -INF, NAN], "<f4"),
        "u8": np.array([0, 1, 2**63, 2**64 - 1], "<u8"),
        "i8": np.array([-2**63, -1, 0, 2**63 - 1], "<i8"),
        "f8": np.array([0.1, -1e308, 2.0**-1074, 2.0**-1022, -0.0, INF, NAN, math.pi], "<f8"),
    }
    ranks = {
        "id": "ranks",
        "rank0": np.array(-3.5),  # float64, shape ()
        "rank2": np.array([[-3, -2, -1], [0, 1, 2]], "<i2"),
        "rank3": ((np.arange(24, dtype="<f4") - 12) * np.float32(0.25)).reshape(2, 3, 4),
        "empty": np.zeros((2, 0, 3), "<i8"),
        "empty1": np.zeros((0,), "|u1"),
        # not C-contiguous: msgpack_numpy sends tobytes(), row-major [[0,3],[1,4],[2,5]]
        "transposed": np.arange(6, dtype="<i4").reshape(2, 3).T,
        # 400 bytes: a bin16 payload; uint16 arithmetic wraps
        "ramp": (np.arange(200, dtype="<u2") * np.uint16(331)).reshape(10, 20),
    }
    scalars = {
        "id": "scalars",
        "int": 42,
        "negative": -123456789012,
        "u64max": 2**64 - 1,
        "i64min": -2**63,
        "float": math.pi,
        "tiny": -2.5e-300,
        "true": True,
        "false": False,
        "str": "h\u00e9llo, w\u00f6rld \u2713",
        "empty_str": "",
        "none": None,
        "bytes": b"\x00\x01\xfe\xff",
        "ext": msgpack.ExtType(5, b"xyz"),
        "list": [1, -2, "three", [4.5, None, False]],
        "map": {"a": 1, "b": {"c": [True, "d"]}, "e": -0.25},
        "np_int64": np.int64(7),
        "np_float32": np.float32(0.5),
    }
    return [dtypes, ranks, scalars]


def write(path):
    packer = msgpack.Packer(default=msgpack_numpy.encode, use_bin_type=True)
    recs = records()
    header = {"usjepa": 1, "kind": KIND,
              "producer": {"tool": "stream_interop.py", "version": "1"}, "meta": META}
    with open(path, "wb") as f:
        f.write(packer.pack(header))
        for rec in recs:
            f.write(packer.pack(rec))
        f.write(packer.pack({"usjepa_end": len(recs), "summary": SUMMARY}))


def same(got, want):
    """Equal in value and in type; arrays in dtype, shape and bytes (so nan,
    -0.0 and fp16 bits count)."""
    if isinstance(want, np.ndarray):
        return (type(got) is np.ndarray and got.dtype.str == want.dtype.str
                and got.shape == want.shape and got.tobytes() == want.tobytes())
    if isinstance(want, np.generic):
        return type(got) is type(want) and got.tobytes() == want.tobytes()
    if type(got) is not type(want):
        return False
    if isinstance(want, dict):
        return (list(got) == list(want)
                and all(same(got[k], want[k]) for k in want))
    if isinstance(want, list):
        return len(got) == len(want) and all(same(g, w) for g, w in zip(got, want))
    return got == want


def describe(v):
    if isinstance(v, np.ndarray):
        return "array dtype %s shape %s bytes %s" % (v.dtype.str, v.shape, v.tobytes().hex())
    return "%s %r" % (type(v).__name__, v)


class Mismatch(Exception):
    pass


def expect(cond, fmt, *args):
    if not cond:
        raise Mismatch(fmt % args)


def check_map(where, got, want):
    expect(isinstance(got, dict), "%s: not a map: %s", where, describe(got))
    expect(list(got) == list(want), "%s: keys %s, want %s", where, list(got), list(want))
    for k in want:
        expect(same(got[k], want[k]), "%s, field %r: got %s, want %s",
               where, k, describe(got[k]), describe(want[k]))


def check_segment(objects, segment):
    """Check one stream from the iterator objects; the header is read already."""
    want = records()
    for i, rec in enumerate(want):
        got = next(objects, None)
        expect(got is not None, "stream %d ends after %d records, want %d", segment, i, len(want))
        check_map("stream %d, record %d" % (segment, i + 1), got, rec)
    trailer = next(objects, None)
    expect(isinstance(trailer, dict) and "usjepa_end" in trailer,
           "stream %d: no trailer after record %d: %s", segment, len(want), describe(trailer))
    expect(trailer["usjepa_end"] == len(want), "stream %d: trailer counts %r records, want %d",
           segment, trailer["usjepa_end"], len(want))
    check_map("stream %d, summary" % segment, trailer.get("summary"), SUMMARY)


def check(path):
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        unpacker = msgpack.Unpacker(f, object_hook=msgpack_numpy.decode, raw=False)
        objects = iter(unpacker)
        segment = 0
        for header in objects:
            segment += 1
            expect(isinstance(header, dict), "stream %d: header is %s", segment, describe(header))
            expect(header.get("usjepa") == 1, "stream %d: header version %r", segment, header.get("usjepa"))
            expect(header.get("kind") == KIND, "stream %d: kind %r, want %r", segment, header.get("kind"), KIND)
            producer = header.get("producer")
            expect(isinstance(producer, dict) and isinstance(producer.get("tool"), str)
                   and isinstance(producer.get("version"), str),
                   "stream %d: producer is %s", segment, describe(producer))
            check_map("stream %d, meta" % segment, header.get("meta"), META)
            check_segment(objects, segment)
        expect(segment > 0, "no stream in %s", path)
        # Iteration stops quietly at a cut object: all bytes must be used.
        expect(unpacker.tell() == size, "%d bytes left over after stream %d", size - unpacker.tell(), segment)


def seeds(directory):
    """Small valid streams for tests/fuzz/stream.corpus."""
    packer = msgpack.Packer(default=msgpack_numpy.encode, use_bin_type=True)

    def stream(kind, recs, summary=None):
        out = packer.pack({"usjepa": 1, "kind": kind,
                           "producer": {"tool": "stream_interop.py", "version": "1"}, "meta": {}})
        out += b"".join(packer.pack(r) for r in recs)
        trailer = {"usjepa_end": len(recs)}
        if summary is not None:
            trailer["summary"] = summary
        return out + packer.pack(trailer)

    small = stream("images", [{"id": "a", "label": 1, "image": np.arange(12, dtype="|u1").reshape(3, 2, 2)}])
    files = {
        "empty.usj": stream("images", []),
        "small.usj": small,
        "concat.usj": small + small,
        "ranks.usj": stream("embeddings", [records()[1]], {"n": 1}),
        "scalars.usj": stream("table", [records()[2]]),
        "dtypes.usj": stream("table", [records()[0]]),
    }
    for name, data in files.items():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)


def main(argv):
    if len(argv) != 3 or argv[1] not in ("write", "check", "seeds"):
        sys.stderr.write("usage: stream_interop.py write|check PATH, or seeds DIR\n")
        return 2
    try:
        {"write": write, "check": check, "seeds": seeds}[argv[1]](argv[2])
    except Mismatch as e:
        sys.stderr.write("stream_interop.py: %s: %s\n" % (argv[2], e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
