#!/usr/bin/python3
"""Tiny Hugging Face model folders and the checks parrot's pretrained-model code must pass (issue 12).

Run with Debian's PyTorch (apt-get install python3-torch); there is no transformers package here, so the
GPT-NeoX and Mamba forward passes are written out below after transformers' modeling_gpt_neox.py and
modeling_mamba.py (MambaMixer.slow_forward), in float64.

    /usr/bin/python3 scripts/make_hf_fixtures.py java/src/test/resources/hf     # writes the fixtures
    /usr/bin/python3 scripts/make_hf_fixtures.py --forward 1,2,3 DIR [DIR...]     # logits of folders, as JSON

Written into OUT:
* ``pythia-tiny/``: a 2-layer GPT-NeoX in exact Hugging Face layout: config.json with the real field names
  (and the fields a real Pythia file has that parrot does not need), model.safetensors in F16 holding the
  non-parameter buffers real files hold (uint8 causal mask ``attention.bias``, ``masked_bias``,
  ``rotary_emb.inv_freq``), and tokenizer.json (below). Partial rotary: rotary_pct 0.5 of head_dim 8.
* ``pythia-tiny-bf16/``: the same weights in BF16, config.json with the newer names (partial_rotary_factor,
  rope_theta) and a model-level ``gpt_neox.rotary_emb.inv_freq``.
* ``mamba-tiny/``: a 2-layer Mamba (MambaForCausalLM) in F32, sharded in two files with
  model.safetensors.index.json, no lm_head (tied; absent tie_word_embeddings means true).
* ``mamba-tiny-bf16/``: the same weights in one BF16 file that also stores the tied lm_head.weight.
* ``reference.json``: the token ids fed and the float64 logits each model gives. Weights are rounded to values
  that F16, BF16 and F32 hold exactly, so every variant of a model has the same logits.
* ``tokenizer-cases.json``: texts and the ids the tiny tokenizer must give (computed by the byte-level BPE written
  out below, independently of the Rust tokenizers parrot uses), and decode round trips.
* ``squad-cases.json``: SQuAD's answer normalisation, EM and F1 as the reference code's qa_evaluation_utils.py
  computes them, on tricky cases.
"""
import json
import math
import os
import re
import string
import struct
import sys
from collections import Counter

import torch
import torch.nn.functional as F

DT = torch.float64

# ---------------------------------------------------------------- safetensors by hand (no python3-safetensors)

def bf16_bits(t):
    """float32 tensor whose values are BF16-exact -> the upper 16 bits."""
    b = t.to(torch.float32).contiguous().view(torch.int32)
    return ((b >> 16) & 0xFFFF).to(torch.int32)


def tensor_bytes(t, dtype):
    flat = t.contiguous().view(-1)
    if dtype == "F32":
        return struct.pack("<%df" % flat.numel(), *flat.to(torch.float32).tolist())
    if dtype == "F16":
        return flat.to(torch.float16).numpy().tobytes()
    if dtype == "BF16":
        return struct.pack("<%dH" % flat.numel(), *bf16_bits(flat).tolist())
    if dtype == "U8":
        return bytes(flat.to(torch.uint8).tolist())
    raise ValueError(dtype)


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, tensor, dtype) in file order."""
    header = {"__metadata__": metadata or {"format": "pt"}}
    blobs, offset = [], 0
    for name, t, dtype in tensors:
        blob = tensor_bytes(t, dtype)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for blob in blobs:
            f.write(blob)
    return offset


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = data[8 + n + a:8 + n + b]
        count = math.prod(info["shape"])
        if info["dtype"] == "F32":
            vals = torch.tensor(struct.unpack("<%df" % count, raw), dtype=torch.float32)
        elif info["dtype"] == "F16":
            vals = torch.frombuffer(bytearray(raw), dtype=torch.float16).to(torch.float32)
        elif info["dtype"] == "BF16":
            bits = torch.tensor(struct.unpack("<%dH" % count, raw), dtype=torch.int32) << 16
            vals = bits.view(torch.float32)
        else:
            continue
        out[name] = vals.reshape(info["shape"]).to(DT)
    return out


def read_folder(d):
    idx = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(idx):
        files = sorted(set(json.load(open(idx))["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    w = {}
    for f in files:
        w.update(read_safetensors(os.path.join(d, f)))
    return w


def exact_value(t):
    """Round to values F16, BF16 and F32 all hold exactly: BF16's 8-bit mantissa, no F16 subnormals or overflow."""
    t = t.to(torch.float32)
    b = t.contiguous().view(torch.int32)
    b = ((b + 0x8000) & ~0xFFFF)                 # round to BF16 (ties away; any rounding will do)
    t = b.view(torch.float32)
    t = torch.where(t.abs() < 2.0 ** -14, torch.zeros_like(t), t)
    return t.clamp(-60000, 60000)

# ---------------------------------------------------------------- GPT-NeoX (transformers' modeling_gpt_neox.py)

def layer_norm(x, w, b, eps):
    return F.layer_norm(x, (x.shape[-1],), w, b, eps)


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def neox_forward(cfg, w, ids):
    c, h = cfg["hidden_size"], cfg["num_attention_heads"]
    hd = c // h
    pct = cfg.get("partial_rotary_factor", cfg.get("rotary_pct", 0.25))
    base = cfg.get("rope_theta", cfg.get("rotary_emb_base", 10000))
    eps = cfg["layer_norm_eps"]
    rot = int(hd * pct)
    b, t = ids.shape
    x = w["gpt_neox.embed_in.weight"][ids]
    inv_freq = 1.0 / (base ** (torch.arange(0, rot, 2, dtype=DT) / rot))
    freqs = torch.outer(torch.arange(t, dtype=DT), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.tril(torch.ones(t, t, dtype=torch.bool))
    for l in range(cfg["num_hidden_layers"]):
        p = "gpt_neox.layers.%d." % l
        a_in = layer_norm(x, w[p + "input_layernorm.weight"], w[p + "input_layernorm.bias"], eps)
        qkv = a_in @ w[p + "attention.query_key_value.weight"].T + w[p + "attention.query_key_value.bias"]
        qkv = qkv.view(b, t, h, 3 * hd).permute(0, 2, 1, 3)          # [b, h, t, 3hd]: q, k, v per head
        q, k, v = qkv[..., :hd], qkv[..., hd:2 * hd], qkv[..., 2 * hd:]
        if rot > 0:
            def rope(z):
                zr, zp = z[..., :rot], z[..., rot:]
                return torch.cat((zr * cos + rotate_half(zr) * sin, zp), dim=-1)
            q, k = rope(q), rope(k)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        s = s.masked_fill(~mask, float("-inf"))
        att = torch.softmax(s, dim=-1) @ v                             # [b, h, t, hd]
        att = att.permute(0, 2, 1, 3).reshape(b, t, c)
        att = att @ w[p + "attention.dense.weight"].T + w[p + "attention.dense.bias"]
        m_in = layer_norm(x, w[p + "post_attention_layernorm.weight"], w[p + "post_attention_layernorm.bias"], eps)
        up = m_in @ w[p + "mlp.dense_h_to_4h.weight"].T + w[p + "mlp.dense_h_to_4h.bias"]
        mlp = F.gelu(up) @ w[p + "mlp.dense_4h_to_h.weight"].T + w[p + "mlp.dense_4h_to_h.bias"]
        x = x + att + mlp                                               # use_parallel_residual
    x = layer_norm(x, w["gpt_neox.final_layer_norm.weight"], w["gpt_neox.final_layer_norm.bias"], eps)
    return x @ w["embed_out.weight"].T

# ---------------------------------------------------------------- Mamba (modeling_mamba.py, MambaMixer.slow_forward)

def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def mamba_forward(cfg, w, ids):
    eps, n = cfg["layer_norm_epsilon"], cfg["state_size"]
    r = cfg["time_step_rank"]
    b, t = ids.shape
    x = w["backbone.embeddings.weight"][ids]
    for l in range(cfg["num_hidden_layers"]):
        p = "backbone.layers.%d." % l
        hs = rms_norm(x, w[p + "norm.weight"], eps)
        m = p + "mixer."
        proj = (hs @ w[m + "in_proj.weight"].T).transpose(1, 2)        # [b, 2I, t]
        u, gate = proj.chunk(2, dim=1)
        conv_w = w[m + "conv1d.weight"]
        k = conv_w.shape[-1]
        u = F.conv1d(u, conv_w, w[m + "conv1d.bias"], padding=k - 1, groups=u.shape[1])[..., :t]
        u = F.silu(u)                                                   # [b, I, t]
        ssm = u.transpose(1, 2) @ w[m + "x_proj.weight"].T               # [b, t, r + 2n]
        dt, B, C = torch.split(ssm, [r, n, n], dim=-1)
        dt = F.softplus(dt @ w[m + "dt_proj.weight"].T + w[m + "dt_proj.bias"]).transpose(1, 2)  # [b, I, t]
        A = -torch.exp(w[m + "A_log"])                                  # [I, n]
        dA = torch.exp(A[None, :, None, :] * dt[:, :, :, None])         # [b, I, t, n]
        dBu = dt[:, :, :, None] * B[:, None, :, :] * u[:, :, :, None]
        state = torch.zeros(b, u.shape[1], n, dtype=DT)
        ys = []
        for i in range(t):
            state = dA[:, :, i] * state + dBu[:, :, i]
            ys.append((state @ C[:, i, :, None])[:, :, 0])
        y = torch.stack(ys, dim=-1)                                     # [b, I, t]
        y = (y + u * w[m + "D"][None, :, None]) * F.silu(gate)
        x = x + y.transpose(1, 2) @ w[m + "out_proj.weight"].T
    x = rms_norm(x, w["backbone.norm_f.weight"], eps)
    head = w.get("lm_head.weight", w["backbone.embeddings.weight"])
    return x @ head.T


def forward(d, ids):
    cfg = json.load(open(os.path.join(d, "config.json")))
    w = read_folder(d)
    f = neox_forward if cfg["model_type"] == "gpt_neox" else mamba_forward
    return f(cfg, w, ids)

# ---------------------------------------------------------------- configs as real files have them

def pythia_config(vocab, newer):
    cfg = {
        "architectures": ["GPTNeoXForCausalLM"],
        "attention_bias": True,
        "attention_dropout": 0.0,
        "bos_token_id": 0,
        "classifier_dropout": 0.1,
        "eos_token_id": 0,
        "hidden_act": "gelu",
        "hidden_dropout": 0.0,
        "hidden_size": 24,
        "initializer_range": 0.02,
        "intermediate_size": 96,
        "layer_norm_eps": 1e-05,
        "max_position_embeddings": 64,
        "model_type": "gpt_neox",
        "num_attention_heads": 3,
        "num_hidden_layers": 2,
        "rope_scaling": None,
        "rotary_emb_base": 10000,
        "rotary_pct": 0.5,
        "tie_word_embeddings": False,
        "torch_dtype": "float16",
        "transformers_version": "4.24.0",
        "use_cache": True,
        "use_parallel_residual": True,
        "vocab_size": vocab,
    }
    if newer:   # what recent transformers versions write
        del cfg["rotary_emb_base"], cfg["rotary_pct"]
        cfg.update({"partial_rotary_factor": 0.5, "rope_theta": 10000.0, "torch_dtype": "bfloat16",
                    "transformers_version": "4.46.0"})
    return cfg


def mamba_config(vocab):
    return {
        "architectures": ["MambaForCausalLM"],
        "bos_token_id": 0,
        "conv_kernel": 4,
        "eos_token_id": 0,
        "expand": 2,
        "fused_add_norm": True,
        "hidden_act": "silu",
        "hidden_size": 16,
        "initializer_range": 0.1,
        "intermediate_size": 32,
        "layer_norm_epsilon": 1e-05,
        "model_type": "mamba",
        "n_layer": 2,
        "num_hidden_layers": 2,
        "pad_token_id": 0,
        "pad_vocab_size_multiple": 8,
        "rescale_prenorm_residual": False,
        "residual_in_fp32": True,
        "rms_norm": True,
        "state_size": 4,
        "time_step_floor": 0.0001,
        "time_step_init_scheme": "random",
        "time_step_max": 0.1,
        "time_step_min": 0.001,
        "time_step_rank": 2,
        "time_step_scale": 1.0,
        "torch_dtype": "float32",
        "transformers_version": "4.39.0.dev0",
        "use_bias": False,
        "use_cache": True,
        "use_conv_bias": True,
        "vocab_size": vocab,
    }


def neox_params(cfg, gen):
    c, inter, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    def rnd(*shape, std=0.3):
        return exact_value(torch.randn(*shape, generator=gen) * std)
    w = {"gpt_neox.embed_in.weight": rnd(v, c, std=1.0)}
    for l in range(cfg["num_hidden_layers"]):
        p = "gpt_neox.layers.%d." % l
        w[p + "input_layernorm.weight"] = exact_value(1 + 0.2 * torch.randn(c, generator=gen))
        w[p + "input_layernorm.bias"] = rnd(c, std=0.1)
        w[p + "post_attention_layernorm.weight"] = exact_value(1 + 0.2 * torch.randn(c, generator=gen))
        w[p + "post_attention_layernorm.bias"] = rnd(c, std=0.1)
        w[p + "attention.query_key_value.weight"] = rnd(3 * c, c)
        w[p + "attention.query_key_value.bias"] = rnd(3 * c, std=0.1)
        w[p + "attention.dense.weight"] = rnd(c, c)
        w[p + "attention.dense.bias"] = rnd(c, std=0.1)
        w[p + "mlp.dense_h_to_4h.weight"] = rnd(inter, c)
        w[p + "mlp.dense_h_to_4h.bias"] = rnd(inter, std=0.1)
        w[p + "mlp.dense_4h_to_h.weight"] = rnd(c, inter, std=0.15)
        w[p + "mlp.dense_4h_to_h.bias"] = rnd(c, std=0.1)
    w["gpt_neox.final_layer_norm.weight"] = exact_value(1 + 0.2 * torch.randn(c, generator=gen))
    w["gpt_neox.final_layer_norm.bias"] = rnd(c, std=0.1)
    w["embed_out.weight"] = rnd(v, c)
    return w


def mamba_params(cfg, gen):
    c, di, n, r, k, v = (cfg["hidden_size"], cfg["intermediate_size"], cfg["state_size"], cfg["time_step_rank"],
                         cfg["conv_kernel"], cfg["vocab_size"])
    def rnd(*shape, std=0.3):
        return exact_value(torch.randn(*shape, generator=gen) * std)
    w = {"backbone.embeddings.weight": rnd(v, c, std=1.0)}
    for l in range(cfg["num_hidden_layers"]):
        p = "backbone.layers.%d.mixer." % l
        w["backbone.layers.%d.norm.weight" % l] = exact_value(1 + 0.2 * torch.randn(c, generator=gen))
        w[p + "A_log"] = exact_value(torch.log(torch.arange(1, n + 1, dtype=torch.float32)).repeat(di, 1)
                                     + 0.1 * torch.randn(di, n, generator=gen))
        w[p + "D"] = exact_value(1 + 0.2 * torch.randn(di, generator=gen))
        w[p + "conv1d.bias"] = rnd(di, std=0.2)
        w[p + "conv1d.weight"] = rnd(di, 1, k, std=0.4)
        w[p + "dt_proj.bias"] = exact_value(torch.log(torch.expm1(0.01 + 0.09 * torch.rand(di, generator=gen))))
        w[p + "dt_proj.weight"] = rnd(di, r, std=0.5)
        w[p + "in_proj.weight"] = rnd(2 * di, c)
        w[p + "out_proj.weight"] = rnd(c, di, std=0.2)
        w[p + "x_proj.weight"] = rnd(r + 2 * n, di)
    w["backbone.norm_f.weight"] = exact_value(1 + 0.2 * torch.randn(c, generator=gen))
    return w

# ---------------------------------------------------------------- a tiny byte-level BPE tokenizer of our own

def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map (the ByteLevel pre-tokenizer's alphabet)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE = bytes_to_unicode()
SPECIAL = ["<|endoftext|>", "<|padding|>"]
# Merges learnt by hand from the fixture texts: common English pieces, phone-book pieces, "\n\n".
MERGES = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("Ġ", "a"), ("e", "r"), ("o", "n"), ("Ġ", "s"),
          ("r", "e"), ("a", "n"), ("Ġ", "w"), ("o", "u"), ("Ġ", "c"), ("i", "s"), ("e", "n"), ("Ġ", "o"),
          ("in", "g"), ("a", "t"), ("Ġ", "b"), ("e", "s"), ("Ċ", "Ċ"), ("Ġ", "p"), ("o", "r"), ("Ġa", "n"),
          ("Ġan", "d"), ("Ġ", "f"), ("Ġ", "m"), ("e", "d"), ("Ġo", "f"), ("l", "l"), ("Ġ", "1"), ("Ġ", "2"),
          ("Ġ", "6"), ("Ġ", "7"), ("Ġ", "8"), ("Ġ", "9"), ("a", "r"), ("Ġ", "h"), ("Ġw", "h"), ("Ġ", "l")]
SPACES = ["  ", "   "]       # GPT-NeoX adds runs of spaces as tokens (normalized, not special)


def tokenizer_json():
    vocab = {}
    for i, s in enumerate(SPECIAL):
        vocab[s] = i
    for b in range(256):
        vocab[BYTE[b]] = len(vocab)
    for a, b in MERGES:
        vocab[a + b] = len(vocab)
    added = [{"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
              "special": True} for i, s in enumerate(SPECIAL)]
    for s in SPACES:
        added.append({"id": len(vocab), "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": True, "special": False})
        vocab[s] = len(vocab)
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    tok = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": byte_level,
        "post_processor": dict(byte_level),
        "decoder": dict(byte_level),
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "vocab": {k: v for k, v in vocab.items() if k not in SPACES},
                  "merges": [a + " " + b for a, b in MERGES]},
    }
    return tok, vocab


# GPT-2's pre-tokenizer pattern, for ASCII text (Python's re has no \p{L}): contractions, letters, digits, other.
PRETOK = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")


def bpe(word, ranks):
    parts = list(word)
    while len(parts) > 1:
        pairs = [(ranks.get((parts[i], parts[i + 1]), 1 << 30), i) for i in range(len(parts) - 1)]
        rank, i = min(pairs)
        if rank == 1 << 30:
            break
        parts = parts[:i] + [parts[i] + parts[i + 1]] + parts[i + 2:]
    return parts


def encode(text, vocab):
    """Added tokens split the text first (longest match), then each piece is pre-tokenized and BPE-merged."""
    assert all(ord(ch) < 128 for ch in text), "the reference encoder handles ASCII only"
    ranks = {m: i for i, m in enumerate(MERGES)}
    added = sorted(SPECIAL + SPACES, key=len, reverse=True)
    ids, i, piece = [], 0, ""
    def flush(p):
        for w in PRETOK.findall(p):
            mapped = "".join(BYTE[b] for b in w.encode("utf-8"))
            ids.extend(vocab[t] for t in bpe(mapped, ranks))
    while i < len(text):
        hit = next((a for a in added if text.startswith(a, i)), None)
        if hit is None:
            piece += text[i]
            i += 1
            continue
        flush(piece)
        piece = ""
        ids.append(vocab[hit])
        i += len(hit)
    flush(piece)
    return ids


TOKENIZER_TEXTS = [
    "the cat and the hat",
    "Anna Smith: 6123456789\nJohn Brown: 7987654321\n\nAnna Smith:",
    "What is the capital of France?\nAnswer: Paris",
    "two  spaces,   three and    four",
    "it's 42 o'clock; we'll see!",
    "<|endoftext|>after the end",
    "tabs\tand\nnew lines\n\n\nend ",
]

# ---------------------------------------------------------------- SQuAD scoring as the reference code does it

def normalize_answer(s):
    def remove_articles(text):
        return re.sub(r'\b(a|an|the)\b', ' ', text)

    def white_space_fix(text):
        return ' '.join(text.split())

    def handle_punc(text):
        exclude = set(string.punctuation + "".join(["‘", "’", "´", "`"]))
        return ''.join(ch if ch not in exclude else ' ' for ch in text)

    return white_space_fix(remove_articles(handle_punc(s.replace('_', ' ').lower()))).strip()


def f1_score(pred, gt):
    p, g = normalize_answer(pred).split(), normalize_answer(gt).split()
    common = Counter(p) & Counter(g)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(g)
    return 2 * precision * recall / (precision + recall)


SQUAD_CASES = [
    ("The Eiffel Tower", ["Eiffel Tower"]),
    ("an apple a day", ["apple day"]),
    ("Paris, France.", ["Paris France", "Paris"]),
    ("rock_and_roll", ["rock and roll"]),
    ("‘Hamlet’", ["Hamlet"]),
    ("Denver Broncos", ["Carolina Panthers", "the Broncos"]),
    ("1,000 years", ["1000 years"]),
    ("  lots   of\tspace ", ["lots of space"]),
    ("Theatre", ["the atre"]),
    ("", ["something"]),
    ("a", ["the"]),
    ("New York New York", ["New York"]),
    ("ÉCOLE Normale", ["école normale"]),
]


def squad_cases():
    out = []
    for pred, golds in SQUAD_CASES:
        out.append({"prediction": pred, "answers": golds, "normalized": normalize_answer(pred),
                    "em": max(float(normalize_answer(pred) == normalize_answer(g)) for g in golds),
                    "f1": max(f1_score(pred, g) for g in golds)})
    return out

# ---------------------------------------------------------------- writing the folders

def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def main(out):
    os.makedirs(out, exist_ok=True)
    tok, vocab = tokenizer_json()
    gen = torch.Generator().manual_seed(12)
    ids = torch.tensor([encode("the cat and the hat\n\nthe cat and", vocab)[:10],
                        encode("Anna Smith: 6123456789\nAnna", vocab)[:10]])
    reference = {"inputs": ids.tolist(), "models": {}}

    neox = pythia_config(304, newer=False)
    w = neox_params(neox, gen)
    for name, newer, dtype in (("pythia-tiny", False, "F16"), ("pythia-tiny-bf16", True, "BF16")):
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        cfg = pythia_config(304, newer)
        write_json(os.path.join(d, "config.json"), cfg)
        tensors, P = [], cfg["max_position_embeddings"]
        hd = cfg["hidden_size"] // cfg["num_attention_heads"]
        inv_freq = 1.0 / (10000 ** (torch.arange(0, hd // 2, 2, dtype=torch.float32) / (hd // 2)))
        for k in w:
            tensors.append((k, w[k], dtype))
            if k.endswith("attention.dense.bias") and not newer:   # the buffers old transformers saved per layer
                p = k[: -len("dense.bias")]
                tensors.append((p + "bias", torch.tril(torch.ones(1, 1, P, P, dtype=torch.uint8)), "U8"))
                tensors.append((p + "masked_bias", torch.tensor(-1e9), "F32"))
                tensors.append((p + "rotary_emb.inv_freq", inv_freq, "F32"))
        if newer:
            tensors.append(("gpt_neox.rotary_emb.inv_freq", inv_freq, "F32"))
        write_safetensors(os.path.join(d, "model.safetensors"), tensors)
        if not newer:
            write_json(os.path.join(d, "tokenizer.json"), tok)
    reference["models"]["pythia-tiny"] = neox_forward(neox, {k: v.to(DT) for k, v in w.items()}, ids)

    mc = mamba_config(300)
    w = mamba_params(mc, gen)
    d = os.path.join(out, "mamba-tiny")
    os.makedirs(d, exist_ok=True)
    write_json(os.path.join(d, "config.json"), mc)
    names = list(w)
    half = len(names) // 2
    weight_map, total = {}, 0
    for i, part in enumerate((names[:half], names[half:])):
        f = "model-%05d-of-00002.safetensors" % (i + 1)
        total += write_safetensors(os.path.join(d, f), [(k, w[k], "F32") for k in part])
        weight_map.update({k: f for k in part})
    write_json(os.path.join(d, "model.safetensors.index.json"), {"metadata": {"total_size": total},
                                                                  "weight_map": weight_map})
    d = os.path.join(out, "mamba-tiny-bf16")
    os.makedirs(d, exist_ok=True)
    write_json(os.path.join(d, "config.json"), dict(mc, torch_dtype="bfloat16"))
    tensors = [(k, w[k], "BF16") for k in names] + [("lm_head.weight", w["backbone.embeddings.weight"], "BF16")]
    write_safetensors(os.path.join(d, "model.safetensors"), tensors)
    reference["models"]["mamba-tiny"] = mamba_forward(mc, {k: v.to(DT) for k, v in w.items()}, ids)

    # every variant's file holds the same values: check by reading them back
    for name, ref in (("pythia-tiny", "pythia-tiny"), ("pythia-tiny-bf16", "pythia-tiny"),
                      ("mamba-tiny", "mamba-tiny"), ("mamba-tiny-bf16", "mamba-tiny")):
        got = forward(os.path.join(out, name), ids)
        err = (got - reference["models"][ref]).abs().max().item()
        assert err < 1e-9, (name, err)
    # compact: one line per sequence and position, 6 significant digits (parrot compares to 1e-4)
    with open(os.path.join(out, "reference.json"), "w") as f:
        f.write('{"inputs": %s,\n "models": {' % json.dumps(reference["inputs"]))
        for j, (k, v) in enumerate(reference["models"].items()):
            rows = ",\n".join("  [" + ",".join("%.6g" % x for x in row) + "]" for seq in v.tolist() for row in seq)
            f.write('%s\n "%s": [\n%s]' % ("," if j else "", k, rows))
        f.write("}}\n")

    cases = [{"text": t, "ids": encode(t, vocab)} for t in TOKENIZER_TEXTS]
    write_json(os.path.join(out, "tokenizer-cases.json"), {"vocab_size": len(vocab), "cases": cases})
    write_json(os.path.join(out, "squad-cases.json"), {"cases": squad_cases()})
    print("wrote", out)


def forward_cli(ids, dirs):
    """Each folder's logits for one sequence, as a JSON list (parrot's export test calls this)."""
    x = torch.tensor([[int(i) for i in ids.split(",")]])
    print(json.dumps([forward(d, x)[0].tolist() for d in dirs]))


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--forward":
        forward_cli(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) == 2:
        main(sys.argv[1])
    else:
        sys.exit(__doc__)
