#!/usr/bin/python3
"""corrupt_ref.py: images with known answers under the robustness protocol's
corruptions (PAPER.md section 5), and the check of us-corrupt's output.

  corrupt_ref.py make IMAGES            write the test images stream
  corrupt_ref.py check KIND E IN OUT    check OUT = us-corrupt --kind KIND --severity E IN

The expected values are computed here from the formulas, independently of
lib/corrupt.c: blur as a sum of Gaussian taps over a step edge, contrast
around a median worked out by hand, speckle by the statistics of I'/I - 1."""
import math
import sys

import msgpack
import msgpack_numpy
import numpy as np

S = 64


def records():
    x = np.arange(S)[None, :].repeat(S, axis=0)
    ones = np.ones((S, S), np.uint8)
    half = (x < 32).astype(np.uint8)
    rng = np.random.default_rng(7)
    base = {"label": 0, "class": "a", "group": "g", "note": "kept"}
    yield dict(base, id="flat", split="test", image=np.full((S, S), 100, np.uint8), region=ones)
    yield dict(base, id="step", split="test", image=np.where(x < 32, 0, 255).astype(np.uint8), region=ones)
    # inside the region (left half) 40, 60, 80, 100 in equal numbers: median 70; outside 200
    ramp = np.where(x < 32, 40 + 20 * (x % 4), 200).astype(np.uint8)
    yield dict(base, id="ramp", split="test", image=ramp, region=half)
    for split in ("train", "val"):
        yield dict(base, id="other-" + split, split=split,
                   image=rng.integers(0, 256, (S, S), dtype=np.uint8), region=ones)


def make(path):
    pk = msgpack.Packer(default=msgpack_numpy.encode, use_bin_type=True)
    recs = list(records())
    with open(path, "wb") as f:
        f.write(pk.pack({"usjepa": 1, "kind": "images", "producer": {"tool": "corrupt_ref.py", "version": "1"},
                         "meta": {"size": S, "note": "corrupt_ref"}}))
        for r in recs:
            f.write(pk.pack(r))
        f.write(pk.pack({"usjepa_end": len(recs)}))


def read(path):
    objs = list(msgpack.Unpacker(open(path, "rb"), object_hook=msgpack_numpy.decode, raw=False))
    return objs[0], {o["id"]: o for o in objs[1:-1]}


def gauss_taps(sigma):
    """the protocol's kernel: 2 floor(2 sigma) + 1 taps, normalised"""
    R = int(math.floor(2 * sigma))
    w = np.exp(-0.5 * np.arange(-R, R + 1) ** 2 / sigma ** 2)
    return w / w.sum(), R


def phi(z):
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def check_blur(e, got):
    k, R = gauss_taps(e)
    # a vertical step: each row is blurred alone (the column blur sees constant columns)
    want = np.array([255 * sum(k[t + R] for t in range(-R, R + 1) if min(max(x + t, 0), S - 1) >= 32)
                     for x in range(S)])
    step = got["step"]["image"].astype(float)
    assert np.abs(step - want[None, :]).max() <= 0.5 + 1e-3, (step[0], want)
    assert R == int(2 * e) and len(k) == 2 * int(2 * e) + 1
    assert (got["flat"]["image"] == 100).all()


def check_contrast(e, got):
    alpha = {1: 0.7, 2: 0.5, 3: 0.3}[e]
    assert (got["flat"]["image"] == 100).all(), "a constant image stays constant"
    x = np.arange(S)
    ramp = np.where(x < 32, 70 + alpha * (40 + 20 * (x % 4) - 70), 70 + alpha * (200 - 70))
    assert np.abs(got["ramp"]["image"].astype(float) - ramp[None, :]).max() <= 0.5 + 1e-3
    step = np.where(x < 32, 127.5 - alpha * 127.5, 127.5 + alpha * 127.5)
    assert np.abs(got["step"]["image"].astype(float) - step[None, :]).max() <= 0.5 + 1e-3


def check_speckle(e, got):
    sd = 0.35 * e
    img = got["flat"]["image"].astype(float)
    n = img / 100 - 1
    zeros = (img == 0).mean()
    # clipped at 0 where n < -1
    assert abs(zeros - phi(-1 / sd)) < 0.03, (zeros, phi(-1 / sd))
    if e == 1:  # clipping is negligible (n < -1 is 2.9 sd): the noise itself shows
        assert abs(n.mean()) < 0.03, n.mean()
        assert abs(n.std() - sd) < 0.02, n.std()
        # correlated by a Gaussian of sigma e/2 (2 floor(e) + 1 taps): neighbours
        # correlate as the kernel overlaps itself
        k, R = gauss_taps(e / 2)
        assert len(k) == 2 * int(e) + 1
        want = (k[1:] * k[:-1]).sum() / (k * k).sum()
        c = np.corrcoef(n[:, 1:].ravel(), n[:, :-1].ravel())[0, 1]
        assert abs(c - want) < 0.05, (c, want)


def check(kind, e, src, dst):
    hin, before = read(src)
    hout, got = read(dst)
    assert hout["kind"] == "images"
    meta = hout["meta"]
    c = meta["corruption"]
    assert (c["kind"], c["severity"], c["splits"], c["name"]) == (kind, e, ["test"], "%s-%d" % (kind, e)), c
    assert meta["input"] == hin["meta"]
    assert list(got) == list(before), "every record, in order"
    for i, r in before.items():
        assert list(got[i]) == list(r), "every field, in order"
        for f in r:
            same = np.array_equal(got[i][f], r[f]) if isinstance(r[f], np.ndarray) else got[i][f] == r[f]
            assert same or (f == "image" and r["split"] == "test"), (i, f)
    assert not np.array_equal(got["step"]["image"], before["step"]["image"])
    {"blur": check_blur, "contrast": check_contrast, "speckle": check_speckle}[kind](e, got)


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        check(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
