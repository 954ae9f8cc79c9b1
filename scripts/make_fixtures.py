"""Write parrot's golden test fixtures (float64 PyTorch reference values for the Java tests).

Run it with Debian's PyTorch (``apt-get install -y python3-torch``, PyTorch 1.13) and the SYSTEM python, not
the pyenv ``python3`` that may come first on PATH:

    /usr/bin/python3 scripts/make_fixtures.py java/src/test/resources/fixtures

It writes, into the folder given:

* one whole-model fixture per positional scheme (``nope.json``, ``rope.json``, ``rope-half.json``,
  ``alibi.json``, ``hard-alibi.json``, ``hard-alibi-custom.json``): a tiny GPT-NeoX (Pythia,
  ``use_parallel_residual=True``) with its parameters, a batch, the logits, the mean loss and the gradient of
  the mean loss for every parameter;
* ``pytorch-rope.safetensors`` with ``pytorch-rope.json``: the rope model's parameters as PyTorch writes a
  state dict with ``safetensors.torch.save_file`` (float32, Hugging Face names; the format is written by hand
  here: Debian has no python3-safetensors), and the float64 logits of those float32 weights on the fixture batch;
* ``ops.json``: single ops (LayerNorm, GELU, masked softmax cross-entropy, causal attention per scheme, RoPE)
  with their inputs, outputs and backward results;
* ``README.md``: the format of all of the above.

The model is written from scratch here (HF transformers is not needed) and computes in torch.float64
throughout. Everything is deterministic (fixed seeds, CPU), so rerunning it reproduces the files byte for
byte. Before writing, it checks its own attention and RoPE against plain-loop implementations of the formulas.

Size note: random inputs and parameters are rounded to multiples of 1e-4 before use, so they print in a few
characters and the files stay small. This loses nothing: the rounded value IS the float64 that torch used,
and it reads back exactly (Java's Double.parseDouble and Python's float() are both correctly rounded).
Computed values (outputs, loss, gradients) are written with repr, i.e. at full float64 precision.
"""

import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

DT = torch.float64
VOCAB = 30
LN_EPS = 1e-5
ROPE_BASE = 10000.0
SEED = 1234
QUANT = 1e4  # inputs and parameters are multiples of 1/QUANT


# ---------------------------------------------------------------------------------------------------------
# helpers


def quant(t):
    """Round to multiples of 1/QUANT (short decimal repr, exact float64); +0.0 turns -0.0 into 0.0."""
    return torch.round(t * QUANT) / QUANT + 0.0


def rnd(gen, *shape, std=1.0):
    return quant(torch.randn(*shape, generator=gen, dtype=DT) * std)


def flat(t):
    """Row-major flat list of Python floats (json writes them with repr: full float64 precision)."""
    return [float(v) for v in t.detach().contiguous().view(-1).tolist()]


def tens(t):
    return {"shape": list(t.shape), "data": flat(t)}


def alibi_slopes(h):
    return [2.0 ** (-8.0 * (i + 1) / h) for i in range(h)]


def default_windows(h):
    """Hard-ALiBi: heads i < H/2 see a window of i+1 keys (q-i .. q), the rest are plain causal (0)."""
    return [i + 1 if i < h // 2 else 0 for i in range(h)]


def rotary_dims(head_dim, rotary_pct):
    r = int(head_dim * rotary_pct)  # HF GPT-NeoX: rotary_ndims = int(head_size * rotary_pct)
    return r - (r % 2)


# ---------------------------------------------------------------------------------------------------------
# ops (autograd does the backward)


def attention_bias(t, windows, slopes):
    """[H, T, T] additive bias: -m_h (q-k) inside the (windowed) causal band, -inf outside."""
    h = len(windows)
    qi = torch.arange(t).view(t, 1)
    ki = torch.arange(t).view(1, t)
    dist = (qi - ki).to(DT)  # q - k
    bias = torch.empty(h, t, t, dtype=DT)
    for i in range(h):
        allowed = ki <= qi
        if windows[i] > 0:
            allowed = allowed & (ki >= qi - windows[i] + 1)
        b = -slopes[i] * dist
        bias[i] = torch.where(allowed, b, torch.full_like(b, -math.inf))
    return bias


def attention(qkv, b, t, h, hd, windows, slopes):
    """qkv [B*T, H*3*hd] (NeoX layout: per head q | k | v) -> out [B*T, H*hd], lse [B, H, T]."""
    x = qkv.view(b, t, h, 3 * hd)
    q = x[..., :hd].permute(0, 2, 1, 3)  # B,H,T,hd
    k = x[..., hd:2 * hd].permute(0, 2, 1, 3)
    v = x[..., 2 * hd:].permute(0, 2, 1, 3)
    scores = q @ k.transpose(-1, -2) / math.sqrt(hd) + attention_bias(t, windows, slopes)
    lse = torch.logsumexp(scores, dim=-1)  # B,H,T
    p = torch.exp(scores - lse.unsqueeze(-1))
    out = (p @ v).permute(0, 2, 1, 3).reshape(b * t, h * hd)
    return out, lse


def rope(qkv, b, t, h, hd, r, base, offset):
    """GPT-NeoX rotary (rotate_half layout) on the first r dims of each head's q and k; v unchanged."""
    x = qkv.view(b, t, h, 3, hd)
    half = r // 2
    inv_freq = 1.0 / torch.pow(torch.tensor(base, dtype=DT), torch.arange(half, dtype=DT) * 2.0 / r)
    pos = torch.arange(offset, offset + t, dtype=DT)
    ang = pos.view(t, 1) * inv_freq.view(1, half)  # T, r/2
    cos = torch.cat([ang.cos(), ang.cos()], -1).view(1, t, 1, r)
    sin = torch.cat([ang.sin(), ang.sin()], -1).view(1, t, 1, r)
    parts = []
    for j in range(2):  # q, k
        xr = x[:, :, :, j, :r]
        rot = torch.cat([-xr[..., half:], xr[..., :half]], -1)
        parts.append(torch.cat([xr * cos + rot * sin, x[:, :, :, j, r:]], -1))
    parts.append(x[:, :, :, 2, :])
    return torch.stack(parts, dim=3).reshape(b * t, h * 3 * hd)


# ---------------------------------------------------------------------------------------------------------
# model


def param_shapes(c, n_layers, inter):
    shapes = {"gpt_neox.embed_in.weight": [VOCAB, c]}
    for n in range(n_layers):
        p = f"gpt_neox.layers.{n}."
        shapes.update({
            p + "input_layernorm.weight": [c],
            p + "input_layernorm.bias": [c],
            p + "post_attention_layernorm.weight": [c],
            p + "post_attention_layernorm.bias": [c],
            p + "attention.query_key_value.weight": [3 * c, c],
            p + "attention.query_key_value.bias": [3 * c],
            p + "attention.dense.weight": [c, c],
            p + "attention.dense.bias": [c],
            p + "mlp.dense_h_to_4h.weight": [inter, c],
            p + "mlp.dense_h_to_4h.bias": [inter],
            p + "mlp.dense_4h_to_h.weight": [c, inter],
            p + "mlp.dense_4h_to_h.bias": [c],
        })
    shapes["gpt_neox.final_layer_norm.weight"] = [c]
    shapes["gpt_neox.final_layer_norm.bias"] = [c]
    shapes["embed_out.weight"] = [VOCAB, c]
    return shapes


def init_params(shapes, seed):
    gen = torch.Generator().manual_seed(seed)
    params = {}
    for name, shape in shapes.items():
        if "layernorm" in name or "layer_norm" in name:
            if name.endswith(".weight"):
                t = 1.0 + rnd(gen, *shape, std=0.1)
            else:
                t = rnd(gen, *shape, std=0.1)
        elif name.endswith(".bias"):
            t = rnd(gen, *shape, std=0.1)
        else:
            t = rnd(gen, *shape, std=0.3)
        params[name] = quant(t).requires_grad_(True)
    return params


def model_loss(params, cfg, inputs, targets):
    c, h, nl = cfg["d_model"], cfg["n_heads"], cfg["n_layers"]
    b, t = cfg["batch"], cfg["seq_len"]
    hd = c // h
    P = params
    x = P["gpt_neox.embed_in.weight"][inputs]  # B*T, C
    for n in range(nl):
        p = f"gpt_neox.layers.{n}."
        h1 = F.layer_norm(x, (c,), P[p + "input_layernorm.weight"], P[p + "input_layernorm.bias"], LN_EPS)
        qkv = F.linear(h1, P[p + "attention.query_key_value.weight"], P[p + "attention.query_key_value.bias"])
        if cfg["positional"] == "rope":
            qkv = rope(qkv, b, t, h, hd, cfg["rotary_dims"], cfg["rope_base"], 0)
        a, _ = attention(qkv, b, t, h, hd, cfg["windows"], cfg["slopes"])
        a = F.linear(a, P[p + "attention.dense.weight"], P[p + "attention.dense.bias"])
        h2 = F.layer_norm(x, (c,), P[p + "post_attention_layernorm.weight"],
                          P[p + "post_attention_layernorm.bias"], LN_EPS)
        m = F.linear(h2, P[p + "mlp.dense_h_to_4h.weight"], P[p + "mlp.dense_h_to_4h.bias"])
        m = F.linear(F.gelu(m), P[p + "mlp.dense_4h_to_h.weight"], P[p + "mlp.dense_4h_to_h.bias"])
        x = x + a + m
    x = F.layer_norm(x, (c,), P["gpt_neox.final_layer_norm.weight"], P["gpt_neox.final_layer_norm.bias"], LN_EPS)
    logits = F.linear(x, P["embed_out.weight"])
    loss = F.cross_entropy(logits, targets, ignore_index=-1, reduction="mean")
    return logits, loss


MODEL_FIXTURES = [
    # name, positional, rotary_pct, windows (None = scheme default)
    ("nope", "nope", 0.0, None),
    ("rope", "rope", 1.0, None),
    ("rope-half", "rope", 0.5, None),
    ("alibi", "alibi", 0.0, None),
    ("hard-alibi", "hard-alibi", 0.0, None),
    ("hard-alibi-custom", "hard-alibi", 0.0, [3, 0, 1, 2]),
]


def model_config(positional, rotary_pct, windows, c=16, h=4, n_layers=2, b=2, t=9):
    hd = c // h
    if windows is None:
        windows = default_windows(h) if positional == "hard-alibi" else [0] * h
    return {
        "d_model": c,
        "n_heads": h,
        "head_dim": hd,
        "n_layers": n_layers,
        "positional": positional,
        "windows": list(windows),
        "slopes": alibi_slopes(h) if positional == "alibi" else [0.0] * h,
        "rotary_pct": rotary_pct,
        "rotary_dims": rotary_dims(hd, rotary_pct) if positional == "rope" else 0,
        "rope_base": ROPE_BASE,
        "layer_norm_eps": LN_EPS,
        "intermediate_size": 4 * c,
        "vocab": VOCAB,
        "batch": b,
        "seq_len": t,
        "seed": SEED,
    }


def batch(b, t, seed):
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randint(0, VOCAB, (b * t,), generator=gen)
    targets = torch.randint(0, VOCAB, (b * t,), generator=gen)
    # mask some targets: the first position of row 0, the last two of row 1, and two in the middle
    for i in [0, t // 2, b * t - 2, b * t - 1, t + 3]:
        targets[i] = -1
    return inputs, targets


def make_model_fixture(positional, rotary_pct, windows):
    cfg = model_config(positional, rotary_pct, windows)
    params = init_params(param_shapes(cfg["d_model"], cfg["n_layers"], cfg["intermediate_size"]), SEED)
    inputs, targets = batch(cfg["batch"], cfg["seq_len"], SEED + 1)
    logits, loss = model_loss(params, cfg, inputs, targets)
    loss.backward()
    return {
        "config": cfg,
        "inputs": inputs.tolist(),
        "targets": targets.tolist(),
        "params": {k: tens(v) for k, v in params.items()},
        "logits": flat(logits),
        "loss": float(loss),
        "grads": {k: flat(v.grad) for k, v in params.items()},
    }


def write_safetensors(path, tensors):
    """safetensors.torch.save_file by hand: 8-byte little-endian header length, JSON header (padded with spaces to
    a multiple of 8, as the reference writer does), then each tensor's raw little-endian float32 bytes."""
    header = {"__metadata__": {"format": "pt"}}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.float32).contiguous()
        blob = struct.pack("<%df" % t.numel(), *t.view(-1).tolist())
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for blob in blobs:
            f.write(blob)


def make_safetensors_fixture(out_dir):
    """The rope model's parameters as a PyTorch safetensors file, and the logits its float32 weights give."""
    cfg = model_config("rope", 1.0, None)
    params = init_params(param_shapes(cfg["d_model"], cfg["n_layers"], cfg["intermediate_size"]), SEED)
    write_safetensors(os.path.join(out_dir, "pytorch-rope.safetensors"), params)
    as_stored = {k: v.detach().to(torch.float32).to(DT) for k, v in params.items()}
    inputs, targets = batch(cfg["batch"], cfg["seq_len"], SEED + 1)
    with torch.no_grad():
        logits, loss = model_loss(as_stored, cfg, inputs, targets)
    return {"config": cfg, "weights": "pytorch-rope.safetensors", "inputs": inputs.tolist(),
            "targets": targets.tolist(), "logits": flat(logits), "loss": float(loss)}


# ---------------------------------------------------------------------------------------------------------
# single-op fixtures


def grad_of(out, inputs, dout):
    return torch.autograd.grad(out, inputs, dout)


def make_ops():
    gen = torch.Generator().manual_seed(SEED + 100)
    ops = {}

    # LayerNorm over the last dim
    n, c = 5, 8
    x = (rnd(gen, n, c, std=2.0) + 0.5).requires_grad_(True)
    w = (1.0 + rnd(gen, c, std=0.1)).requires_grad_(True)
    bb = rnd(gen, c, std=0.1).requires_grad_(True)
    dout = rnd(gen, n, c)
    out = F.layer_norm(x, (c,), w, bb, LN_EPS)
    din, dw, db = grad_of(out, (x, w, bb), dout)
    xd = x.detach()
    mean = xd.mean(-1)
    rstd = 1.0 / torch.sqrt(xd.var(-1, unbiased=False) + LN_EPS)
    ops["layernorm"] = {
        "eps": LN_EPS, "input": tens(xd), "weight": tens(w.detach()), "bias": tens(bb.detach()),
        "dout": tens(dout), "out": tens(out), "mean": tens(mean), "rstd": tens(rstd),
        "din": tens(din), "dweight": tens(dw), "dbias": tens(db),
    }

    # exact (erf) GELU
    x = torch.cat([torch.linspace(-6, 6, 25, dtype=DT), rnd(gen, 15, std=2.0)]).requires_grad_(True)
    dout = rnd(gen, x.shape[0])
    out = F.gelu(x)
    (din,) = grad_of(out, (x,), dout)
    ops["gelu"] = {"input": tens(x.detach()), "dout": tens(dout), "out": tens(out), "din": tens(din)}

    # softmax cross-entropy with masked targets
    n, v = 6, VOCAB
    logits = rnd(gen, n, v, std=2.0)
    logits[4] = logits[4] * 30.0  # a large-logit row: needs a stable log-sum-exp
    logits = logits.requires_grad_(True)
    targets = torch.tensor([3, -1, 29, 0, 17, -1])
    loss_sum = F.cross_entropy(logits, targets, ignore_index=-1, reduction="sum")
    count = int((targets >= 0).sum())
    loss_mean = loss_sum / count
    (dlogits,) = grad_of(loss_mean, (logits,), torch.tensor(1.0, dtype=DT))
    ops["cross_entropy"] = {
        "logits": tens(logits.detach()), "targets": targets.tolist(), "count": count,
        "loss_sum": float(loss_sum), "loss_mean": float(loss_mean), "grad_scale": 1.0 / count,
        "dlogits": tens(dlogits),
    }

    # causal attention per scheme, B=1, T=7, H=4, hd=4
    b, t, h, hd = 1, 7, 4, 4
    qkv = rnd(gen, b * t, h * 3 * hd)
    dout = rnd(gen, b * t, h * hd)
    att = {}
    for name, windows, slopes in [
        ("nope", [0] * h, [0.0] * h),
        ("alibi", [0] * h, alibi_slopes(h)),
        ("hard-alibi", default_windows(h), [0.0] * h),
        ("hard-alibi-custom", [3, 0, 1, 2], [0.0] * h),
    ]:
        q = qkv.clone().requires_grad_(True)
        out, lse = attention(q, b, t, h, hd, windows, slopes)
        (dqkv,) = grad_of(out, (q,), dout)
        att[name] = {
            "batch": b, "seq_len": t, "heads": h, "head_dim": hd, "windows": windows, "slopes": slopes,
            "qkv": tens(qkv), "dout": tens(dout), "out": tens(out), "lse": tens(lse), "dqkv": tens(dqkv),
        }
    ops["attention"] = att

    # RoPE, positions offset 3
    rp = {}
    for name, hd_, pct in [("full", 4, 1.0), ("half", 8, 0.5), ("quarter", 8, 0.25)]:
        r = rotary_dims(hd_, pct)
        qkv = rnd(gen, b * t, h * 3 * hd_).requires_grad_(True)
        dout = rnd(gen, b * t, h * 3 * hd_)
        out = rope(qkv, b, t, h, hd_, r, ROPE_BASE, 3)
        (dqkv,) = grad_of(out, (qkv,), dout)
        rp[name] = {
            "batch": b, "seq_len": t, "heads": h, "head_dim": hd_, "rotary_pct": pct, "rotary_dims": r,
            "base": ROPE_BASE, "pos_offset": 3,
            "qkv": tens(qkv.detach()), "out": tens(out), "dout": tens(dout), "dqkv": tens(dqkv),
        }
    ops["rope"] = rp
    return ops


# ---------------------------------------------------------------------------------------------------------
# self-checks against plain loops of the formulas


def loop_attention(qkv, t, h, hd, windows, slopes):
    out = [[0.0] * (h * hd) for _ in range(t)]
    for hh in range(h):
        base = hh * 3 * hd
        for qp in range(t):
            lo = max(0, qp - windows[hh] + 1) if windows[hh] > 0 else 0
            s = []
            for kp in range(lo, qp + 1):
                dot = sum(qkv[qp][base + d] * qkv[kp][base + hd + d] for d in range(hd))
                s.append(dot / math.sqrt(hd) - slopes[hh] * (qp - kp))
            mx = max(s)
            e = [math.exp(z - mx) for z in s]
            tot = sum(e)
            for d in range(hd):
                out[qp][hh * hd + d] = sum(e[j] / tot * qkv[lo + j][base + 2 * hd + d] for j in range(len(e)))
    return out


def loop_rope(qkv, t, h, hd, r, base, offset):
    out = [row[:] for row in qkv]
    half = r // 2
    for p in range(t):
        for hh in range(h):
            for part in range(2):
                o = hh * 3 * hd + part * hd
                for i in range(half):
                    ang = (p + offset) * (1.0 / base ** (2.0 * i / r))
                    x1, x2 = qkv[p][o + i], qkv[p][o + i + half]
                    out[p][o + i] = x1 * math.cos(ang) - x2 * math.sin(ang)
                    out[p][o + i + half] = x2 * math.cos(ang) + x1 * math.sin(ang)
    return out


def max_diff(a, b):
    return max(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra, rb))


def self_check(ops):
    for name, case in ops["attention"].items():
        qkv = torch.tensor(case["qkv"]["data"], dtype=DT).view(case["qkv"]["shape"]).tolist()
        ref = loop_attention(qkv, case["seq_len"], case["heads"], case["head_dim"], case["windows"], case["slopes"])
        got = torch.tensor(case["out"]["data"], dtype=DT).view(case["out"]["shape"]).tolist()
        d = max_diff(ref, got)
        assert d < 1e-12, f"attention {name}: {d}"
    for name, case in ops["rope"].items():
        qkv = torch.tensor(case["qkv"]["data"], dtype=DT).view(case["qkv"]["shape"]).tolist()
        ref = loop_rope(qkv, case["seq_len"], case["heads"], case["head_dim"], case["rotary_dims"], case["base"],
                        case["pos_offset"])
        got = torch.tensor(case["out"]["data"], dtype=DT).view(case["out"]["shape"]).tolist()
        d = max_diff(ref, got)
        assert d < 1e-12, f"rope {name}: {d}"
    # the whole model: autograd vs central differences on a few parameters
    cfg = model_config("rope", 0.5, None)
    params = init_params(param_shapes(16, 2, 64), SEED)
    inputs, targets = batch(2, 9, SEED + 1)
    _, loss = model_loss(params, cfg, inputs, targets)
    loss.backward()
    eps = 1e-6
    for name in ["gpt_neox.layers.0.attention.query_key_value.weight", "gpt_neox.layers.1.mlp.dense_4h_to_h.bias",
                 "gpt_neox.embed_in.weight"]:
        p = params[name]
        for idx in [0, 7, p.numel() - 1]:
            with torch.no_grad():
                p.view(-1)[idx] += eps
                lp = model_loss(params, cfg, inputs, targets)[1].item()
                p.view(-1)[idx] -= 2 * eps
                lm = model_loss(params, cfg, inputs, targets)[1].item()
                p.view(-1)[idx] += eps
            num = (lp - lm) / (2 * eps)
            ana = p.grad.view(-1)[idx].item()
            assert abs(num - ana) < 1e-7 * max(1.0, abs(ana)), f"grad {name}[{idx}]: {num} vs {ana}"


# ---------------------------------------------------------------------------------------------------------
# README

README = """# Golden fixtures (generated — do not edit by hand)

Float64 reference values computed by PyTorch for the Java tests. Regenerate with Debian's PyTorch
(`apt-get install -y python3-torch`) and the system python:

    /usr/bin/python3 scripts/make_fixtures.py java/src/test/resources/fixtures

The output is deterministic (fixed seeds, CPU, float64).

## Conventions

* A **tensor** is `{"shape": [d0, d1, ...], "data": [flat row-major floats]}`. A **flat list** is just the
  row-major data. Ints are JSON ints.
* Floats are written with Python's `repr` (shortest string that reads back to the same float64). Random inputs
  and parameters are multiples of 1e-4 (so they print short); the printed value is exactly the float64 that
  was used. Computed values (outputs, loss, gradients) carry full float64 precision.
* Linear weights are `[out, in]` (torch.nn.Linear). A fused qkv row is GPT-NeoX's: per head h, columns
  `h*3*hd + [0,hd)` are q, `+ [hd,2hd)` are k, `+ [2hd,3hd)` are v.
* Attention: score(q,k) = q·k/sqrt(hd) − m_h·(q−k) for keys k ≤ q; a head with window w_h > 0 sees only keys
  q−w_h+1 .. q (w_h = 0: plain causal). ALiBi slopes m_h = 2^(−8(h+1)/H), h = 0..H−1; 0 for other schemes.
  Hard-ALiBi default windows: w_h = h+1 for h < H/2, else 0.
* RoPE: GPT-NeoX rotate_half on the first r = int(hd·rotary_pct) (rounded down to even) dims of q and k,
  inv_freq[i] = 1/base^(2i/r) for i < r/2 (computed in float64), angle = pos·inv_freq[i];
  out[i] = x[i]·cos − x[i+r/2]·sin, out[i+r/2] = x[i+r/2]·cos + x[i]·sin; dims ≥ r and v unchanged.
* GELU is exact (erf). LayerNorm eps 1e-5, biased variance.

## Model fixtures: nope.json, rope.json, rope-half.json, alibi.json, hard-alibi.json, hard-alibi-custom.json

A GPT-NeoX / Pythia model, `use_parallel_residual=True`: `x = x + dense(attn(ln1(x))) + mlp(ln2(x))`,
mlp = dense_4h_to_h(gelu(dense_h_to_4h(h))); logits = embed_out(final_layer_norm(x)); untied embeddings, no
bias on embed_out. All six files use the same parameters, inputs and targets (same seeds); only the
positional scheme differs. d_model 16, 4 heads of 4, 2 layers, MLP 64, vocab 30, batch 2, seq_len 9.

| file | positional | windows | rotary_pct → rotary_dims |
|---|---|---|---|
| nope.json | nope | [0,0,0,0] | – |
| rope.json | rope | [0,0,0,0] | 1.0 → 4 (all of each head) |
| rope-half.json | rope | [0,0,0,0] | 0.5 → 2 (dims 2,3 pass through) |
| alibi.json | alibi | [0,0,0,0] | – |
| hard-alibi.json | hard-alibi | [1,2,0,0] (default) | – |
| hard-alibi-custom.json | hard-alibi | [3,0,1,2] (override) | – |

```
{
  "config": {"d_model": 16, "n_heads": 4, "head_dim": 4, "n_layers": 2,
             "positional": "nope" | "rope" | "alibi" | "hard-alibi",
             "windows": [H ints, resolved per head], "slopes": [H floats, resolved; 0 unless alibi],
             "rotary_pct": float (0.0 unless rope), "rotary_dims": int (0 unless rope), "rope_base": 10000.0,
             "layer_norm_eps": 1e-05, "intermediate_size": 64, "vocab": 30,
             "batch": 2, "seq_len": 9, "seed": 1234},
  "inputs":  [B*T ints in 0..29], row-major (batch, time), RoPE positions 0..T-1 in every row,
  "targets": [B*T ints, -1 = masked],
  "params":  {"<HF name>": tensor, ...},
  "logits":  [B*T*V floats] (row-major [B*T, V]),
  "loss":    float, cross-entropy MEAN over the unmasked targets,
  "grads":   {"<HF name>": [flat floats, same shape as the param]}  (gradient of the mean loss)
}
```

Parameter names and shapes (N = layer 0, 1):
`gpt_neox.embed_in.weight` [30,16];
`gpt_neox.layers.N.input_layernorm.{weight,bias}` [16];
`gpt_neox.layers.N.post_attention_layernorm.{weight,bias}` [16];
`gpt_neox.layers.N.attention.query_key_value.weight` [48,16], `.bias` [48];
`gpt_neox.layers.N.attention.dense.weight` [16,16], `.bias` [16];
`gpt_neox.layers.N.mlp.dense_h_to_4h.weight` [64,16], `.bias` [64];
`gpt_neox.layers.N.mlp.dense_4h_to_h.weight` [16,64], `.bias` [16];
`gpt_neox.final_layer_norm.{weight,bias}` [16]; `embed_out.weight` [30,16].
Init: weights normal(0, 0.3); biases normal(0, 0.1); LayerNorm weights 1 + normal(0, 0.1), LayerNorm biases
normal(0, 0.1); then rounded to multiples of 1e-4.

## pytorch-rope.safetensors and pytorch-rope.json

The rope model's parameters (the ones in `rope.json`) as PyTorch's `safetensors.torch.save_file` writes a
state dict: an 8-byte little-endian header length, a JSON header `{"__metadata__": {"format": "pt"},
"<HF name>": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}` (tensors sorted by name,
padded with spaces to a multiple of 8 bytes), then the raw little-endian float32 data. `pytorch-rope.json`:

```
{"config": {as in rope.json}, "weights": "pytorch-rope.safetensors", "inputs": [...], "targets": [...],
 "logits": [B*T*V floats], "loss": float}
```
where logits and loss are computed in float64 from the float32 weights as stored (so a float64 backend that
loads the file matches them to rounding).

## ops.json

```
{
  "layernorm": {"eps": 1e-05,
                "input": [5,8], "weight": [8], "bias": [8], "dout": [5,8],
                "out": [5,8], "mean": [5], "rstd": [5] (1/sqrt(biased var + eps)),
                "din": [5,8], "dweight": [8], "dbias": [8]},
  "gelu": {"input": [40], "dout": [40], "out": [40], "din": [40]},
  "cross_entropy": {"logits": [6,30], "targets": [6 ints, -1 masked] (plain list), "count": 4,
                    "loss_sum": float, "loss_mean": float, "grad_scale": 1/count,
                    "dlogits": [6,30] (gradient of loss_mean = grad_scale·(softmax − onehot), 0 on masked rows)},
  "attention": {"nope" | "alibi" | "hard-alibi" | "hard-alibi-custom": {
                  "batch": 1, "seq_len": 7, "heads": 4, "head_dim": 4,
                  "windows": [4 ints], "slopes": [4 floats],
                  "qkv": [7,48] (NeoX layout), "dout": [7,16],
                  "out": [7,16] (heads concatenated in order), "lse": [1,4,7] (log-sum-exp of each row's scores,
                  scaled and biased, over the visible keys), "dqkv": [7,48]}},
  "rope": {"full" | "half" | "quarter": {
             "batch": 1, "seq_len": 7, "heads": 4, "head_dim": hd, "rotary_pct": p, "rotary_dims": r,
             "base": 10000.0, "pos_offset": 3 (row t has position t+3),
             "qkv": [7, 4*3*hd], "out": [7, 4*3*hd], "dout": [7, 4*3*hd], "dqkv": [7, 4*3*hd]}}
}
```
(shapes above stand for tensors `{"shape", "data"}`.) All attention cases share one qkv and dout.
In every case the gradients are the plain gradients (the Java backward ops accumulate: zero them first).
The rope cases: full = hd 4, pct 1.0, r 4; half = hd 8, pct 0.5, r 4; quarter = hd 8, pct 0.25, r 2.
The attention windows: nope [0,0,0,0], alibi [0,0,0,0] with slopes [2^-2, 2^-4, 2^-6, 2^-8],
hard-alibi [1,2,0,0], hard-alibi-custom [3,0,1,2].
"""


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        sys.exit(2)
    out_dir = argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_default_dtype(DT)
    write_json(os.path.join(out_dir, "pytorch-rope.json"), make_safetensors_fixture(out_dir))
    ops = make_ops()
    self_check(ops)
    write_json(os.path.join(out_dir, "ops.json"), ops)
    for name, positional, pct, windows in MODEL_FIXTURES:
        write_json(os.path.join(out_dir, name + ".json"), make_model_fixture(positional, pct, windows))
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write(README)
    for name in sorted(os.listdir(out_dir)):
        print(f"{os.path.getsize(os.path.join(out_dir, name)):8d}  {name}")


if __name__ == "__main__":
    main(sys.argv)
