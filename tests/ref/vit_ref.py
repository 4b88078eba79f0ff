#!/usr/bin/python3
"""vit_ref.py IN OUT: the PyTorch reference of usjepa's ViT, for the parity test.

IN is a usjepa stream (kind "tensors") whose meta holds the configuration and
whose records are {name, tensor}: the model's weights under timm's and
I-JEPA's names, and the inputs: images (B, 1, H, W), ctx_idx (B, Tc), tgt_idx
(B, Tt) and target (B, Tt, Dout). This script builds the same model in PyTorch
(patch embedding as a Conv2d on the whole image, MAE's numpy sin-cos
positions, timm's block, I-JEPA's predictor), and writes OUT with the encoder's
tokens, the predictions, the Smooth-L1 loss, every parameter's gradient
("grad.NAME"), then the losses of `steps` AdamW steps (two parameter groups,
gradient-norm clipping) and the weights after them ("final.NAME")."""
import sys

import msgpack
import msgpack_numpy
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def sincos_1d(dim, pos):
    omega = np.arange(dim // 2, dtype=np.float64) / (dim / 2.0)
    omega = 1.0 / 10000 ** omega
    out = np.einsum("m,d->md", pos.reshape(-1), omega)
    return np.concatenate([np.sin(out), np.cos(out)], axis=1)


def sincos_2d(dim, grid):
    """MAE's get_2d_sincos_pos_embed, as its code builds it"""
    gh = np.arange(grid, dtype=np.float32)
    gw = np.arange(grid, dtype=np.float32)
    g = np.stack(np.meshgrid(gw, gh), axis=0).reshape(2, 1, grid, grid)
    return np.concatenate([sincos_1d(dim // 2, g[0]), sincos_1d(dim // 2, g[1])], axis=1)


class Block(nn.Module):
    def __init__(self, dim, heads, hidden, eps):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = nn.Module()
        self.attn.qkv = nn.Linear(dim, 3 * dim)
        self.attn.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Linear(dim, hidden)
        self.mlp.fc2 = nn.Linear(hidden, dim)

    def attention(self, x):
        B, T, C = x.shape
        qkv = self.attn.qkv(x).reshape(B, T, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = (q @ k.transpose(-2, -1)) * (C // self.heads) ** -0.5
        y = (att.softmax(dim=-1) @ v).transpose(1, 2).reshape(B, T, C)
        return self.attn.proj(y)

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.mlp.fc2(F.gelu(self.mlp.fc1(self.norm2(x))))


class Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        e, p = c["encoder"], c["predictor"]
        self.patch = e["patch"]
        D, Dp = e["dim"], p["dim"]
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(e["chans"], D, e["patch"], e["patch"])
        self.blocks = nn.ModuleList([Block(D, e["heads"], e["hidden"], e["eps"]) for _ in range(e["depth"])])
        self.norm = nn.LayerNorm(D, eps=e["eps"])
        grid = e["img"] // e["patch"]
        self.register_buffer("pos", torch.tensor(sincos_2d(D, grid), dtype=torch.float32))
        self.predictor_embed = nn.Linear(D, Dp)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, Dp))
        self.predictor_blocks = nn.ModuleList(
            [Block(Dp, p["heads"], p["hidden"], p["eps"]) for _ in range(p["depth"])])
        self.predictor_norm = nn.LayerNorm(Dp, eps=p["eps"])
        self.predictor_proj = nn.Linear(Dp, p["out_dim"])
        self.register_buffer("ppos", torch.tensor(sincos_2d(Dp, grid), dtype=torch.float32))

    def encode(self, images, idx):
        x = self.patch_embed.proj(images).flatten(2).transpose(1, 2)  # (B, N, D)
        x = x + self.pos
        x = torch.gather(x, 1, idx.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
        for b in self.blocks:
            x = b(x)
        return self.norm(x)

    def predict(self, ctx, ctx_idx, tgt_idx):
        x = self.predictor_embed(ctx) + self.ppos[ctx_idx]
        m = self.mask_token + self.ppos[tgt_idx]
        x = torch.cat([x, m], dim=1)
        for b in self.predictor_blocks:
            x = b(x)
        x = self.predictor_norm(x)[:, ctx.shape[1]:]
        return self.predictor_proj(x)


def read(path):
    with open(path, "rb") as f:
        objs = list(msgpack.Unpacker(f, object_hook=msgpack_numpy.decode, raw=False))
    meta = objs[0]["meta"]
    return meta, {o["name"]: o["tensor"] for o in objs[1:-1]}


def main():
    meta, t = read(sys.argv[1])
    torch.manual_seed(0)
    model = Model(meta)
    names = [n for n, _ in model.named_parameters()]
    with torch.no_grad():
        for n, p in model.named_parameters():
            p.copy_(torch.from_numpy(np.array(t[n], dtype=np.float32)).reshape(p.shape))
    images = torch.from_numpy(np.array(t["images"], dtype=np.float32))
    ctx_idx = torch.from_numpy(np.array(t["ctx_idx"], dtype=np.int64))
    tgt_idx = torch.from_numpy(np.array(t["tgt_idx"], dtype=np.int64))
    target = torch.from_numpy(np.array(t["target"], dtype=np.float32))
    out = []

    def loss_of():
        tokens = model.encode(images, ctx_idx)
        pred = model.predict(tokens, ctx_idx, tgt_idx)
        return tokens, pred, F.smooth_l1_loss(pred, target, beta=1.0)

    tokens, pred, loss = loss_of()
    loss.backward()
    out.append(("tokens", tokens.detach().numpy()))
    out.append(("pred", pred.detach().numpy()))
    out.append(("loss", np.array([loss.item()], dtype=np.float64)))
    for n, p in model.named_parameters():
        out.append(("grad." + n, p.grad.numpy().copy()))

    o = meta["optim"]
    # I-JEPA's groups: weight decay on every tensor but biases and norms (1-D)
    decay = [p for p in model.parameters() if p.ndim != 1]
    rest = [p for p in model.parameters() if p.ndim == 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": o["wd"]}, {"params": rest, "weight_decay": 0.0}],
                            lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"])
    losses = []
    for _ in range(o["steps"]):
        opt.zero_grad()
        _, _, loss = loss_of()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), o["clip"])
        opt.step()
        losses.append(loss.item())
    out.append(("losses", np.array(losses, dtype=np.float64)))
    for n, p in model.named_parameters():
        out.append(("final." + n, p.detach().numpy().copy()))
    pk = msgpack.Packer(default=msgpack_numpy.encode, use_bin_type=True)
    with open(sys.argv[2], "wb") as f:
        f.write(pk.pack({"usjepa": 1, "kind": "tensors", "producer": {"tool": "vit_ref.py", "version": "1"},
                         "meta": {"parameters": names}}))
        for n, a in out:
            f.write(pk.pack({"name": n, "tensor": np.ascontiguousarray(a)}))
        f.write(pk.pack({"usjepa_end": len(out)}))


if __name__ == "__main__":
    main()
