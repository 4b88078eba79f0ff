#!/usr/bin/python3
"""vit_torch.py --config tiny|small|vit-t --threads N --steps K [--mode train|infer]

The PyTorch side of vit-bench: the same model (tests/ref/vit_ref.py, the
parity test's reference), shapes, random data and FLOP model, timed the same
way (warm-up excluded): train is one SALT step (student encoder on the
context patches, predictor, Smooth-L1, backward, clipping, AdamW), infer the
encoder on every patch under torch.inference_mode(). The patch embedding
runs on the context patches only, as a linear map, so that both sides do the
same products. Ends with "img/s: X"."""
import argparse
import os
import sys
import time

# as bench/vit-bench.c: encoder (img, patch, dim, depth, heads), predictor (dim, depth), batch
CONFIGS = {
    "tiny": ((64, 8, 64, 4, 4), (64, 2), 64),
    "small": ((128, 16, 192, 6, 3), (96, 2), 64),
    "vit-t": ((224, 16, 192, 12, 3), (96, 4), 32),
}


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="small", choices=CONFIGS)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--mode", default="train", choices=["train", "infer"])
    return ap.parse_args()


ARGS = parse_args()
# Debian's PyTorch does its matrix products in OpenBLAS's pthreads build, whose
# own pool starts a thread a core whatever torch.set_num_threads says: on one
# "thread" PyTorch used both cores (user + sys time twice the elapsed time).
# Pinned here, before torch loads OpenBLAS, so that N threads are N cores, as
# on the C side.
os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.threads)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "ref"))
from vit_ref import Model  # noqa: E402


def blocks_flops(B, T, C, depth):
    return depth * (2 * B * T * C * (3 * C + C + 8 * C) + 4 * B * T * T * C)


def main():
    a = ARGS
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    (img, P, D, L, NH), (Dp, Lp), B = CONFIGS[a.config]
    meta = {"encoder": {"img": img, "patch": P, "chans": 1, "dim": D, "depth": L, "heads": NH, "hidden": 4 * D,
                        "eps": 1e-6},
            "predictor": {"out_dim": D, "dim": Dp, "depth": Lp, "heads": NH, "hidden": 4 * Dp, "eps": 1e-6}}
    model = Model(meta)
    G = img // P
    N = G * G
    train = a.mode == "train"
    Tc, Tt = (N // 4, N - N // 4) if train else (N, 0)
    images = torch.randn(B, 1, img, img)
    target = torch.randn(B, Tt, D)
    order = torch.stack([torch.randperm(N) if train else torch.arange(N) for _ in range(B)])
    ctx_idx, tgt_idx = order[:, :Tc].contiguous(), order[:, Tc:].contiguous()
    w = model.patch_embed.proj.weight.view(D, P * P)
    flops = (2 * B * Tc * P * P * D + blocks_flops(B, Tc, D, L))
    if train:
        flops = 3 * (flops + 2 * B * Tc * D * Dp + blocks_flops(B, Tc + Tt, Dp, Lp) + 2 * B * Tt * Dp * D)

    def encode(idx):
        # patches (B, T, P*P) of the grid positions idx, as Conv2d(stride P) reads them
        patches = images.unfold(2, P, P).unfold(3, P, P).reshape(B, N, P * P)
        patches = torch.gather(patches, 1, idx.unsqueeze(-1).expand(-1, -1, P * P))
        x = F.linear(patches, w, model.patch_embed.proj.bias) + model.pos[idx]
        for b in model.blocks:
            x = b(x)
        return model.norm(x)

    decay = [p for p in model.parameters() if p.ndim != 1]
    rest = [p for p in model.parameters() if p.ndim == 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": rest, "weight_decay": 0.0}],
                            lr=1e-4, betas=(0.9, 0.95), eps=1e-8, foreach=True)

    def step():
        if not train:
            with torch.inference_mode():
                encode(ctx_idx)
            return 0.0
        opt.zero_grad(set_to_none=True)
        pred = model.predict(encode(ctx_idx), ctx_idx, tgt_idx)
        loss = F.smooth_l1_loss(pred, target, beta=1.0)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    params = sum(p.numel() for p in model.parameters())
    print(f"vit_torch: {a.config} {a.mode}, {a.threads} threads, batch {B}, {Tc} context + {Tt} target tokens, "
          f"{params / 1e6:.2f} M parameters, {flops / 1e9:.2f} GFLOP a step")
    total, best = 0.0, float("inf")
    for s in range(-2, a.steps):
        t0 = time.perf_counter()
        loss = step()
        dt = time.perf_counter() - t0
        if s >= 0:
            total += dt
            best = min(best, dt)
        print(f"step {s}: {1e3 * dt:.2f} ms{' (warm-up)' if s < 0 else ''}" + (f", loss {loss:.6f}" if train else ""))
    print(f"ms/step: {1e3 * total / a.steps:.2f} (best {1e3 * best:.2f}), GFLOP/s: {flops * a.steps / total / 1e9:.1f}")
    print(f"img/s: {B * a.steps / total:.1f}")


if __name__ == "__main__":
    main()
