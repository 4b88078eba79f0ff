#!/usr/bin/python3
"""phantom_difficulty.py US_PHANTOM [TASK...]: for each task, the macro-F1 of a
logistic regression on 16 x 16 block-averaged raw pixels, trained on 1000
phantom images (seed 1) and tested on 500 others (seed 2). Prints one line per
task, "TASK F1", and exits 1 if any F1 exceeds 0.90: a task a linear model on
pixels already solves says nothing about self-supervised features."""
import subprocess
import sys

import msgpack
import msgpack_numpy
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.preprocessing import StandardScaler

TASKS = ["liver-mass", "breast", "sites", "fatty-liver", "gallbladder", "ovary", "lung", "thyroid"]
LIMIT = 0.90


def load(tool, task, n, seed):
    out = subprocess.run([tool, "--task", task, "-n", str(n), "--seed", str(seed), "--size", "128",
                          "--stream"], check=True, stdout=subprocess.PIPE).stdout
    xs, ys = [], []
    for obj in unpack(out):
        img = np.asarray(obj["image"], dtype=np.float64)
        xs.append(img.reshape(16, 8, 16, 8).mean(axis=(1, 3)).ravel())
        ys.append(obj["label"])
    return np.array(xs), np.array(ys)


def unpack(data):
    u = msgpack.Unpacker(object_hook=msgpack_numpy.decode, raw=False, max_buffer_size=len(data) + 1)
    u.feed(data)
    for obj in u:
        if "usjepa" not in obj and "usjepa_end" not in obj:
            yield obj


def main():
    tool = sys.argv[1]
    tasks = sys.argv[2:] or TASKS
    worst = 0.0
    for task in tasks:
        xtr, ytr = load(tool, task, 1000, 1)
        xte, yte = load(tool, task, 500, 2)
        scaler = StandardScaler().fit(xtr)
        model = LogisticRegression(max_iter=5000).fit(scaler.transform(xtr), ytr)
        f1 = f1_score(yte, model.predict(scaler.transform(xte)), average="macro")
        worst = max(worst, f1)
        print("%-12s %.3f" % (task, f1), flush=True)
    sys.exit(1 if worst > LIMIT else 0)


if __name__ == "__main__":
    main()
