#!/usr/bin/python3
"""probe_data.py OUT MODE [C D TRAIN VAL TEST SEED]: a features stream, as
us-teacher-encode --pool mean writes one, for the us-probe tests.

MODE separable: class k's features are 10 e_k plus standard normal noise in
D >= C dimensions (linearly separable with near certainty); random: standard
normal features with labels drawn at random (nothing to learn). TRAIN, VAL
and TEST are records per class and split (default 3 8 40 10 20 0). The meta
names a model (path runs/student-b.usj, a checksum) and the input dataset and
classes; records carry id, label, class, split and feature <f4 (D)."""
import sys

import msgpack
import msgpack_numpy
import numpy as np


def main():
    out, mode = sys.argv[1], sys.argv[2]
    C, D, ntr, nva, nte, seed = (list(map(int, sys.argv[3:9])) + [3, 8, 40, 10, 20, 0][len(sys.argv) - 3:])[:6]
    rng = np.random.RandomState(seed)
    classes = ["class%d" % k for k in range(C)]
    recs = []
    for split, n in (("train", ntr), ("val", nva), ("test", nte)):
        for k in range(C):
            for i in range(n):
                x = rng.normal(size=D)
                label = k
                if mode == "separable":
                    x[k] += 10
                else:
                    label = rng.randint(C)
                recs.append({"id": "%s/%s/%d" % (split, classes[k], i), "label": label, "class": classes[label],
                             "split": split, "feature": x.astype("<f4")})
    order = rng.permutation(len(recs))
    pk = msgpack.Packer(default=msgpack_numpy.encode, use_bin_type=True)
    meta = {"model": {"path": "runs/student-b.usj", "format": "checkpoint", "checksum": "0123456789abcdef"},
            "output": "mean-pooled feature", "input": {"dataset": "synthetic", "classes": classes}}
    with open(out, "wb") as f:
        f.write(pk.pack({"usjepa": 1, "kind": "features", "producer": {"tool": "probe_data.py", "version": "1"},
                         "meta": meta}))
        for i in order:
            f.write(pk.pack(recs[i]))
        f.write(pk.pack({"usjepa_end": len(recs)}))


main()
