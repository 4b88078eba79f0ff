#!/usr/bin/python3
"""timm_vit.py IMAGES OUTDIR: a small ViT in timm's layout (3-channel patch
embedding, CLS token, learned positional embedding), randomly initialised in
PyTorch, saved as OUTDIR/vit.safetensors (written by hand: struct + json, the
format's specification) and as OUTDIR/vit.usj (a usjepa checkpoint stream of the
same weights, patch embedding folded to grey); then its forward pass over the
images stream IMAGES, each grey image repeated in the three channels and
normalised as (p / 255 - 0.5) / 0.5 (timm's ViTs), written as OUTDIR/tokens.npy (B, T, D)
without the CLS token, and OUTDIR/features.npy (B, D), their mean. It also
writes OUTDIR/native.usj, a checkpoint of usjepa's own kind (grey, no CLS
token, fixed sin-cos positions) of the same blocks.

timm_vit.py --load FILE.safetensors IMAGES OUT.npy: load a safetensors file that
us-teacher-encode --export wrote (grey, no CLS token, pos_embed) into a timm-style
model in PyTorch and write its tokens over IMAGES, normalised with the file's
own mean and std."""
import json
import struct
import sys

import msgpack
import msgpack_numpy
import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, sys.path[0])
from vit_ref import Block  # noqa: E402

IMG, PATCH, DIM, DEPTH, HEADS, HIDDEN = 32, 8, 48, 2, 3, 96


class TimmViT(nn.Module):
    def __init__(self, chans=3, cls=True):
        super().__init__()
        n = (IMG // PATCH) ** 2
        self.cls = cls
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(chans, DIM, PATCH, PATCH)
        if cls:
            self.cls_token = nn.Parameter(torch.randn(1, 1, DIM) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, n + cls, DIM) * 0.02)
        self.blocks = nn.ModuleList([Block(DIM, HEADS, HIDDEN, 1e-6) for _ in range(DEPTH)])
        self.norm = nn.LayerNorm(DIM, eps=1e-6)

    def forward(self, x):
        x = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
        if self.cls:
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = x + self.pos_embed
        for b in self.blocks:
            x = b(x)
        return self.norm(x)[:, int(self.cls):]


def save_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, a in tensors.items():
        b = np.ascontiguousarray(a, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        assert e["dtype"] == "F32", e
        b, end = e["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + b:8 + n + end], dtype="<f4").reshape(e["shape"])
    return out, meta


def read_images(path, mean, std):
    with open(path, "rb") as f:
        recs = [o for o in msgpack.Unpacker(f, object_hook=msgpack_numpy.decode, raw=False) if "image" in o]
    x = torch.tensor(np.stack([np.asarray(r["image"], np.float32) for r in recs]) / 255.0)
    return ((x - mean) / std).unsqueeze(1)


def save_checkpoint(path, tensors, native=False):
    pk = msgpack.Packer(default=msgpack_numpy.encode, use_bin_type=True)
    enc = {"img": IMG, "patch": PATCH, "chans": 1, "dim": DIM, "depth": DEPTH, "heads": HEADS,
           "hidden": HIDDEN, "eps": 1e-6, "cls_token": not native, "learned_pos": not native}
    if native:
        tensors = {k: v for k, v in tensors.items() if k not in ("cls_token", "pos_embed")}
    with open(path, "wb") as f:
        f.write(pk.pack({"usjepa": 1, "kind": "checkpoint", "producer": {"tool": "timm_vit.py", "version": "1"},
                         "meta": {"encoder": enc, "normalize": {"mean": 0.5, "std": 0.5}}}))
        for name, a in tensors.items():
            if name == "patch_embed.proj.weight":
                a = a.sum(axis=1, keepdims=True)
            f.write(pk.pack({"name": name, "tensor": np.ascontiguousarray(a, dtype="<f4")}))
        f.write(pk.pack({"usjepa_end": len(tensors)}))


def load_exported(path, images, out):
    tensors, meta = load_safetensors(path)
    model = TimmViT(chans=1, cls=False)
    model.load_state_dict({k: torch.tensor(v) for k, v in tensors.items()})
    x = read_images(images, float(meta["mean"]), float(meta["std"]))
    with torch.no_grad():
        np.save(out, model(x).numpy())


def main():
    if sys.argv[1] == "--load":
        load_exported(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    images_path, out = sys.argv[1], sys.argv[2]
    torch.manual_seed(3)
    model = TimmViT()
    with torch.no_grad():  # biases and norms away from 0 and 1
        for p in model.parameters():
            if p.ndim == 1:
                p.add_(torch.randn_like(p) * 0.1)
    tensors = {n: p.detach().numpy() for n, p in model.named_parameters()}
    save_safetensors(out + "/vit.safetensors", tensors)
    save_checkpoint(out + "/vit.usj", tensors)
    save_checkpoint(out + "/native.usj", tensors, native=True)
    x = read_images(images_path, 0.5, 0.5).expand(-1, 3, -1, -1)
    with torch.no_grad():
        tokens = model(x).numpy()
    np.save(out + "/tokens.npy", tokens)
    np.save(out + "/features.npy", tokens.mean(axis=1))


if __name__ == "__main__":
    main()
