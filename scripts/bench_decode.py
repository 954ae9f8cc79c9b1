#!/usr/bin/python3
"""PyTorch baseline of `parrot bench decode`: greedy decoding of a Hugging Face folder (GPT-NeoX or Mamba) with a KV
cache / recurrent state, float32 on the CPU, the forward written out as in scripts/make_hf_fixtures.py (after
transformers' modeling_gpt_neox.py and MambaMixer's step). Prints one JSON line.

    /usr/bin/python3 scripts/bench_decode.py DIR --batch 1 --prompt 64 --tokens 32 --threads 2 [--prefill]

--prefill runs the prompt in one forward, as transformers' generate does (GPT-NeoX: causal attention over the
prompt filling the KV cache; Mamba: conv1d over the sequence and the scan walked over time, MambaMixer's slow
path), with the LM head on the last position only; without it every prompt position is stepped with the head.
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_hf_fixtures import read_folder  # noqa: E402


class NeoX:
    def __init__(self, cfg, w, batch, max_len):
        self.cfg, self.w = cfg, w
        self.c, self.h = cfg["hidden_size"], cfg["num_attention_heads"]
        self.hd = self.c // self.h
        self.rot = int(self.hd * cfg.get("partial_rotary_factor", cfg.get("rotary_pct", 0.25)))
        base = cfg.get("rope_theta", cfg.get("rotary_emb_base", 10000))
        inv = 1.0 / (base ** (torch.arange(0, self.rot, 2, dtype=torch.float32) / self.rot))
        f = torch.outer(torch.arange(max_len, dtype=torch.float32), inv)
        emb = torch.cat((f, f), dim=-1)
        self.cos, self.sin = emb.cos(), emb.sin()
        L = cfg["num_hidden_layers"]
        self.k = torch.zeros(L, batch, self.h, max_len, self.hd)
        self.v = torch.zeros(L, batch, self.h, max_len, self.hd)

    def step(self, tok, pos):
        w, eps, b = self.w, self.cfg["layer_norm_eps"], tok.shape[0]
        x = w["gpt_neox.embed_in.weight"][tok]
        cos, sin, r = self.cos[pos], self.sin[pos], self.rot
        for l in range(self.cfg["num_hidden_layers"]):
            p = "gpt_neox.layers.%d." % l
            a = F.layer_norm(x, (self.c,), w[p + "input_layernorm.weight"], w[p + "input_layernorm.bias"], eps)
            qkv = F.linear(a, w[p + "attention.query_key_value.weight"], w[p + "attention.query_key_value.bias"])
            qkv = qkv.view(b, self.h, 3 * self.hd)
            q, k, v = qkv[..., :self.hd], qkv[..., self.hd:2 * self.hd], qkv[..., 2 * self.hd:]
            def rope(z):
                zr = z[..., :r]
                half = torch.cat((-zr[..., r // 2:], zr[..., :r // 2]), dim=-1)
                return torch.cat((zr * cos + half * sin, z[..., r:]), dim=-1)
            q, k = rope(q), rope(k)
            self.k[l, :, :, pos] = k
            self.v[l, :, :, pos] = v
            s = torch.einsum("bhd,bhtd->bht", q, self.k[l, :, :, :pos + 1]) / math.sqrt(self.hd)
            att = torch.einsum("bht,bhtd->bhd", torch.softmax(s, dim=-1), self.v[l, :, :, :pos + 1]).reshape(b, self.c)
            att = F.linear(att, w[p + "attention.dense.weight"], w[p + "attention.dense.bias"])
            m = F.layer_norm(x, (self.c,), w[p + "post_attention_layernorm.weight"], w[p + "post_attention_layernorm.bias"], eps)
            m = F.linear(F.gelu(F.linear(m, w[p + "mlp.dense_h_to_4h.weight"], w[p + "mlp.dense_h_to_4h.bias"])),
                         w[p + "mlp.dense_4h_to_h.weight"], w[p + "mlp.dense_4h_to_h.bias"])
            x = x + att + m
        x = F.layer_norm(x, (self.c,), w["gpt_neox.final_layer_norm.weight"], w["gpt_neox.final_layer_norm.bias"], eps)
        return F.linear(x, w["embed_out.weight"])

    def prefill(self, toks):
        w, eps = self.w, self.cfg["layer_norm_eps"]
        b, t = toks.shape
        x = w["gpt_neox.embed_in.weight"][toks]
        cos, sin, r = self.cos[:t, None, :], self.sin[:t, None, :], self.rot
        mask = torch.ones(t, t, dtype=torch.bool).tril()
        for l in range(self.cfg["num_hidden_layers"]):
            p = "gpt_neox.layers.%d." % l
            a = F.layer_norm(x, (self.c,), w[p + "input_layernorm.weight"], w[p + "input_layernorm.bias"], eps)
            qkv = F.linear(a, w[p + "attention.query_key_value.weight"], w[p + "attention.query_key_value.bias"])
            qkv = qkv.view(b, t, self.h, 3 * self.hd)
            q, k, v = qkv[..., :self.hd], qkv[..., self.hd:2 * self.hd], qkv[..., 2 * self.hd:]
            def rope(z):
                zr = z[..., :r]
                half = torch.cat((-zr[..., r // 2:], zr[..., :r // 2]), dim=-1)
                return torch.cat((zr * cos + half * sin, z[..., r:]), dim=-1)
            q, k = rope(q).transpose(1, 2), rope(k).transpose(1, 2)
            v = v.transpose(1, 2)
            self.k[l, :, :, :t] = k
            self.v[l, :, :, :t] = v
            s = (q @ k.transpose(-1, -2) / math.sqrt(self.hd)).masked_fill(~mask, float("-inf"))
            att = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(b, t, self.c)
            att = F.linear(att, w[p + "attention.dense.weight"], w[p + "attention.dense.bias"])
            m = F.layer_norm(x, (self.c,), w[p + "post_attention_layernorm.weight"], w[p + "post_attention_layernorm.bias"], eps)
            m = F.linear(F.gelu(F.linear(m, w[p + "mlp.dense_h_to_4h.weight"], w[p + "mlp.dense_h_to_4h.bias"])),
                         w[p + "mlp.dense_4h_to_h.weight"], w[p + "mlp.dense_4h_to_h.bias"])
            x = x + att + m
        x = F.layer_norm(x[:, -1], (self.c,), w["gpt_neox.final_layer_norm.weight"], w["gpt_neox.final_layer_norm.bias"], eps)
        return F.linear(x, w["embed_out.weight"])


class Mamba:
    def __init__(self, cfg, w, batch, max_len):
        self.cfg, self.w = cfg, w
        L, di, n, k = cfg["num_hidden_layers"], cfg["intermediate_size"], cfg["state_size"], cfg["conv_kernel"]
        self.conv = torch.zeros(L, batch, di, k)
        self.ssm = torch.zeros(L, batch, di, n)
        self.A = [-torch.exp(w["backbone.layers.%d.mixer.A_log" % l]) for l in range(L)]

    def step(self, tok, pos):
        w, cfg = self.w, self.cfg
        eps, n, r = cfg["layer_norm_epsilon"], cfg["state_size"], cfg["time_step_rank"]
        x = w["backbone.embeddings.weight"][tok]
        for l in range(cfg["num_hidden_layers"]):
            p = "backbone.layers.%d.mixer." % l
            hs = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w["backbone.layers.%d.norm.weight" % l]
            u, gate = F.linear(hs, w[p + "in_proj.weight"]).chunk(2, dim=-1)
            cs = self.conv[l]
            cs.copy_(torch.roll(cs, shifts=-1, dims=-1))
            cs[:, :, -1] = u
            u = F.silu((cs * w[p + "conv1d.weight"][:, 0, :]).sum(-1) + w[p + "conv1d.bias"])
            dt, B, C = torch.split(F.linear(u, w[p + "x_proj.weight"]), [r, n, n], dim=-1)
            dt = F.softplus(F.linear(dt, w[p + "dt_proj.weight"], w[p + "dt_proj.bias"]))
            dA = torch.exp(self.A[l][None] * dt[:, :, None])
            self.ssm[l] = self.ssm[l] * dA + (dt * u)[:, :, None] * B[:, None, :]
            y = (self.ssm[l] @ C[:, :, None])[:, :, 0] + u * w[p + "D"]
            x = x + F.linear(y * F.silu(gate), w[p + "out_proj.weight"])
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w["backbone.norm_f.weight"]
        return F.linear(x, w.get("lm_head.weight", w["backbone.embeddings.weight"]))

    def prefill(self, toks):
        w, cfg = self.w, self.cfg
        eps, n, r, k = cfg["layer_norm_epsilon"], cfg["state_size"], cfg["time_step_rank"], cfg["conv_kernel"]
        b, t = toks.shape
        x = w["backbone.embeddings.weight"][toks]
        for l in range(cfg["num_hidden_layers"]):
            p = "backbone.layers.%d.mixer." % l
            hs = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w["backbone.layers.%d.norm.weight" % l]
            u, gate = F.linear(hs, w[p + "in_proj.weight"]).chunk(2, dim=-1)
            u = u.transpose(1, 2)                                             # [b, di, t]
            self.conv[l] = F.pad(u, (k - t, 0))[:, :, -k:] if t < k else u[:, :, -k:]
            cw = w[p + "conv1d.weight"]
            u = F.silu(F.conv1d(u, cw, w[p + "conv1d.bias"], padding=k - 1, groups=cw.shape[0])[..., :t]).transpose(1, 2)
            dt, B, C = torch.split(F.linear(u, w[p + "x_proj.weight"]), [r, n, n], dim=-1)
            dt = F.softplus(F.linear(dt, w[p + "dt_proj.weight"], w[p + "dt_proj.bias"]))
            dA = torch.exp(self.A[l][None, None] * dt[..., None])            # [b, t, di, n]
            dBu = (dt * u)[..., None] * B[:, :, None, :]
            h, ys = self.ssm[l], []
            for i in range(t):
                h = h * dA[:, i] + dBu[:, i]
                ys.append((h @ C[:, i, :, None])[..., 0])
            self.ssm[l] = h
            y = torch.stack(ys, dim=1) + u * w[p + "D"]
            x = x + F.linear(y * F.silu(gate), w[p + "out_proj.weight"])
        x = x[:, -1]
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w["backbone.norm_f.weight"]
        return F.linear(x, w.get("lm_head.weight", w["backbone.embeddings.weight"]))


def run(model, prompts, tokens, prefill):
    b, p = prompts.shape
    t0 = time.perf_counter()
    if prefill:
        logits = model.prefill(prompts)
    else:
        for i in range(p):
            logits = model.step(prompts[:, i], i)
    t1 = time.perf_counter()
    for i in range(tokens):
        nxt = logits.argmax(-1)
        if i + 1 < tokens:
            logits = model.step(nxt, p + i)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--prompt", type=int, default=64)
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--prefill", action="store_true", help="the prompt in one forward (see the module's text)")
    ap.add_argument("--check", action="store_true", help="print the largest difference of prefill's and stepping's logits")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg = json.load(open(os.path.join(a.dir, "config.json")))
    w = {k: v.to(torch.float32) for k, v in read_folder(a.dir).items()}
    cls = NeoX if cfg["model_type"] == "gpt_neox" else Mamba
    g = torch.Generator().manual_seed(7)
    prompts = torch.randint(0, min(1000, cfg["vocab_size"]), (a.batch, a.prompt), generator=g)
    with torch.no_grad():
        if a.check:
            m1, m2 = cls(cfg, w, a.batch, a.prompt + 2), cls(cfg, w, a.batch, a.prompt + 2)
            for i in range(a.prompt):
                l1 = m1.step(prompts[:, i], i)
            l2 = m2.prefill(prompts)
            nxt = l1.argmax(-1)
            d = max((l1 - l2).abs().max().item(), (m1.step(nxt, a.prompt) - m2.step(nxt, a.prompt)).abs().max().item())
            print("prefill vs stepping: max |logit difference| %.3g" % d, file=sys.stderr)
        run(cls(cfg, w, a.batch, a.prompt + 4), prompts, 4, a.prefill)                  # warm-up
        pre, dec = run(cls(cfg, w, a.batch, a.prompt + a.tokens), prompts, a.tokens, a.prefill)
    print(json.dumps({"prefill_seconds": pre, "decode_seconds": dec, "tokens_per_second": a.batch * a.tokens / dec,
                      "prompting": "prefill" if a.prefill else "stepwise", "threads": a.threads,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
