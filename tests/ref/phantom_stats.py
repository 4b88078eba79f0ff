#!/usr/bin/python3
"""phantom_stats.py US_PHANTOM: per-class image statistics that follow from
the phantom's design, over 120 images per class at 96 x 96. Prints one line
per check, "ok NAME a > b" or "FAIL NAME ...", and exits 1 on any failure."""
import subprocess
import sys

import msgpack
import msgpack_numpy
import numpy as np


def images(tool, task, n):
    out = subprocess.run([tool, "--task", task, "-n", str(n), "--per-group", "2", "--size", "96",
                          "--seed", "7", "--stream"], check=True, stdout=subprocess.PIPE).stdout
    u = msgpack.Unpacker(object_hook=msgpack_numpy.decode, raw=False, max_buffer_size=len(out) + 1)
    u.feed(out)
    by_class = {}
    for obj in u:
        if "image" in obj:
            by_class.setdefault(obj["class"], []).append(
                (np.asarray(obj["image"], np.float64), np.asarray(obj["region"]) > 0))
    return by_class


def band(img, region, lo, hi):
    """mean grey of the region's rows between fractions lo and hi of its depth"""
    rows = np.nonzero(region.any(axis=1))[0]
    top, bottom = rows[0], rows[-1] + 1
    a, b = top + int(lo * (bottom - top)), top + int(hi * (bottom - top))
    return img[a:b][region[a:b]].mean()


def dark(img, region, lo=0.0, hi=1.0, level=12):
    """fraction of region pixels darker than level, between depth fractions lo and hi"""
    rows = np.nonzero(region.any(axis=1))[0]
    top, bottom = rows[0], rows[-1] + 1
    a, b = top + int(lo * (bottom - top)), top + int(hi * (bottom - top))
    return (img[a:b][region[a:b]] < level).mean()


failures = 0


def check(name, a, b):
    global failures
    ok = a > b
    failures += not ok
    print("%s %s %.4f > %.4f" % ("ok  " if ok else "FAIL", name, a, b))


def mean_of(items, f):
    return float(np.mean([f(img, reg) for img, reg in items]))


def main():
    tool = sys.argv[1]
    n = 240
    fl = images(tool, "fatty-liver", n)
    check("steatosis is brighter than normal liver in the near field",
          mean_of(fl["steatosis"], lambda i, r: band(i, r, 0.1, 0.25)),
          mean_of(fl["normal"], lambda i, r: band(i, r, 0.1, 0.25)))
    check("steatosis loses more brightness with depth than normal liver",
          mean_of(fl["steatosis"], lambda i, r: band(i, r, 0.1, 0.25) - band(i, r, 0.75, 0.95)),
          mean_of(fl["normal"], lambda i, r: band(i, r, 0.1, 0.25) - band(i, r, 0.75, 0.95)))
    gb = images(tool, "gallbladder", 360)
    check("stones shadow: deep black pixels more common in benign than normal gallbladders",
          mean_of(gb["benign"], lambda i, r: dark(i, r, 0.6, 1.0)),
          mean_of(gb["normal"], lambda i, r: dark(i, r, 0.6, 1.0)))
    ov = images(tool, "ovary", 960)
    check("simple cysts are more anechoic than normal ovaries",
          mean_of(ov["simple-cyst"], dark), mean_of(ov["normal-ovary"], dark))
    check("endometriomas hold low-level echoes: fewer black pixels than simple cysts",
          mean_of(ov["simple-cyst"], dark), mean_of(ov["endometrioma"], dark))
    lu = images(tool, "lung", 360)
    check("B-lines keep the deep lung brighter with COVID-like than healthy lungs",
          mean_of(lu["covid"], lambda i, r: band(i, r, 0.6, 0.95)),
          mean_of(lu["healthy"], lambda i, r: band(i, r, 0.6, 0.95)))
    check("consolidation fills the lung with tissue: pneumonia brighter than healthy below the pleura",
          mean_of(lu["pneumonia"], lambda i, r: band(i, r, 0.2, 0.5)),
          mean_of(lu["healthy"], lambda i, r: band(i, r, 0.2, 0.5)))
    br = images(tool, "breast", n)
    check("malignant breast masses shadow: more deep black pixels than benign",
          mean_of(br["malignant"], lambda i, r: dark(i, r, 0.6, 1.0)),
          mean_of(br["benign"], lambda i, r: dark(i, r, 0.6, 1.0)))
    si = images(tool, "sites", 9 * 40)
    check("the bladder is more anechoic than Morison's pouch",
          mean_of(si["bladder"], dark), mean_of(si["morison"], dark))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
