#!/usr/bin/python3
"""metrics_ref.py OUT: scikit-learn's classification metrics on fixed random
predictions, for tests/unit/test_metrics.c.

OUT is a usjepa stream (kind "tensors") with one record per case: the inputs
y (n) <i4, pred (n) <i4, prob (n, C) <f8 and what scikit-learn 1.2 says of
them: accuracy, balanced_accuracy, macro_f1 (f1_score average='macro',
zero_division=0), per_class_f1 (f1_score average=None over the classes that
are true or predicted; NaN for the others), auroc (roc_auc_score of each
class against the rest; NaN for a class absent from y), macro_auroc
(roc_auc_score multi_class='ovr' when every class is in y, else the mean of
the defined per-class values) and confusion (C, C) <i8. Cases cover 2 to 9
classes, classes never true, never predicted or neither, and tied scores."""
import sys
import warnings

import msgpack
import msgpack_numpy
import numpy as np
from sklearn.metrics import (accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score,
                             roc_auc_score)


def case(rng, n, C, *, absent_true=(), absent_pred=(), ties=False, argmax=True):
    y = rng.choice([k for k in range(C) if k not in absent_true], size=n).astype(np.int32)
    if ties:  # every row a permutation of one vector: each column takes a few values
        base = np.sort(rng.dirichlet(np.ones(C)))
        prob = np.stack([rng.permutation(base) for _ in range(n)])
    else:
        prob = rng.dirichlet(np.ones(C) * 0.7, size=n)
    allowed = [k for k in range(C) if k not in absent_pred]
    if argmax:
        masked = np.where(np.isin(np.arange(C), allowed), prob, -1.0)
        pred = masked.argmax(axis=1).astype(np.int32)
    else:
        pred = rng.choice(allowed, size=n).astype(np.int32)
    rec = {"C": C, "y": y, "pred": pred, "prob": prob,
           "accuracy": float(accuracy_score(y, pred)),
           "balanced_accuracy": float(balanced_accuracy_score(y, pred)),
           "macro_f1": float(f1_score(y, pred, average="macro", zero_division=0))}
    present = np.union1d(y, pred)
    per = np.full(C, np.nan)
    per[present] = f1_score(y, pred, labels=present, average=None, zero_division=0)
    auroc = np.full(C, np.nan)
    for k in np.unique(y):
        if (y != k).any():
            auroc[k] = roc_auc_score(y == k, prob[:, k])
    macro = np.nanmean(auroc) if not np.isnan(auroc).all() else np.nan
    if len(np.unique(y)) == C and C > 2:
        ovr = roc_auc_score(y, prob, multi_class="ovr", average="macro", labels=np.arange(C))
        assert abs(ovr - macro) < 1e-12, (ovr, macro)
        macro = ovr
    elif C == 2 and len(np.unique(y)) == 2:
        macro = roc_auc_score(y, prob[:, 1])
    rec.update(per_class_f1=per, auroc=auroc, macro_auroc=float(macro),
               confusion=confusion_matrix(y, pred, labels=np.arange(C)).astype(np.int64))
    return rec


def main():
    warnings.simplefilter("ignore")
    rng = np.random.RandomState(20260)
    cases = [case(rng, 50, 2), case(rng, 40, 2, ties=True), case(rng, 200, 3), case(rng, 120, 3, ties=True),
             case(rng, 300, 5), case(rng, 90, 5, absent_true=(1,)), case(rng, 90, 5, absent_pred=(3,)),
             case(rng, 90, 5, absent_true=(2,), absent_pred=(2,)), case(rng, 60, 4, argmax=False),
             case(rng, 400, 9, ties=True), case(rng, 100, 9, absent_true=(0, 8), absent_pred=(8, 4)),
             case(rng, 30, 8, argmax=False, absent_true=(5,), absent_pred=(5, 6)),
             case(rng, 20, 3, absent_true=(1, 2))]
    pk = msgpack.Packer(default=msgpack_numpy.encode, use_bin_type=True)
    with open(sys.argv[1], "wb") as f:
        f.write(pk.pack({"usjepa": 1, "kind": "tensors", "producer": {"tool": "metrics_ref.py", "version": "1"},
                         "meta": {}}))
        for rec in cases:
            f.write(pk.pack(rec))
        f.write(pk.pack({"usjepa_end": len(cases)}))


main()
