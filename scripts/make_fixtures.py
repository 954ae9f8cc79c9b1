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
* ``mamba.json`` and ``mamba-rms.json``: a tiny Mamba LM (HF MambaForCausalLM names, mamba_ssm's Mamba mixer
  with the selective scan written here after mamba_ssm's ``selective_scan_ref``, LayerNorm resp. RMSNorm, LM
  head tied to the embedding), and ``lstm.json``: the reference code's LSTM LM (nn.Embedding + nn.LSTM +
  nn.Linear, loaded with load_state_dict from parrot's names); each with a batch, logits, loss and gradients;
* ``recurrent-ops.json``: the selective scan (with and without z, D, delta_bias, softplus), the causal
  depthwise conv1d and RMSNorm, with their inputs, outputs and backward results;
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
# Mamba and LSTM


def selective_scan_ref(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False):
    """mamba_ssm's selective_scan_ref for real A and time-varying B, C (the case Mamba uses), in float64.

    u, delta, z: (batch, dim, L); A: (dim, N); B, C: (batch, N, L); D, delta_bias: (dim,). Returns (batch, dim, L).
    """
    if delta_bias is not None:
        delta = delta + delta_bias[..., None]
    if delta_softplus:
        delta = F.softplus(delta)
    batch, dim, dstate = u.shape[0], A.shape[0], A.shape[1]
    x = u.new_zeros((batch, dim, dstate))
    ys = []
    deltaA = torch.exp(torch.einsum("bdl,dn->bdln", delta, A))
    deltaB_u = torch.einsum("bdl,bnl,bdl->bdln", delta, B, u)
    for i in range(u.shape[2]):
        x = deltaA[:, :, i] * x + deltaB_u[:, :, i]
        ys.append(torch.einsum("bdn,bn->bd", x, C[:, :, i]))
    y = torch.stack(ys, dim=2)
    out = y if D is None else y + u * D[:, None]
    if z is not None:
        out = out * F.silu(z)
    return out


def loop_scan(u, delta, A, B, C, D, z, delta_bias, softplus):
    """The same recurrence, one scalar at a time (self-check of selective_scan_ref)."""
    bsz, dim, L = u.shape
    n = A.shape[1]
    out = torch.zeros(bsz, dim, L, dtype=DT)
    for b in range(bsz):
        for d in range(dim):
            h = [0.0] * n
            for t in range(L):
                dl = float(delta[b, d, t]) + (float(delta_bias[d]) if delta_bias is not None else 0.0)
                if softplus:
                    dl = dl if dl > 20 else math.log1p(math.exp(dl))
                y = 0.0
                for s in range(n):
                    h[s] = math.exp(dl * float(A[d, s])) * h[s] + dl * float(B[b, s, t]) * float(u[b, d, t])
                    y += float(C[b, s, t]) * h[s]
                if D is not None:
                    y += float(D[d]) * float(u[b, d, t])
                if z is not None:
                    zz = float(z[b, d, t])
                    y *= zz / (1 + math.exp(-zz))
                out[b, d, t] = y
    return out


def causal_conv1d(x, w, bias):
    """x (batch, C, L), w (C, 1, K): nn.Conv1d(C, C, K, groups=C, padding=K-1), first L outputs."""
    k, L = w.shape[-1], x.shape[-1]
    return F.conv1d(x, w, bias, padding=k - 1, groups=x.shape[1])[..., :L]


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def mamba_param_shapes(cfg):
    c, n, k, r = cfg["d_model"], cfg["d_state"], cfg["d_conv"], cfg["dt_rank"]
    di = cfg["expand"] * c
    shapes = {"backbone.embeddings.weight": [VOCAB, c]}
    for l in range(cfg["n_layers"]):
        p = f"backbone.layers.{l}."
        shapes[p + "norm.weight"] = [c]
        if cfg["norm"] == "layernorm":
            shapes[p + "norm.bias"] = [c]
        shapes.update({
            p + "mixer.in_proj.weight": [2 * di, c],
            p + "mixer.conv1d.weight": [di, 1, k],
            p + "mixer.conv1d.bias": [di],
            p + "mixer.x_proj.weight": [r + 2 * n, di],
            p + "mixer.dt_proj.weight": [di, r],
            p + "mixer.dt_proj.bias": [di],
            p + "mixer.A_log": [di, n],
            p + "mixer.D": [di],
            p + "mixer.out_proj.weight": [c, di],
        })
    shapes["backbone.norm_f.weight"] = [c]
    if cfg["norm"] == "layernorm":
        shapes["backbone.norm_f.bias"] = [c]
    return shapes


def mamba_init(shapes, seed):
    gen = torch.Generator().manual_seed(seed)
    params = {}
    for name, shape in shapes.items():
        if name.endswith("norm.weight") or name.endswith("norm_f.weight"):
            t = 1.0 + rnd(gen, *shape, std=0.1)
        elif name.endswith("A_log"):
            t = torch.log(torch.arange(1, shape[1] + 1, dtype=DT)).repeat(shape[0], 1) + rnd(gen, *shape, std=0.1)
        elif name.endswith(".D"):
            t = 1.0 + rnd(gen, *shape, std=0.2)
        elif name.endswith("dt_proj.bias"):
            t = -2.0 + rnd(gen, *shape, std=0.5)   # softplus(-2) = 0.13: Mamba-like step sizes
        elif name.endswith(".bias"):
            t = rnd(gen, *shape, std=0.1)
        else:
            t = rnd(gen, *shape, std=0.3)
        params[name] = quant(t).requires_grad_(True)
    return params


def mamba_mixer(P, p, h, cfg):
    """mamba_ssm Mamba.forward (the slow, reference path) on h (batch, L, d_model)."""
    bsz, L, _ = h.shape
    n, r = cfg["d_state"], cfg["dt_rank"]
    di = cfg["expand"] * cfg["d_model"]
    xz = F.linear(h, P[p + "in_proj.weight"]).transpose(1, 2)        # (b, 2di, L)
    x, z = xz.chunk(2, dim=1)
    x = F.silu(causal_conv1d(x, P[p + "conv1d.weight"], P[p + "conv1d.bias"]))
    x_dbl = F.linear(x.transpose(1, 2).reshape(bsz * L, di), P[p + "x_proj.weight"])
    dt, B, C = torch.split(x_dbl, [r, n, n], dim=-1)
    dt = (P[p + "dt_proj.weight"] @ dt.t()).view(di, bsz, L).permute(1, 0, 2)   # (b, di, L), no bias
    B = B.view(bsz, L, n).transpose(1, 2)
    C = C.view(bsz, L, n).transpose(1, 2)
    A = -torch.exp(P[p + "A_log"])
    y = selective_scan_ref(x, dt, A, B, C, P[p + "D"], z=z, delta_bias=P[p + "dt_proj.bias"], delta_softplus=True)
    return F.linear(y.transpose(1, 2), P[p + "out_proj.weight"])


def mamba_norm(P, name, x, cfg):
    if cfg["norm"] == "layernorm":
        return F.layer_norm(x, (x.shape[-1],), P[name + ".weight"], P[name + ".bias"], cfg["layer_norm_eps"])
    return rms_norm(x, P[name + ".weight"], cfg["layer_norm_eps"])


def mamba_loss(P, cfg, inputs, targets):
    b, t = cfg["batch"], cfg["seq_len"]
    emb = P["backbone.embeddings.weight"]
    x = emb[inputs].view(b, t, -1)
    for l in range(cfg["n_layers"]):
        p = f"backbone.layers.{l}."
        x = x + mamba_mixer(P, p + "mixer.", mamba_norm(P, p + "norm", x, cfg), cfg)
    x = mamba_norm(P, "backbone.norm_f", x, cfg)
    logits = F.linear(x.reshape(b * t, -1), emb)   # tied LM head
    return logits, F.cross_entropy(logits, targets, ignore_index=-1, reduction="mean")


def mamba_config(norm, n_layers, c=8, n=4, k=4, expand=2, b=2, t=9):
    return {"d_model": c, "n_layers": n_layers, "d_state": n, "d_conv": k, "expand": expand,
            "dt_rank": math.ceil(c / 16), "norm": norm, "layer_norm_eps": LN_EPS, "vocab": VOCAB,
            "batch": b, "seq_len": t, "seed": SEED}


def make_mamba_fixture(norm, n_layers):
    cfg = mamba_config(norm, n_layers)
    params = mamba_init(mamba_param_shapes(cfg), SEED + 7)
    inputs, targets = batch(cfg["batch"], cfg["seq_len"], SEED + 1)
    logits, loss = mamba_loss(params, cfg, inputs, targets)
    loss.backward()
    return {
        "config": cfg, "inputs": inputs.tolist(), "targets": targets.tolist(),
        "params": {k: tens(v) for k, v in params.items()}, "logits": flat(logits), "loss": float(loss),
        "grads": {k: flat(v.grad) for k, v in params.items()},
    }


class LstmLM(torch.nn.Module):
    """The reference code's LSTM language model (without dropout): embedding -> nn.LSTM -> linear head."""

    def __init__(self, d_model, hidden, n_layers):
        super().__init__()
        self.word_embeddings = torch.nn.Embedding(VOCAB, d_model)
        self.lstm = torch.nn.LSTM(input_size=d_model, hidden_size=hidden, num_layers=n_layers, batch_first=True)
        self.head = torch.nn.Linear(hidden, VOCAB)

    def forward(self, tokens):
        out, _ = self.lstm(self.word_embeddings(tokens))
        return self.head(out)


def make_lstm_fixture():
    cfg = {"d_model": 8, "lstm_hidden": 10, "n_layers": 2, "vocab": VOCAB, "batch": 2, "seq_len": 9, "seed": SEED}
    model = LstmLM(cfg["d_model"], cfg["lstm_hidden"], cfg["n_layers"]).to(DT)
    gen = torch.Generator().manual_seed(SEED + 11)
    state = {}
    for name, p in model.state_dict().items():
        std = 0.1 if "bias" in name else 0.4
        state[name] = quant(rnd(gen, *p.shape, std=std))
    model.load_state_dict(state, strict=True)   # parrot's names are exactly this module's
    inputs, targets = batch(cfg["batch"], cfg["seq_len"], SEED + 1)
    logits = model(inputs.view(cfg["batch"], cfg["seq_len"])).reshape(-1, VOCAB)
    loss = F.cross_entropy(logits, targets, ignore_index=-1, reduction="mean")
    loss.backward()
    named = dict(model.named_parameters())
    return {
        "config": cfg, "inputs": inputs.tolist(), "targets": targets.tolist(),
        "params": {k: tens(v) for k, v in state.items()}, "logits": flat(logits), "loss": float(loss),
        "grads": {k: flat(named[k].grad) for k in state},
    }


def channels_last(t):
    """(batch, X, L) -> [batch*L, X], parrot's activation layout."""
    return t.permute(0, 2, 1).reshape(-1, t.shape[1])


def make_recurrent_ops():
    gen = torch.Generator().manual_seed(SEED + 200)
    ops = {}
    bsz, dim, L, n = 2, 5, 11, 3
    scans = {}
    for name, with_z, with_d, with_bias, softplus in [
        ("full", True, True, True, True),
        ("bare", False, False, False, False),
        ("z-only", True, False, False, True),
    ]:
        u = rnd(gen, bsz, dim, L)
        delta = rnd(gen, bsz, dim, L) if softplus else quant(0.1 + 0.9 * torch.rand(bsz, dim, L, generator=gen, dtype=DT))
        A = quant(-0.2 - torch.rand(dim, n, generator=gen, dtype=DT))
        B = rnd(gen, bsz, n, L)
        C = rnd(gen, bsz, n, L)
        D = rnd(gen, dim) if with_d else None
        z = rnd(gen, bsz, dim, L) if with_z else None
        bias = rnd(gen, dim, std=0.5) if with_bias else None
        dout = rnd(gen, bsz, dim, L)
        ins = {"u": u, "delta": delta, "A": A, "B": B, "C": C, "D": D, "z": z, "delta_bias": bias}
        req = {k: v.clone().requires_grad_(True) for k, v in ins.items() if v is not None}
        out = selective_scan_ref(req["u"], req["delta"], req["A"], req["B"], req["C"], req.get("D"), req.get("z"),
                                 req.get("delta_bias"), softplus)
        ref = loop_scan(u, delta, A, B, C, D, z, bias, softplus)
        assert (out - ref).abs().max() < 1e-12, f"scan {name}: selective_scan_ref vs loop"
        keys = list(req)
        grads = dict(zip(keys, grad_of(out, tuple(req[k] for k in keys), dout)))
        case = {"batch": bsz, "seq_len": L, "dim": dim, "d_state": n, "softplus": softplus}
        for k, v in ins.items():
            if v is None:
                continue
            case[k] = tens(channels_last(v) if v.dim() == 3 else v)
            g = grads[k]
            case["d" + k] = tens(channels_last(g) if g.dim() == 3 else g)
        case["dout"] = tens(channels_last(dout))
        case["out"] = tens(channels_last(out))
        scans[name] = case
    ops["scan"] = scans

    # causal depthwise conv1d, kernel 4, with bias
    cch, k = 6, 4
    x = rnd(gen, bsz, cch, L).requires_grad_(True)
    w = rnd(gen, cch, 1, k).requires_grad_(True)
    bb = rnd(gen, cch).requires_grad_(True)
    dout = rnd(gen, bsz, cch, L)
    out = causal_conv1d(x, w, bb)
    din, dw, db = grad_of(out, (x, w, bb), dout)
    ops["conv1d"] = {"batch": bsz, "seq_len": L, "channels": cch, "kernel": k,
                     "input": tens(channels_last(x.detach())), "weight": tens(w.detach()), "bias": tens(bb.detach()),
                     "dout": tens(channels_last(dout)), "out": tens(channels_last(out)),
                     "din": tens(channels_last(din)), "dweight": tens(dw), "dbias": tens(db)}

    # RMSNorm
    x = rnd(gen, 5, 8, std=2.0).requires_grad_(True)
    w = (1.0 + rnd(gen, 8, std=0.1)).requires_grad_(True)
    dout = rnd(gen, 5, 8)
    out = rms_norm(x, w, LN_EPS)
    din, dw = grad_of(out, (x, w), dout)
    rstd = torch.rsqrt(x.detach().pow(2).mean(-1) + LN_EPS)
    ops["rmsnorm"] = {"eps": LN_EPS, "input": tens(x.detach()), "weight": tens(w.detach()), "dout": tens(dout),
                      "out": tens(out), "rstd": tens(rstd), "din": tens(din), "dweight": tens(dw)}
    return ops


def mamba_self_check():
    """The Mamba forward against mamba_ssm's step() recurrence (conv window + SSM state), token by token."""
    cfg = mamba_config("layernorm", 1)
    P = {k: v.detach() for k, v in mamba_init(mamba_param_shapes(cfg), SEED + 7).items()}
    p = "backbone.layers.0.mixer."
    h = rnd(torch.Generator().manual_seed(5), 1, cfg["seq_len"], cfg["d_model"])
    full = mamba_mixer(P, p, h, cfg)[0]
    di, n, k, r = cfg["expand"] * cfg["d_model"], cfg["d_state"], cfg["d_conv"], cfg["dt_rank"]
    conv_state = torch.zeros(di, k, dtype=DT)
    ssm = torch.zeros(di, n, dtype=DT)
    A = -torch.exp(P[p + "A_log"])
    for t in range(cfg["seq_len"]):
        x, z = F.linear(h[0, t], P[p + "in_proj.weight"]).chunk(2)
        conv_state = torch.roll(conv_state, shifts=-1, dims=-1)
        conv_state[:, -1] = x
        x = F.silu((conv_state * P[p + "conv1d.weight"][:, 0, :]).sum(-1) + P[p + "conv1d.bias"])
        dt, B, C = torch.split(F.linear(x, P[p + "x_proj.weight"]), [r, n, n])
        dt = F.softplus(F.linear(dt, P[p + "dt_proj.weight"]) + P[p + "dt_proj.bias"])
        ssm = ssm * torch.exp(dt[:, None] * A) + x[:, None] * dt[:, None] * B[None, :]
        y = (ssm @ C + P[p + "D"] * x) * F.silu(z)
        step = F.linear(y, P[p + "out_proj.weight"])
        assert (step - full[t]).abs().max() < 1e-12, f"mamba step {t}"


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

## Mamba model fixtures: mamba.json (LayerNorm, 2 layers), mamba-rms.json (RMSNorm, 1 layer)

mamba_ssm's Mamba mixer in a pre-norm residual block, `x = x + mixer(norm(x))`, final `norm_f`, LM head tied
to the embedding (`logits = norm_f(x) · embeddingsᵀ`, no `lm_head.weight` tensor). The mixer:
`x, z = in_proj(h)`; `u = silu(conv1d(x))` (causal depthwise, padding d_conv−1, first L outputs);
`dt, B, C = x_proj(u)`; `δ = dt_proj.weight·dt` (no bias here); `y = selective_scan_ref(u, δ, A = −exp(A_log),
B, C, D, z, delta_bias = dt_proj.bias, delta_softplus = True)`; `out_proj(y)`. d_model 8, d_state 4, d_conv 4,
expand 2 (d_inner 16), dt_rank 1, vocab 30, batch 2, seq_len 9; same inputs/targets as the GPT-NeoX fixtures.
Same JSON layout as above (`config` has d_model, n_layers, d_state, d_conv, expand, dt_rank, norm,
layer_norm_eps, vocab, batch, seq_len, seed). Names (HF MambaForCausalLM): `backbone.embeddings.weight` [30,8];
`backbone.layers.N.norm.weight` [8] (+ `.bias` for layernorm); `backbone.layers.N.mixer.in_proj.weight` [32,8],
`conv1d.weight` [16,1,4], `conv1d.bias` [16], `x_proj.weight` [9,16], `dt_proj.weight` [16,1], `dt_proj.bias`
[16], `A_log` [16,4], `D` [16], `out_proj.weight` [8,16]; `backbone.norm_f.weight` [8] (+ `.bias`).
Init: weights normal(0, 0.3), norm weights 1 + normal(0, 0.1), biases normal(0, 0.1), A_log = log(1..4) +
normal(0, 0.1), D = 1 + normal(0, 0.2), dt_proj.bias = −2 + normal(0, 0.5); rounded to multiples of 1e-4.
RMSNorm: `x·rsqrt(mean(x²) + eps)·weight`.

## LSTM model fixture: lstm.json

The reference code's LSTM LM without dropout: `word_embeddings` (nn.Embedding 30×8) → `lstm`
(nn.LSTM(8, 10, num_layers=2, batch_first=True), gates i, f, g, o) → `head` (nn.Linear(10, 30) with bias).
The parameters are set with `load_state_dict(strict=True)` from the fixture's names, which are exactly
parrot's: `word_embeddings.weight`, `lstm.{weight_ih,weight_hh,bias_ih,bias_hh}_l{0,1}`, `head.weight`,
`head.bias`. `config`: d_model 8, lstm_hidden 10, n_layers 2, vocab, batch 2, seq_len 9. Init: weights
normal(0, 0.4), biases normal(0, 0.1), rounded to multiples of 1e-4.

## recurrent-ops.json

All sequence tensors are in parrot's channels-last layout `[batch·L, X]` (row b·L + t), converted from
mamba_ssm's `(batch, X, L)`.
```
{
  "scan": {"full" | "bare" | "z-only": {
             "batch": 2, "seq_len": 11, "dim": 5, "d_state": 3, "softplus": bool,
             "u", "delta", "z", "dout", "out": [22,5]; "B", "C": [22,3]; "A": [5,3]; "D", "delta_bias": [5],
             "du", "ddelta", "dz": [22,5]; "dB", "dC": [22,3]; "dA": [5,3]; "dD", "ddelta_bias": [5]}},
  "conv1d": {"batch": 2, "seq_len": 11, "channels": 6, "kernel": 4, "input", "out", "dout", "din": [22,6],
             "weight", "dweight": [6,1,4], "bias", "dbias": [6]},
  "rmsnorm": {"eps": 1e-05, "input", "out", "dout", "din": [5,8], "weight", "dweight": [8],
              "rstd": [5] (1/sqrt(mean(x²) + eps))}
}
```
full: z, D, delta_bias and softplus; bare: none of them (delta in [0.1, 1]); z-only: z and softplus. Absent
inputs (and their gradients) are left out. The scan is `selective_scan_ref` (mamba_ssm semantics, written in
the script and checked there against a scalar loop); A is in [−1.2, −0.2].
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
    mamba_self_check()
    write_json(os.path.join(out_dir, "recurrent-ops.json"), make_recurrent_ops())
    write_json(os.path.join(out_dir, "mamba.json"), make_mamba_fixture("layernorm", 2))
    write_json(os.path.join(out_dir, "mamba-rms.json"), make_mamba_fixture("rmsnorm", 1))
    write_json(os.path.join(out_dir, "lstm.json"), make_lstm_fixture())
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write(README)
    for name in sorted(os.listdir(out_dir)):
        print(f"{os.path.getsize(os.path.join(out_dir, name)):8d}  {name}")


if __name__ == "__main__":
    main(sys.argv)
