"""PyTorch baseline for `parrot bench cpu`: the same models and batch, trained on the CPU in float32.

Run with Debian's PyTorch (apt-get install python3-torch) and the system python:

    /usr/bin/python3 scripts/bench_torch.py --model transformer --steps 30 --warmup 5 --threads 2

Models (the quickstart's; vocabulary 30, batch 32 rows of 64 tokens, AdamW (wd 0.1), gradient clipping 1.0):
- transformer: GPT-NeoX shape (parallel residual, pre-LayerNorm, exact GELU MLP 4x, untied head), d_model 64,
  8 heads, 2 layers, Hard-ALiBi (heads 0..3 windows 1..4, others causal);
- mamba: 2 blocks x + Mamba(LayerNorm(x)), d_model 64 (d_inner 128, d_state 16, d_conv 4, dt_rank 4), final
  LayerNorm, head tied to the embedding. The mixer is mamba_ssm's Mamba on its reference path (no fused CUDA
  kernels exist on a CPU): in_proj, causal depthwise conv1d, SiLU, x_proj, dt_proj, and selective_scan_ref
  written out below (softplus(delta + bias), exp(delta A), a Python loop over time), D skip, gate SiLU(z),
  out_proj;
- lstm: embedding, one torch.nn.LSTM layer of 64, linear head with bias.
Prints one JSON line: {"tokens_per_second": ...}.
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


def selective_scan_ref(u, delta, A, B, C, D, z, delta_bias):
    """mamba_ssm.ops.selective_scan_interface.selective_scan_ref with real A, B and C of shape [b, n, l],
    delta_softplus=True: u, delta, z [b, d, l], A [d, n], D and delta_bias [d]."""
    delta = F.softplus(delta + delta_bias[..., None])
    b, d, l = u.shape
    delta_a = torch.exp(torch.einsum("bdl,dn->bdln", delta, A))
    delta_b_u = torch.einsum("bdl,bnl,bdl->bdln", delta, B, u)
    x = A.new_zeros((b, d, A.shape[1]))
    ys = []
    # The reference indexes delta_a[:, :, i]; autograd's backward of each such slice fills a whole [b, d, l, n]
    # zero tensor, O(l^2) work that made a step take ~50 s here. unbind is the same values with one backward op.
    for da_i, dbu_i, c_i in zip(delta_a.unbind(2), delta_b_u.unbind(2), C.unbind(2)):
        x = da_i * x + dbu_i
        ys.append(torch.einsum("bdn,bn->bd", x, c_i))
    y = torch.stack(ys, dim=2)
    out = y + u * D[:, None]
    return out * F.silu(z)


class Mamba(nn.Module):
    """mamba_ssm.modules.mamba_simple.Mamba's forward without the fused kernels (its use_fast_path=False path)."""

    def __init__(self, d, d_state=16, d_conv=4, expand=2):
        super().__init__()
        self.di, self.n, self.r = expand * d, d_state, math.ceil(d / 16)
        self.in_proj = nn.Linear(d, 2 * self.di, bias=False)
        self.conv1d = nn.Conv1d(self.di, self.di, d_conv, groups=self.di, padding=d_conv - 1)
        self.x_proj = nn.Linear(self.di, self.r + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(self.r, self.di)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, d_state + 1, dtype=torch.float32)).repeat(self.di, 1))
        self.D = nn.Parameter(torch.ones(self.di))
        self.out_proj = nn.Linear(self.di, d, bias=False)

    def forward(self, hs):
        b, l, _ = hs.shape
        xz = self.in_proj(hs).transpose(1, 2)                        # [b, 2 di, l]
        x, z = xz.chunk(2, dim=1)
        x = F.silu(self.conv1d(x)[..., :l])
        x_dbl = self.x_proj(x.transpose(1, 2).reshape(b * l, self.di))
        dt, B, C = torch.split(x_dbl, [self.r, self.n, self.n], dim=-1)
        dt = (self.dt_proj.weight @ dt.t()).view(self.di, b, l).permute(1, 0, 2)   # bias enters as delta_bias
        B = B.view(b, l, self.n).transpose(1, 2)
        C = C.view(b, l, self.n).transpose(1, 2)
        y = selective_scan_ref(x, dt, -torch.exp(self.A_log), B, C, self.D, z, self.dt_proj.bias)
        return self.out_proj(y.transpose(1, 2))


class MambaBlock(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm, self.mixer = nn.LayerNorm(d), Mamba(d)

    def forward(self, x):
        return x + self.mixer(self.norm(x))


def build(model, d, vocab, ctx):
    """(parameters, forward: tokens -> logits) of the named quickstart model."""
    emb = nn.Embedding(vocab, d)
    if model == "transformer":
        mask = hard_alibi_mask(8, ctx, [1, 2, 3, 4, 0, 0, 0, 0])
        blocks = nn.ModuleList(Block(d, 8, mask) for _ in range(2))
        lnf, head = nn.LayerNorm(d), nn.Linear(d, vocab, bias=False)
        mods = [emb, blocks, lnf, head]

        def fwd(x):
            hdn = emb(x)
            for blk in blocks:
                hdn = blk(hdn)
            return head(lnf(hdn))
    elif model == "mamba":
        blocks = nn.ModuleList(MambaBlock(d) for _ in range(2))
        lnf = nn.LayerNorm(d)
        mods = [emb, blocks, lnf]

        def fwd(x):
            hdn = emb(x)
            for blk in blocks:
                hdn = blk(hdn)
            return lnf(hdn) @ emb.weight.t()                         # tied head
    elif model == "lstm":
        lstm, head = nn.LSTM(d, d, 1, batch_first=True), nn.Linear(d, vocab)
        mods = [emb, lstm, head]

        def fwd(x):
            return head(lstm(emb(x))[0])
    else:
        raise SystemExit(f"bench_torch.py: --model: unknown '{model}'; allowed: transformer, mamba, lstm")
    return [p for m in mods for p in m.parameters()], fwd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="transformer", help="transformer, mamba or lstm")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    d, vocab, batch, ctx = 64, 30, 32, 64
    params, fwd = build(a.model, d, vocab, ctx)
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.1)
    x = torch.randint(0, vocab, (batch, ctx))
    y = torch.randint(0, vocab, (batch, ctx))
    start = None
    for s in range(a.warmup + a.steps):
        if s == a.warmup:
            start = time.perf_counter()
        loss = F.cross_entropy(fwd(x).reshape(-1, vocab), y.view(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    sec = time.perf_counter() - start
    print(json.dumps({"tokens_per_second": batch * ctx * a.steps / sec, "steps": a.steps, "seconds": sec,
                      "torch": torch.__version__, "threads": a.threads, "model": a.model}))


if __name__ == "__main__":
    main()
