#!/usr/bin/python3
"""report_results.py: fixed results streams for us-report's golden test, and
an independent check of the report's numbers.

  report_results.py write DIR    DIR/part1.usj, DIR/part2.usj: results records as us-probe
                                 writes them, with holes (a model without a task, a cell
                                 of one seed, a missing fraction, models without
                                 corrupted sets)
  report_results.py check REPORT every mean, std and count of REPORT/*.csv recomputed here
                                 from the records with the statistics module"""
import csv
import os
import statistics
import sys

import msgpack
import msgpack_numpy
import numpy as np

MODELS = ["US-JEPA", "URFM", "I-JEPA"]
TASKS = ["AUL", "POCUS", "Fatty Liver"]
BASE = {  # macro-F1 at 100 % on the clean test split, before the seed's wobble
    ("US-JEPA", "AUL"): 0.70, ("URFM", "AUL"): 0.66, ("I-JEPA", "AUL"): 0.61,
    ("US-JEPA", "POCUS"): 0.93, ("URFM", "POCUS"): 0.92, ("I-JEPA", "POCUS"): 0.88,
    ("US-JEPA", "Fatty Liver"): 0.82, ("URFM", "Fatty Liver"): 0.83,
}
FRACTIONS = [1.0, 10.0, 100.0]
SEEDS = [0, 1, 2]
WOBBLE = [0.012, -0.008, -0.004]  # by seed
LOSS = {1.0: 0.20, 10.0: 0.07, 100.0: 0.0}  # by fraction
DROP = {"blur-1": 0.01, "blur-3": 0.06, "speckle-3": 0.03}  # by corrupted set, times the model's factor
FACTOR = {"US-JEPA": 1.0, "URFM": 3.0}


def probes():
    """every (model, task, fraction, eval, seed, macro_f1) of the fixture"""
    for (m, t), base in BASE.items():
        for frac in FRACTIONS:
            if m == "I-JEPA" and t == "AUL" and frac == 1.0:
                continue  # a missing few-shot cell
            seeds = [0] if (m, t) == ("URFM", "POCUS") else SEEDS  # a cell of one seed
            for s in seeds:
                f1 = base - LOSS[frac] + WOBBLE[s] * (1 + MODELS.index(m))
                yield m, t, frac, "test", s, f1
                if frac == 100.0 and m in FACTOR:
                    for ev, d in DROP.items():
                        if ev == "speckle-3" and t != "AUL":
                            continue
                        yield m, t, frac, ev, s, f1 - d * FACTOR[m] - 0.002 * s


def record(m, t, frac, ev, s, f1):
    C = 3
    conf = np.full((C, C), 2, np.int64) + np.eye(C, dtype=np.int64) * 20
    return {"model": m, "checkpoint": m.lower() + ".usj", "task": t, "seed": s, "fraction": frac,
            "eval": ev, "n": int(conf.sum()), "classes": ["a", "b", "c"], "macro_f1": f1,
            "accuracy": f1 + 0.01, "balanced_accuracy": f1, "macro_auroc": 0.9,
            "per_class_f1": np.full(C, f1), "auroc": np.full(C, 0.9), "confusion": conf,
            "epochs": 40, "best_epoch": 25, "train_n": int(500 * frac / 100)}


def write(path, recs):
    pk = msgpack.Packer(default=msgpack_numpy.encode, use_bin_type=True)
    with open(path, "wb") as f:
        f.write(pk.pack({"usjepa": 1, "kind": "results", "producer": {"tool": "report_results.py", "version": "1"},
                         "meta": {}}))
        for r in recs:
            f.write(pk.pack(r))
        f.write(pk.pack({"usjepa_end": len(recs)}))


def cell(values):
    """mean, sample std (empty for one value), n; as the CSV writes them"""
    if not values:
        return ("", "", "")
    std = "%.4f" % statistics.stdev(values) if len(values) > 1 else ""
    return ("%.4f" % statistics.mean(values), std, str(len(values)))


def same(got, want):
    """tables equal, numbers to within the last printed digit"""
    assert len(got) == len(want) and got[0] == want[0], (got[0], want[0])
    for g, w in zip(got[1:], want[1:]):
        assert len(g) == len(w), (g, w)
        for a, b in zip(g, w):
            if a != b:
                assert a and b and abs(float(a) - float(b)) <= 1.5e-4, (g, w)


def check(report):
    got = {}
    for name in ("table2", "fewshot", "robustness"):
        with open(os.path.join(report, name + ".csv"), newline="") as f:
            got[name] = list(csv.reader(f))
    f1 = {}
    for m, t, frac, ev, s, v in probes():
        f1[(m, t, frac, ev, s)] = 100 * v

    def seeds(m, t, frac, ev):
        return [f1[(m, t, frac, ev, s)] for s in SEEDS if (m, t, frac, ev, s) in f1]

    # Table 2: one row a model, mean/std/n a task, then the mean over tasks
    want = [["model"] + ["%s %s" % (c, k) for c in TASKS + ["mean"] for k in ("mean", "std", "n")]]
    for m in MODELS:
        row = [m]
        means = []
        for t in TASKS:
            v = seeds(m, t, 100.0, "test")
            row += cell(v)
            means.append(statistics.mean(v) if v else None)
        row += ("%.4f" % statistics.mean(means), "", str(len(TASKS))) if None not in means else ("", "", "")
        want.append(row)
    same(got["table2"], want)
    want = [["task", "model"] + ["%g %% %s" % (f, k) for f in FRACTIONS for k in ("mean", "std", "n")]]
    for t in TASKS:
        for m in MODELS:
            want.append([t, m] + [x for f in FRACTIONS for x in cell(seeds(m, t, f, "test"))])
    same(got["fewshot"], want)
    want = [["task", "model"] + ["%s %s" % (e, k) for e in DROP for k in ("mean", "std", "n")]]
    for t in TASKS:
        for m in MODELS:
            row = [t, m]
            for e in DROP:
                d = [f1[(m, t, 100.0, "test", s)] - f1[(m, t, 100.0, e, s)] for s in SEEDS
                     if (m, t, 100.0, e, s) in f1 and (m, t, 100.0, "test", s) in f1]
                row += cell(d)
            want.append(row)
    same(got["robustness"], want)


if __name__ == "__main__":
    if sys.argv[1] == "write":
        recs = [record(*p) for p in probes()]
        half = len(recs) // 2
        write(os.path.join(sys.argv[2], "part1.usj"), recs[:half])
        write(os.path.join(sys.argv[2], "part2.usj"), recs[half:])
    else:
        check(sys.argv[2])
