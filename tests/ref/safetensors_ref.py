"""safetensors_ref.py: the reference side of the C/Python safetensors tests.

Run with Debian's /usr/bin/python3 (python3-numpy, python3-torch). Debian has
no python3-safetensors, so the format is written and read here by hand with
struct and json, from the format's description: an independent
implementation of the same bytes.

  safetensors_ref.py write PATH   write the reference file (F32, F16, BF16,
                                  I64, a scalar, an empty tensor) to PATH
  safetensors_ref.py check PATH   read PATH, written by tests/unit/test_weights.c,
                                  and exit 1 unless it holds exactly the C
                                  side's tensors, in order, with its metadata

tests/unit/test_weights.c holds the same values; the two must change together.
"""
import json
import struct
import sys

import numpy as np
import torch

# name -> (safetensors dtype, shape, values), in file order
WRITTEN = [
    ("blocks.0.attn.qkv.weight", "F32", (2, 3), [0.0, -1.5, 3.25, 1e-3, 3.4028234663852886e38, -0.0]),
    ("pos_embed", "F16", (1, 2, 2), [1.0, -2.5, 65504.0, 2.0 ** -24]),
    # 0.1 is not a bfloat16: torch rounds it to 0.10009765625
    ("cls_token", "BF16", (1, 1, 6), [1.0, -2.5, 3.140625, 2.0 ** -130, float("inf"), 0.1]),
    ("step", "I64", (4,), [-2 ** 63, -1, 0, 2 ** 63 - 1]),
    ("scale", "F32", (), [7.0]),
    ("empty", "F32", (0, 3), []),
]
WRITTEN_META = {"format": "pt", "source": "safetensors_ref.py"}

# what test_weights.c writes
EXPECTED = [
    ("patch_embed.proj.weight", "F32", (2, 3, 2, 2), [i * 0.25 - 3 for i in range(24)]),
    ("patch_embed.proj.bias", "F16", (2,), [0.5, -0.0]),
    ("ids", "I64", (3,), [-2 ** 63, 42, 2 ** 63 - 1]),
    ("mask", "U8", (3,), [0, 1, 255]),
    ("pi", "F64", (), [3.141592653589793]),
    ("none", "F32", (0,), []),
]
EXPECTED_META = {"format": "pt", "by": "test_weights"}

TORCH = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
         "F64": torch.float64, "I64": torch.int64, "U8": torch.uint8}


def tensor(dtype, shape, values):
    return torch.tensor(values, dtype=TORCH[dtype]).reshape(shape)


def write(path):
    header, blobs, offset = {"__metadata__": WRITTEN_META}, [], 0
    for name, dtype, shape, values in WRITTEN:
        t = tensor(dtype, shape, values)
        # numpy has no bfloat16: take the raw 16-bit words
        raw = (t.view(torch.int16) if dtype == "BF16" else t).numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def fail(msg):
    print("safetensors_ref.py: " + msg, file=sys.stderr)
    sys.exit(1)


def check(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    text = data[8:8 + n]
    if n % 8 or len(text) != n:
        fail("header length %d is not a multiple of 8 within the file" % n)
    if text.rstrip(b" ") != text.rstrip():
        fail("the header is padded with something other than spaces")
    header = json.loads(text, object_pairs_hook=lambda kv: kv)  # keep the order
    meta = [v for k, v in header if k == "__metadata__"]
    if not meta or dict(meta[0]) != EXPECTED_META:
        fail("metadata %r, expected %r" % (meta, EXPECTED_META))
    entries = [(k, dict(v)) for k, v in header if k != "__metadata__"]
    if [k for k, _ in entries] != [e[0] for e in EXPECTED]:
        fail("tensors %r, expected %r" % ([k for k, _ in entries], [e[0] for e in EXPECTED]))
    buf, offset = data[8 + n:], 0
    for (name, e), (_, dtype, shape, values) in zip(entries, EXPECTED):
        begin, end = e["data_offsets"]
        if e["dtype"] != dtype or tuple(e["shape"]) != shape or begin != offset:
            fail("%s: %r, expected %s %r at %d" % (name, e, dtype, shape, offset))
        raw = buf[begin:end]
        got = torch.frombuffer(bytearray(raw), dtype=TORCH[dtype]) if raw else torch.empty(0, dtype=TORCH[dtype])
        want = tensor(dtype, shape, values)
        # compare bits, so that -0.0 and 0.0 differ
        if got.numel() != want.numel() or raw != want.numpy().tobytes():
            fail("%s: values %r, expected %r" % (name, got.tolist(), want.flatten().tolist()))
        offset = end
    if offset != len(buf):
        fail("%d bytes after the last tensor" % (len(buf) - offset))


if __name__ == "__main__":
    assert sys.byteorder == "little", "safetensors data is little-endian: run on a little-endian host"
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "check"):
        fail("usage: safetensors_ref.py write|check PATH")
    (write if sys.argv[1] == "write" else check)(sys.argv[2])
