#!/usr/bin/env python3
"""GPU benchmark (and correctness check) of parrot's fused attention kernels against PyTorch.

Run by scripts/gpu-check.sh on a machine with an NVIDIA GPU and a CUDA build of PyTorch (written for 2.11):

    python3 scripts/bench_attention.py --jar dist/parrot-*/lib/parrot.jar --json out/bench_attention.json
    python3 scripts/bench_attention.py --tiny     # correctness checks only, tiny shapes (for compute-sanitizer)

parrot's kernels are loaded from their PTX (cuda-kernels/flash_attention.cu, built by `make kernels`; the jar
carries it as parrot/ptx/<sm>/flash_attention.ptx) through the CUDA driver API by ctypes on libcuda — no extra
package; they run on PyTorch's context and current stream, on PyTorch-allocated float32 tensors, launched exactly
as parrot's Java launcher (AttentionKernels.java) launches them.

1. Checks: parrot's forward (out, lse), backward (dq, dk, dv) and split-KV decoding, in each precision (fp32,
   bf16, tf32), against a float64 PyTorch reference, on small odd shapes with windows 1, 2, longer than the
   sequence, ALiBi slopes. Tolerances as CudaParityTest. A failed check makes the exit status 1.
2. Timings (skipped with --tiny): B·H = 64 (B 4, H 16), head dim 64, L = 512 … 8192, BF16, forward and
   forward+backward, median of timed repetitions, for three head configurations:
     causal      every head causal (NoPE);
     hard_alibi  the paper's Hard-ALiBi: heads 0..7 see windows 1..8, heads 8..15 causal;
     window256   every head a window of 256 keys (the work is O(L·w): time should grow linearly in L).
   Implementations: PyTorch SDPA is_causal=True on the flash backend (causal work only: the baseline every
   configuration is compared with), SDPA with an explicit boolean mask (the configuration's mask), FlexAttention
   with a block mask (torch.compile; skipped if it does not compile), and parrot (bf16, and the tf32/fp32
   kernels). parrot reads and writes float32 tensors (its kernels convert to bf16 on the fly); PyTorch's inputs
   are bf16. FLOPs count the work actually needed: 4·B·hd·(visible query-key pairs) for the forward (two
   matmuls), 2.5 times that for the backward. Ratios: time of the baseline / time of parrot (> 1: parrot faster).
   Linearity: the log-log slope of time over L ≥ 1024 for window256 (≈ 1 when linear).
Exit status: 0 checks passed (timing failures are recorded, not fatal), 1 a check failed, 2 no usable GPU/torch.
"""

import argparse
import ctypes
import ctypes.util
import glob
import json
import math
import os
import statistics
import sys
import time
import traceback
import zipfile

MAX_HEADS = 64          # PARROT_MAX_HEADS (common.cuh)
DECODE_SPLIT = 128      # FA_DECODE_SPLIT (flash_attention.cu) = AttentionTiling.DEFAULT_SPLIT
DECODE_THREADS = 128
TOLERANCES = {"fp32": (1e-5, 1e-4), "tf32": (4e-3, 8e-3), "bf16": (3e-2, 6e-2)}   # out/lse, dqkv (CudaParityTest)


# ---- the CUDA driver API through ctypes ----------------------------------------------------------------------------

class CudaError(RuntimeError):
    pass


class Driver:
    """The few driver calls needed to load a PTX module and launch its kernels on PyTorch's context."""

    def __init__(self):
        names = ["libcuda.so.1", "libcuda.so", ctypes.util.find_library("cuda")]
        self.lib = None
        for n in names:
            if not n:
                continue
            try:
                self.lib = ctypes.CDLL(n)
                break
            except OSError:
                continue
        if self.lib is None:
            raise CudaError("libcuda not found")
        L, P, U, I = self.lib, ctypes.POINTER, ctypes.c_uint, ctypes.c_int
        vp = ctypes.c_void_p
        L.cuInit.argtypes = [U]
        L.cuGetErrorName.argtypes = [I, P(ctypes.c_char_p)]
        L.cuCtxGetCurrent.argtypes = [P(vp)]
        L.cuCtxSetCurrent.argtypes = [vp]
        L.cuDevicePrimaryCtxRetain.argtypes = [P(vp), I]
        L.cuModuleLoadDataEx.argtypes = [P(vp), ctypes.c_char_p, U, P(I), P(vp)]
        L.cuModuleGetFunction.argtypes = [P(vp), vp, ctypes.c_char_p]
        L.cuModuleUnload.argtypes = [vp]
        L.cuFuncGetAttribute.argtypes = [P(I), I, vp]
        L.cuLaunchKernel.argtypes = [vp, U, U, U, U, U, U, U, vp, P(vp), P(vp)]
        for f in ("cuInit", "cuGetErrorName", "cuCtxGetCurrent", "cuCtxSetCurrent", "cuDevicePrimaryCtxRetain",
                  "cuModuleLoadDataEx", "cuModuleGetFunction", "cuModuleUnload", "cuFuncGetAttribute",
                  "cuLaunchKernel"):
            getattr(L, f).restype = I
        self.check(L.cuInit(0), "cuInit")

    def check(self, rc, what):
        if rc != 0:
            name = ctypes.c_char_p()
            self.lib.cuGetErrorName(rc, ctypes.byref(name))
            raise CudaError("%s failed: %s (%d)" % (what, (name.value or b"?").decode(), rc))

    def ensure_context(self, device):
        ctx = ctypes.c_void_p()
        self.check(self.lib.cuCtxGetCurrent(ctypes.byref(ctx)), "cuCtxGetCurrent")
        if not ctx.value:                     # PyTorch normally made its primary context current already
            self.check(self.lib.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), device), "cuDevicePrimaryCtxRetain")
            self.check(self.lib.cuCtxSetCurrent(ctx), "cuCtxSetCurrent")

    def load(self, ptx):
        module = ctypes.c_void_p()
        log = ctypes.create_string_buffer(16384)
        opts = (ctypes.c_int * 2)(5, 6)       # CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES
        vals = (ctypes.c_void_p * 2)(ctypes.cast(log, ctypes.c_void_p), ctypes.c_void_p(len(log)))
        rc = self.lib.cuModuleLoadDataEx(ctypes.byref(module), ptx + b"\0", 2, opts, vals)
        if rc != 0:
            name = ctypes.c_char_p()
            self.lib.cuGetErrorName(rc, ctypes.byref(name))
            raise CudaError("loading the PTX failed: %s; JIT log: %s"
                            % ((name.value or b"?").decode(), log.value.decode(errors="replace").strip()))
        return module

    def function(self, module, name):
        f = ctypes.c_void_p()
        self.check(self.lib.cuModuleGetFunction(ctypes.byref(f), module, name.encode()), "cuModuleGetFunction " + name)
        return f

    def attribute(self, func, attr):
        v = ctypes.c_int()
        self.check(self.lib.cuFuncGetAttribute(ctypes.byref(v), attr, func), "cuFuncGetAttribute")
        return v.value

    def launch(self, func, grid, block, args, stream, name):
        holders = [a if isinstance(a, (ctypes._SimpleCData, ctypes.Structure)) else ctypes.c_uint64(a) for a in args]
        params = (ctypes.c_void_p * len(holders))(*[ctypes.cast(ctypes.pointer(h), ctypes.c_void_p) for h in holders])
        g = tuple(grid) + (1,) * (3 - len(grid))
        b = tuple(block) + (1,) * (3 - len(block))
        self.check(self.lib.cuLaunchKernel(func, g[0], g[1], g[2], b[0], b[1], b[2], 0, ctypes.c_void_p(stream),
                                           params, None), "launching " + name)


class HeadParams(ctypes.Structure):
    """struct HeadParams {int window[64]; float slope[64];} (common.cuh), passed by value."""
    _fields_ = [("window", ctypes.c_int32 * MAX_HEADS), ("slope", ctypes.c_float * MAX_HEADS)]


def head_params(windows, slopes):
    hp = HeadParams()
    for i, (w, s) in enumerate(zip(windows, slopes)):
        hp.window[i] = int(w)
        hp.slope[i] = float(s)
    return hp


def padded_head_dim(hd):
    for hdp in (32, 64, 128, 256):
        if hd <= hdp:
            return hdp
    raise ValueError("head dim %d > 256" % hd)


def flash_plan(precision, hd):
    """Mirrors AttentionKernels.flashPlan: kernel names, tiles Br×Bc (AttentionTiling) and block sizes."""
    hdp = padded_head_dim(hd)
    br = 64 if hdp <= 128 else 32
    bc = 64 if hdp <= 64 else 32
    if precision in ("bf16", "tf32") and hd <= 128:
        dt, fwd_threads, bwd_threads = precision, 128, 32 * (bc // 16)
    else:
        tpr = hdp // (16 if hdp <= 32 else 32)
        dt, fwd_threads, bwd_threads = "f32", br * tpr, bc * tpr
    return {"forward": "parrot_flash_attention_forward_hd%d_%s" % (hdp, dt),
            "backward": "parrot_flash_attention_backward_hd%d_%s" % (hdp, dt),
            "br": br, "bc": bc, "fwd_threads": fwd_threads, "bwd_threads": bwd_threads}


def first_key(w, q):
    return max(0, q - w + 1) if w > 0 else 0


class Parrot:
    """parrot's flash_attention kernels on PyTorch float32 CUDA tensors (layouts of parrot.backend.Backend)."""

    def __init__(self, torch, drv, ptx):
        self.torch, self.drv = torch, drv
        self.module = drv.load(ptx)
        self.funcs = {}

    def fn(self, name):
        if name not in self.funcs:
            self.funcs[name] = self.drv.function(self.module, name)
        return self.funcs[name]

    def _check(self, *tensors):
        for t in tensors:
            if t.dtype != self.torch.float32 or not t.is_cuda or not t.is_contiguous() or t.data_ptr() % 16:
                raise ValueError("parrot kernels take contiguous, 16-byte aligned float32 CUDA tensors")

    def _launch(self, name, grid, block, args):
        self.drv.launch(self.fn(name), grid, block, args, self.torch.cuda.current_stream().cuda_stream, name)

    def forward(self, out, lse, qkv, B, T, H, hd, hp, precision):
        self._check(out, lse, qkv)
        p = flash_plan(precision, hd)
        self._launch(p["forward"], (B * H, (T + p["br"] - 1) // p["br"]), (p["fwd_threads"],),
                     [out.data_ptr(), lse.data_ptr(), qkv.data_ptr(), ctypes.c_int(B), ctypes.c_int(T),
                      ctypes.c_int(H), ctypes.c_int(hd), ctypes.c_float(1.0 / math.sqrt(hd)), hp])

    def backward(self, dqkv, dout, qkv, out, lse, D, B, T, H, hd, hp, precision):
        """dqkv += gradient (the kernels accumulate); D is a [B·H·T] float32 work buffer."""
        self._check(dqkv, dout, qkv, out, lse, D)
        rows = B * H * T
        self._launch("parrot_flash_attention_backward_pre_f32", ((rows + 3) // 4,), (32, 4),
                     [D.data_ptr(), dout.data_ptr(), out.data_ptr(), ctypes.c_int(B), ctypes.c_int(T),
                      ctypes.c_int(H), ctypes.c_int(hd)])
        p = flash_plan(precision, hd)
        self._launch(p["backward"], (B * H, (T + p["bc"] - 1) // p["bc"]), (p["bwd_threads"],),
                     [dqkv.data_ptr(), dout.data_ptr(), qkv.data_ptr(), lse.data_ptr(), D.data_ptr(),
                      ctypes.c_int(B), ctypes.c_int(T), ctypes.c_int(H), ctypes.c_int(hd),
                      ctypes.c_float(1.0 / math.sqrt(hd)), hp])

    def decode(self, out, step, kc, vc, part, B, H, hd, max_len, pos, windows, hp):
        """One decoding step (append, chunks, combine); part holds at least B·H·J·(hd+2) floats."""
        self._check(out, step, kc, vc, part)
        J = max(pos // DECODE_SPLIT - first_key(w, pos) // DECODE_SPLIT + 1 for w in windows)
        n = B * H * hd
        self._launch("parrot_flash_attention_decode_append_f32", (min(8192, (n + 255) // 256),), (256,),
                     [kc.data_ptr(), vc.data_ptr(), step.data_ptr(), ctypes.c_int(B), ctypes.c_int(H),
                      ctypes.c_int(hd), ctypes.c_int(max_len), ctypes.c_int(pos)])
        self._launch("parrot_flash_attention_decode_split_f32", (B * H, J), (DECODE_THREADS,),
                     [part.data_ptr(), step.data_ptr(), kc.data_ptr(), vc.data_ptr(), ctypes.c_int(B),
                      ctypes.c_int(H), ctypes.c_int(hd), ctypes.c_int(max_len), ctypes.c_int(pos), ctypes.c_int(J),
                      ctypes.c_float(1.0 / math.sqrt(hd)), hp])
        self._launch("parrot_flash_attention_decode_combine_f32", (B * H,), (DECODE_THREADS,),
                     [out.data_ptr(), part.data_ptr(), ctypes.c_int(B), ctypes.c_int(H), ctypes.c_int(hd),
                      ctypes.c_int(pos), ctypes.c_int(J), hp])


# ---- finding the PTX -----------------------------------------------------------------------------------------------

def find_ptx(args, arch):
    rel = "parrot/ptx/%s/flash_attention.ptx" % arch
    if args.ptx:
        with open(args.ptx, "rb") as f:
            return f.read(), args.ptx
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    jars = [args.jar] if args.jar else []
    if not args.jar:
        direct = os.path.join(root, "build", "ptx-resources", rel)
        if os.path.exists(direct):
            with open(direct, "rb") as f:
                return f.read(), direct
        jars = [os.path.join(root, "target", "parrot.jar")] + sorted(glob.glob(os.path.join(root, "dist", "*", "lib",
                                                                                          "parrot.jar")))
    for jar in jars:
        if jar and os.path.exists(jar):
            with zipfile.ZipFile(jar) as z:
                if rel in z.namelist():
                    return z.read(rel), jar + "!/" + rel
    raise FileNotFoundError("no %s found (run `make kernels`, or pass --ptx or --jar)" % rel)


# ---- references and checks -----------------------------------------------------------------------------------------

def visible_mask(torch, T, windows, device):
    q = torch.arange(T, device=device).view(T, 1)
    k = torch.arange(T, device=device).view(1, T)
    masks = []
    for w in windows:
        m = k <= q
        if w > 0:
            m = m & (k > q - w)
        masks.append(m)
    return torch.stack(masks)                          # [H, T, T], True = visible


def reference(torch, qkv, dout, B, T, H, hd, windows, slopes):
    """float64: out [B·T, H·hd], lse [B, H, T], dqkv [B·T, 3·H·hd] (the gradient of Σ dout·out)."""
    x = qkv.double().clone().requires_grad_(True)
    v5 = x.view(B, T, H, 3, hd)
    q, k, v = (v5[:, :, :, i].permute(0, 2, 1, 3) for i in range(3))            # [B, H, T, hd]
    pos = torch.arange(T, device=qkv.device, dtype=torch.float64)
    dist = pos.view(T, 1) - pos.view(1, T)
    bias = -torch.tensor(slopes, device=qkv.device, dtype=torch.float64).view(H, 1, 1) * dist
    s = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + bias
    s = s.masked_fill(~visible_mask(torch, T, windows, qkv.device), float("-inf"))
    lse = torch.logsumexp(s, dim=-1)
    o = (torch.softmax(s, dim=-1) @ v).permute(0, 2, 1, 3).reshape(B * T, H * hd)
    (o * dout.double()).sum().backward()
    return o.detach(), lse.detach(), x.grad.detach()


def rel_err(torch, ref, got):
    ref = ref.double().flatten()
    got = got.double().flatten()
    if not bool(torch.isfinite(got).all()):
        return float("inf")
    return float((got - ref).abs().max() / ref.abs().max().clamp_min(1e-12))


def run_checks(torch, parrot, tiny):
    dev = "cuda"
    g = torch.Generator(device=dev).manual_seed(20240205)
    results = []
    cases = [(2, 1, 64), (2, 7, 32), (1, 65, 40)] if tiny else \
        [(2, 1, 64), (2, 7, 32), (1, 63, 128), (2, 65, 64), (1, 130, 64), (2, 130, 128), (1, 129, 37), (1, 9, 130),
         (1, 300, 64)]
    for B, T, hd in cases:
        H = 4
        for windows, slopes in (([0, 0, 0, 0], [0, 0, 0, 0]), ([0, 0, 0, 0], [2 ** -2, 2 ** -4, 2 ** -6, 2 ** -8]),
                                ([1, 2, 0, 0], [0, 0, 0, 0]), ([1, 0, 9, T + 5], [0, 0.5, 0.1, 0.03])):
            qkv = torch.randn(B * T, 3 * H * hd, device=dev, generator=g)
            dout = torch.randn(B * T, H * hd, device=dev, generator=g)
            g0 = torch.randn(B * T, 3 * H * hd, device=dev, generator=g)
            ro, rl, rg = reference(torch, qkv, dout, B, T, H, hd, windows, slopes)
            hp = head_params(windows, slopes)
            for prec in ("fp32", "bf16", "tf32"):
                out = torch.full((B * T, H * hd), float("nan"), device=dev)
                lse = torch.full((B, H, T), float("nan"), device=dev)
                parrot.forward(out, lse, qkv, B, T, H, hd, hp, prec)
                dq = g0.clone()
                D = torch.empty(B * H * T, device=dev)
                parrot.backward(dq, dout, qkv, out, lse, D, B, T, H, hd, hp, prec)
                torch.cuda.synchronize()
                tol = TOLERANCES[prec]
                tag = "B=%d T=%d H=%d hd=%d windows=%s slopes=%s" % (B, T, H, hd, windows, slopes)
                for what, ref, got, t in (("out", ro, out, tol[0]), ("lse", rl, lse, tol[0]),
                                          ("dqkv", rg + g0.double(), dq, tol[1])):
                    e = rel_err(torch, ref, got)
                    results.append({"check": what, "precision": prec, "case": tag, "rel_err": e, "tol": t,
                                    "ok": e <= t})
            if T >= 2:                                   # decoding, a few positions (chunk boundary at 128)
                max_len = T + 3
                kc = torch.zeros(B * H * max_len * hd, device=dev)
                vc = torch.zeros_like(kc)
                J = max(1, (max_len + DECODE_SPLIT - 1) // DECODE_SPLIT + 1)
                part = torch.empty(B * H * J * (hd + 2), device=dev)
                worst = 0.0
                rows = qkv.view(B, T, 3 * H * hd)
                for pos in range(T):
                    step = rows[:, pos].contiguous()
                    o = torch.full((B, H * hd), float("nan"), device=dev)
                    parrot.decode(o, step, kc, vc, part, B, H, hd, max_len, pos, windows, hp)
                    if pos < 3 or pos > T - 3 or pos in (127, 128):
                        want = ro.view(B, T, H * hd)[:, pos]
                        worst = max(worst, rel_err(torch, want, o))
                torch.cuda.synchronize()
                results.append({"check": "decode", "precision": "fp32", "case": "B=%d T=%d H=%d hd=%d windows=%s"
                                % (B, T, H, hd, windows), "rel_err": worst, "tol": 1e-5, "ok": worst <= 1e-5})
    return results


# ---- timing --------------------------------------------------------------------------------------------------------

def time_ms(torch, fn, reps, warmup=3):
    """Median milliseconds of one call: a few warm-up calls, then reps timed batches of enough calls for ≥ 2 ms."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn()
    torch.cuda.synchronize()
    once = max(time.perf_counter() - t0, 1e-6)
    inner = max(1, min(100, int(0.002 / once)))
    times = []
    for _ in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        for _ in range(inner):
            fn()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e) / inner)
    return statistics.median(times)


def visible_pairs(T, w):
    if w <= 0 or w >= T:
        return T * (T + 1) // 2
    return w * (w + 1) // 2 + (T - w) * w


CONFIGS = {
    "causal": lambda H: [0] * H,
    "hard_alibi": lambda H: [h + 1 if h < H // 2 else 0 for h in range(H)],
    "window256": lambda H: [256] * H,
}


def run_timings(torch, parrot, args, budget_end, log):
    F = torch.nn.functional
    dev = "cuda"
    B, H, hd = args.batch, args.heads, 64
    results = []
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
    except Exception:                                   # older PyTorch
        SDPBackend = sdpa_kernel = None
    flex = block_mask_fn = None
    try:
        from torch.nn.attention.flex_attention import create_block_mask, flex_attention
        flex = torch.compile(flex_attention, dynamic=False)
        block_mask_fn = create_block_mask
    except Exception as e:
        log("FlexAttention unavailable: %s" % e)
    precisions = [p for p in args.parrot_precisions.split(",") if p]

    def record(config, L, impl, pas, fn, flops):
        entry = {"config": config, "L": L, "impl": impl, "pass": pas, "useful_flops": flops}
        if time.time() > budget_end:
            entry["error"] = "skipped: time budget"
        else:
            try:
                ms = time_ms(torch, fn, args.reps)
                entry.update(ms=ms, tflops=flops / (ms * 1e-3) / 1e12)
            except Exception as e:            # OOM, unsupported backend, compile failure: recorded, not fatal
                entry["error"] = "%s: %s" % (type(e).__name__, str(e).splitlines()[0][:300] if str(e) else "")
                torch.cuda.empty_cache()
        results.append(entry)
        log("%-10s L=%-5d %-18s %-8s %s" % (config, L, impl, pas,
                                            "%.3f ms %.1f TFLOP/s" % (entry["ms"], entry["tflops"])
                                            if "ms" in entry else entry["error"]))

    for L in args.lengths:
        g = torch.Generator(device=dev).manual_seed(L)
        qkv32 = torch.randn(B * L, 3 * H * hd, device=dev, generator=g)
        dout32 = torch.randn(B * L, H * hd, device=dev, generator=g)
        v5 = qkv32.view(B, L, H, 3, hd)
        q, k, v = (v5[:, :, :, i].permute(0, 2, 1, 3).to(torch.bfloat16).contiguous().requires_grad_(True)
                   for i in range(3))
        dout = dout32.view(B, L, H, hd).permute(0, 2, 1, 3).to(torch.bfloat16).contiguous()
        out32 = torch.empty(B * L, H * hd, device=dev)
        lse32 = torch.empty(B, H, L, device=dev)
        dqkv32 = torch.empty_like(qkv32)
        D = torch.empty(B * H * L, device=dev)

        def fwd_bwd(f):
            def run():
                q.grad = k.grad = v.grad = None
                f().backward(dout)
            return run

        def sdpa_flash():
            if sdpa_kernel is None:
                return F.scaled_dot_product_attention(q, k, v, is_causal=True)
            with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
                return F.scaled_dot_product_attention(q, k, v, is_causal=True)

        causal_flops = 4 * B * hd * H * visible_pairs(L, 0)
        with torch.no_grad():
            record("causal", L, "sdpa_flash", "fwd", sdpa_flash, causal_flops)
        record("causal", L, "sdpa_flash", "fwd+bwd", fwd_bwd(sdpa_flash), 3.5 * causal_flops)

        for config, make in CONFIGS.items():
            windows = make(H)
            flops = 4 * B * hd * sum(visible_pairs(L, w) for w in windows)
            hp = head_params(windows, [0.0] * H)
            if config != "causal":
                mask = None
                try:
                    mask = visible_mask(torch, L, windows, dev).unsqueeze(0)        # [1, H, L, L] bool
                except Exception as e:
                    log("mask for %s L=%d: %s" % (config, L, e))

                def sdpa_masked(mask=mask):
                    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
                if mask is not None:
                    with torch.no_grad():
                        record(config, L, "sdpa_masked", "fwd", sdpa_masked, flops)
                    record(config, L, "sdpa_masked", "fwd+bwd", fwd_bwd(sdpa_masked), 3.5 * flops)
                del mask
                torch.cuda.empty_cache()
            if flex is not None:
                try:
                    win_t = torch.tensor(windows, device=dev, dtype=torch.int32)

                    def mask_mod(b, h, q_idx, kv_idx, win_t=win_t):
                        w = win_t[h]
                        return (q_idx >= kv_idx) & ((w == 0) | (q_idx - kv_idx < w))
                    bm = block_mask_fn(mask_mod, B=None, H=H, Q_LEN=L, KV_LEN=L, device=dev)

                    def flex_run(bm=bm):
                        return flex(q, k, v, block_mask=bm)
                    with torch.no_grad():
                        record(config, L, "flex", "fwd", flex_run, flops)
                    record(config, L, "flex", "fwd+bwd", fwd_bwd(flex_run), 3.5 * flops)
                except Exception as e:
                    results.append({"config": config, "L": L, "impl": "flex", "pass": "fwd",
                                    "error": "%s: %s" % (type(e).__name__, str(e).splitlines()[0][:300])})
                    log("flex %s L=%d: %s" % (config, L, e))
            for prec in precisions:
                def p_fwd(prec=prec, windows=windows, hp=hp):
                    parrot.forward(out32, lse32, qkv32, B, L, H, hd, hp, prec)

                def p_fwd_bwd(prec=prec, hp=hp):
                    parrot.forward(out32, lse32, qkv32, B, L, H, hd, hp, prec)
                    dqkv32.zero_()
                    parrot.backward(dqkv32, dout32, qkv32, out32, lse32, D, B, L, H, hd, hp, prec)
                record(config, L, "parrot_" + prec, "fwd", p_fwd, flops)
                record(config, L, "parrot_" + prec, "fwd+bwd", p_fwd_bwd, 3.5 * flops)
        del q, k, v, dout, qkv32, dout32, out32, lse32, dqkv32, D
        torch.cuda.empty_cache()
    return results


def summarize(results, precisions):
    def ms(config, L, impl, pas):
        for r in results:
            if (r["config"], r["L"], r["impl"], r["pass"]) == (config, L, impl, pas) and "ms" in r:
                return r["ms"]
        return None

    ratios, linearity = [], []
    lengths = sorted({r["L"] for r in results})
    for config in CONFIGS:
        for L in lengths:
            for pas in ("fwd", "fwd+bwd"):
                flash = ms("causal", L, "sdpa_flash", pas)
                masked = ms(config, L, "sdpa_masked", pas)
                flex = ms(config, L, "flex", pas)
                for prec in precisions:
                    mine = ms(config, L, "parrot_" + prec, pas)
                    if mine is None:
                        continue
                    ratios.append({"config": config, "L": L, "pass": pas, "impl": "parrot_" + prec, "ms": mine,
                                   "vs_flash_sdpa": flash / mine if flash else None,
                                   "vs_masked_sdpa": masked / mine if masked else None,
                                   "vs_flex": flex / mine if flex else None})
    for impl in ["parrot_" + p for p in precisions] + ["flex", "sdpa_masked"]:
        for pas in ("fwd", "fwd+bwd"):
            pts = [(L, ms("window256", L, impl, pas)) for L in lengths if L >= 1024]
            pts = [(L, t) for L, t in pts if t]
            if len(pts) < 3:
                continue
            xs = [math.log(L) for L, _ in pts]
            ys = [math.log(t) for _, t in pts]
            mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
            slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
            linearity.append({"config": "window256", "impl": impl, "pass": pas, "slope": slope,
                              "linear": slope <= 1.25, "points": pts})
    return ratios, linearity


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--ptx", help="flash_attention.ptx to load")
    ap.add_argument("--jar", help="parrot.jar carrying parrot/ptx/<sm>/flash_attention.ptx")
    ap.add_argument("--tiny", action="store_true", help="correctness checks on tiny shapes only (compute-sanitizer)")
    ap.add_argument("--no-check", action="store_true", help="skip the correctness checks")
    ap.add_argument("--lengths", default="512,1024,2048,4096,8192")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--heads", type=int, default=16)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--parrot-precisions", default="bf16,tf32,fp32")
    ap.add_argument("--budget-s", type=float, default=480, help="stop starting new timings after this many seconds")
    args = ap.parse_args()
    args.lengths = [int(x) for x in args.lengths.split(",") if x]
    t_start = time.time()
    report = {"script": "bench_attention.py", "ok": False}

    def log(msg):
        print(msg, flush=True)

    def finish(code):
        report["seconds"] = time.time() - t_start
        if args.json:
            os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
            with open(args.json, "w") as f:
                json.dump(report, f, indent=1)
        sys.exit(code)

    try:
        import torch
    except ImportError as e:
        report["error"] = "no PyTorch: %s" % e
        log(report["error"])
        finish(2)
    if not torch.cuda.is_available():
        report["error"] = "PyTorch sees no CUDA device"
        log(report["error"])
        finish(2)
    if args.batch * args.heads < 64 and not args.tiny:
        log("note: B·H = %d (< 64)" % (args.batch * args.heads))
    if args.heads > MAX_HEADS:
        report["error"] = "at most %d heads" % MAX_HEADS
        finish(2)
    dev = torch.cuda.current_device()
    cap = torch.cuda.get_device_capability(dev)
    arch = "sm_80"                                     # the one PTX target (cuda.mk): JIT-compiled for the card
    report.update(device=torch.cuda.get_device_name(dev), capability="%d.%d" % cap, torch=torch.__version__,
                  cuda=torch.version.cuda, arch=arch, batch=args.batch, heads=args.heads, head_dim=64,
                  lengths=args.lengths)
    log("device %s (sm %d.%d), torch %s, CUDA %s" % (report["device"], cap[0], cap[1], torch.__version__,
                                                     torch.version.cuda))
    if cap[0] < 8:
        report["error"] = "parrot's kernels need compute capability 8.0 or newer"
        log(report["error"])
        finish(2)
    try:
        torch.zeros(1, device="cuda")                  # PyTorch's primary context, current on this thread
        drv = Driver()
        drv.ensure_context(dev)
        ptx, where = find_ptx(args, arch)
        report["ptx"] = where
        t0 = time.time()
        parrot = Parrot(torch, drv, ptx)
        report["ptx_load_seconds"] = time.time() - t0
        log("loaded %s (%.1f s)" % (where, report["ptx_load_seconds"]))
        kernels = {}
        for prec in ("fp32", "bf16", "tf32"):
            for hd in (32, 64, 128):
                p = flash_plan(prec, hd)
                for name in (p["forward"], p["backward"]):
                    f = parrot.fn(name)
                    # CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK 0, SHARED_SIZE_BYTES 1, LOCAL_SIZE_BYTES 3, NUM_REGS 4
                    kernels[name] = {"regs": drv.attribute(f, 4), "smem": drv.attribute(f, 1),
                                     "local": drv.attribute(f, 3), "max_threads": drv.attribute(f, 0)}
        report["kernels"] = kernels
    except Exception as e:
        report["error"] = "%s: %s" % (type(e).__name__, e)
        log(report["error"])
        traceback.print_exc()
        finish(2)

    ok = True
    if not args.no_check:
        checks = run_checks(torch, parrot, args.tiny)
        report["checks"] = checks
        bad = [c for c in checks if not c["ok"]]
        ok = not bad
        log("checks: %d passed, %d failed" % (len(checks) - len(bad), len(bad)))
        for c in bad[:20]:
            log("  FAIL %s %s %s: rel err %.3g > %.1g" % (c["check"], c["precision"], c["case"], c["rel_err"],
                                                          c["tol"]))
    if not args.tiny:
        try:
            precisions = [p for p in args.parrot_precisions.split(",") if p]
            results = run_timings(torch, parrot, args, t_start + args.budget_s, log)
            report["results"] = results
            report["ratios"], report["linearity"] = summarize(results, precisions)
            for r in report["ratios"]:
                if r["impl"] == "parrot_bf16":
                    log("%-10s L=%-5d %-8s parrot_bf16 %.3f ms: x%s vs flash SDPA (causal), x%s vs masked SDPA, "
                        "x%s vs FlexAttention" % (r["config"], r["L"], r["pass"], r["ms"],
                                                   *("%.2f" % x if x else "-" for x in
                                                     (r["vs_flash_sdpa"], r["vs_masked_sdpa"], r["vs_flex"]))))
            for r in report["linearity"]:
                log("window256 %-14s %-8s time ~ L^%.2f (%s)" % (r["impl"], r["pass"], r["slope"],
                                                                  "linear" if r["linear"] else "NOT linear"))
        except Exception as e:
            report["timing_error"] = "%s: %s" % (type(e).__name__, e)
            traceback.print_exc()
    report["ok"] = ok
    finish(0 if ok else 1)


if __name__ == "__main__":
    main()
