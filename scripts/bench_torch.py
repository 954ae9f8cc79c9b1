"""PyTorch baseline for `parrot bench cpu`: the same model and batch, trained on the CPU in float32.

Run with Debian's PyTorch (apt-get install python3-torch) and the system python:

    /usr/bin/python3 scripts/bench_torch.py --steps 30 --warmup 5 --threads 2

Model: GPT-NeoX shape (parallel residual, pre-LayerNorm, exact GELU MLP 4x, untied head), d_model 64, 8 heads,
2 layers, Hard-ALiBi (heads 0..3 windows 1..4, others causal), vocabulary 30; batch 32 rows of 64 tokens,
AdamW (wd 0.1) with gradient clipping 1.0. Prints one JSON line: {"tokens_per_second": ...}.
"""

import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, h, mask):
        super().__init__()
        self.h, self.hd = h, d // h
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.dense = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.up, self.down = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.register_buffer("mask", mask)  # [H, T, T] additive

    def forward(self, x):
        b, t, d = x.shape
        qkv = self.qkv(self.ln1(x)).view(b, t, self.h, 3 * self.hd)
        q, k, v = (qkv[..., i * self.hd:(i + 1) * self.hd].transpose(1, 2) for i in range(3))
        s = q @ k.transpose(-1, -2) / math.sqrt(self.hd) + self.mask[:, :t, :t]
        a = (s.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        return x + self.dense(a) + self.down(F.gelu(self.up(self.ln2(x))))


def hard_alibi_mask(h, t, windows):
    q = torch.arange(t).view(t, 1)
    k = torch.arange(t).view(1, t)
    m = torch.full((h, t, t), -math.inf)
    for i in range(h):
        ok = k <= q
        if windows[i] > 0:
            ok = ok & (k > q - windows[i])
        m[i][ok] = 0.0
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    d, h, layers, vocab, batch, ctx = 64, 8, 2, 30, 32, 64
    mask = hard_alibi_mask(h, ctx, [1, 2, 3, 4, 0, 0, 0, 0])
    emb, head, lnf = nn.Embedding(vocab, d), nn.Linear(d, vocab, bias=False), nn.LayerNorm(d)
    blocks = nn.ModuleList(Block(d, h, mask) for _ in range(layers))
    params = list(emb.parameters()) + list(blocks.parameters()) + list(lnf.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.1)
    x = torch.randint(0, vocab, (batch, ctx))
    y = torch.randint(0, vocab, (batch, ctx))
    start = None
    for s in range(a.warmup + a.steps):
        if s == a.warmup:
            start = time.perf_counter()
        hdn = emb(x)
        for blk in blocks:
            hdn = blk(hdn)
        loss = F.cross_entropy(head(lnf(hdn)).view(-1, vocab), y.view(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    sec = time.perf_counter() - start
    print(json.dumps({"tokens_per_second": batch * ctx * a.steps / sec, "steps": a.steps, "seconds": sec,
                      "torch": torch.__version__, "threads": a.threads}))


if __name__ == "__main__":
    main()
