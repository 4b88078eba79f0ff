#!/usr/bin/python3
"""contact-sheet.py STREAM OUT.png [COLUMNS]: the images of an images stream,
one row per class (up to COLUMNS images each, default 8), with class names."""
import sys
import msgpack
import msgpack_numpy
import numpy as np
from PIL import Image, ImageDraw


def records(path):
    with open(path, "rb") as f:
        for obj in msgpack.Unpacker(f, object_hook=msgpack_numpy.decode, raw=False):
            if "usjepa" not in obj and "usjepa_end" not in obj:
                yield obj


def main():
    path, out = sys.argv[1], sys.argv[2]
    cols = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    rows = {}
    for r in records(path):
        row = rows.setdefault(r["class"], [])
        if len(row) < cols:
            row.append(r["image"])
    S = next(iter(rows.values()))[0].shape[0]
    label_w, pad = 150, 2
    sheet = Image.new("L", (label_w + cols * (S + pad), len(rows) * (S + pad)), 0)
    draw = ImageDraw.Draw(sheet)
    for y, (name, imgs) in enumerate(rows.items()):
        draw.text((4, y * (S + pad) + S // 2 - 5), name, fill=255)
        for x, img in enumerate(imgs):
            sheet.paste(Image.fromarray(np.asarray(img, dtype=np.uint8)), (label_w + x * (S + pad), y * (S + pad)))
    sheet.save(out)


if __name__ == "__main__":
    main()
